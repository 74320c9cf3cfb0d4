"""Published campaigns, their ballots and live results."""

from __future__ import annotations

import time

from litestar import Controller, get
from litestar.params import FromPath

from voting_service.models import BallotCandidate, Campaign, Results
from voting_service.services.directory import ballot_candidate, campaign_view, parse_campaign_id
from voting_service.state import AppServices


class CampaignController(Controller):
    path = "/api/v1/campaigns"
    tags = ["campaigns"]

    @get("/", operation_id="listCampaigns")
    async def list_campaigns(self, services: AppServices) -> list[Campaign]:
        now_ms = int(time.time() * 1000)
        rows = await services.directory.list()
        return [Campaign(**campaign_view(r, now_ms)) for r in rows]

    @get("/{campaign_id:str}", operation_id="getCampaign")
    async def get_campaign(self, campaign_id: FromPath[str], services: AppServices) -> Campaign:
        row = await services.directory.get(parse_campaign_id(campaign_id))
        return Campaign(**campaign_view(row, int(time.time() * 1000)))

    @get("/{campaign_id:str}/candidates", operation_id="listBallotCandidates")
    async def candidates(self, campaign_id: FromPath[str], services: AppServices) -> list[BallotCandidate]:
        rows = await services.directory.ballot(parse_campaign_id(campaign_id))
        return [ballot_candidate(r) for r in rows]

    @get("/{campaign_id:str}/results", operation_id="getResults", cache=False, opt={"problems": (403,)})
    async def results(self, campaign_id: FromPath[str], services: AppServices) -> Results:
        data = await services.results.live(parse_campaign_id(campaign_id))
        return Results(**data)
