"""The JSON API under /api/v1: every controller here sits behind the authentication guard."""

from __future__ import annotations

from admin_service.api.audit import AuditController
from admin_service.api.campaign_votes import CampaignVotesController
from admin_service.api.campaigns import CampaignController
from admin_service.api.candidates import CandidateController, VerificationController
from admin_service.api.finalise import FinaliseController
from admin_service.api.fraud import FraudController
from admin_service.api.nominations import NominationController
from admin_service.api.session import SessionController
from admin_service.api.users import UserController

API_CONTROLLERS: list[type] = [
    SessionController, UserController, AuditController, CandidateController, VerificationController,
    NominationController, CampaignController, CampaignVotesController, FinaliseController,
    FraudController,
]
