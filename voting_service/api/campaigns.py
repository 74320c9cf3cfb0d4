"""Published campaigns, their ballots and live results."""

from __future__ import annotations

import time

import msgspec

from litestar import Controller, get
from litestar.params import FromPath

from voting_service.models import BallotCandidate, Campaign, Results, ResultSnapshot, TreeHead
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
        return msgspec.convert(data, Results)

    @get("/{campaign_id:str}/tree-head", operation_id="getTreeHead")
    async def tree_head(self, campaign_id: FromPath[str], services: AppServices) -> TreeHead:
        """The signed tree head of a finalised campaign; 404 ``not_finalised`` before (docs/verify.md)."""
        return TreeHead(**await services.results.tree_head(parse_campaign_id(campaign_id)))

    @get("/{campaign_id:str}/snapshot", operation_id="getResultSnapshot")
    async def snapshot(self, campaign_id: FromPath[str], services: AppServices) -> ResultSnapshot:
        """The frozen result whose SHA-256 (canonical JSON) is the signed ``digest``; 404 before finalisation."""
        return ResultSnapshot(**await services.results.snapshot(parse_campaign_id(campaign_id)))
