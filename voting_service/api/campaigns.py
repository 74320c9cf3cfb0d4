"""Published campaigns, their ballots and live results."""

from __future__ import annotations

import time

from litestar.params import FromPath
from litestar import Controller, Request, get

from voting_service.deps import services
from voting_service.models import BallotCandidate, Campaign, Results
from voting_service.services.directory import campaign_view, parse_campaign_id


class CampaignController(Controller):
    path = "/api/v1/campaigns"
    tags = ["campaigns"]

    @get("/", operation_id="listCampaigns")
    async def list_campaigns(self, request: Request) -> list[Campaign]:
        now_ms = int(time.time() * 1000)
        rows = await services(request).directory.list()
        return [Campaign(**campaign_view(r, now_ms)) for r in rows]

    @get("/{campaign_id:str}", operation_id="getCampaign")
    async def get_campaign(self, request: Request, campaign_id: FromPath[str]) -> Campaign:
        row = await services(request).directory.get(parse_campaign_id(campaign_id))
        return Campaign(**campaign_view(row, int(time.time() * 1000)))

    @get("/{campaign_id:str}/candidates", operation_id="listBallotCandidates")
    async def candidates(self, request: Request, campaign_id: FromPath[str]) -> list[BallotCandidate]:
        rows = await services(request).directory.ballot(parse_campaign_id(campaign_id))
        return [
            BallotCandidate(id=str(r["id"]), full_name=r["full_name"], region=r["region"], sphere=r["sphere"],
                            summary=r["summary"], photo_url=r["photo_url"], gender=r["gender"])
            for r in rows
        ]

    @get("/{campaign_id:str}/results", operation_id="getResults", cache=False, opt={"problems": (403,)})
    async def results(self, request: Request, campaign_id: FromPath[str]) -> Results:
        data = await services(request).results.live(parse_campaign_id(campaign_id))
        return Results(**data)
