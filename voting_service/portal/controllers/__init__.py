"""The portal's controllers; a new page module adds its controller class to ``PAGES``."""

from __future__ import annotations

from voting_service.portal.controllers.assets import AssetFiles
from voting_service.portal.controllers.campaigns import CampaignPages
from voting_service.portal.controllers.site import SitePages

PAGES: list[type] = [SitePages, CampaignPages, AssetFiles]
