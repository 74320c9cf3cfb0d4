"""Page controllers of the admin UI (server-rendered; every route is behind the authentication guard)."""

from __future__ import annotations

from admin_service.web.controllers.account import AccountPages
from admin_service.web.controllers.audit import AuditPage
from admin_service.web.controllers.auth import AuthPages, SignOutPage
from admin_service.web.controllers.campaigns import CampaignPages
from admin_service.web.controllers.candidates import CandidatePages, VerificationPages
from admin_service.web.controllers.fraud import FraudPages
from admin_service.web.controllers.home import HomePage
from admin_service.web.controllers.nominations import NominationPages
from admin_service.web.controllers.results import ResultsPages
from admin_service.web.controllers.users import UserPages

PAGES: list[type] = [AuthPages, SignOutPage, HomePage, CandidatePages, VerificationPages, NominationPages,
                     CampaignPages, ResultsPages, FraudPages, AuditPage, UserPages, AccountPages]
