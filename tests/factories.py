"""Test data built through the same code paths production uses (SQL + publication projection); the load
tests publish their campaigns with the same helper (devtools/campaigns.py)."""

from __future__ import annotations

from devtools.campaigns import Campaign as PublishedCampaign
from devtools.campaigns import publish_campaign as make_campaign

__all__ = ["PublishedCampaign", "make_campaign"]
