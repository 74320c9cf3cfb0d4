"""The portal's controllers; a new page module adds its controller class to ``PAGES``."""

from __future__ import annotations

from voting_service.portal.controllers.assets import AssetFiles
from voting_service.portal.controllers.campaigns import CampaignPages
from voting_service.portal.controllers.my_votes import MyVotesPage
from voting_service.portal.controllers.nominate import NominatePages
from voting_service.portal.controllers.receipts import ReceiptPages
from voting_service.portal.controllers.signin import SignInPages
from voting_service.portal.controllers.site import SitePages
from voting_service.portal.controllers.vote import VotePages

PAGES: list[type] = [SitePages, CampaignPages, AssetFiles, SignInPages, VotePages, MyVotesPage, ReceiptPages,
                     NominatePages]
