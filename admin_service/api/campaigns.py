"""Campaigns: the working group creates, fills the ballot, publishes and closes; every role may read."""

from __future__ import annotations

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody

from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.models_domain import BallotIn, CampaignIn
from admin_service.models_out import CampaignOut, CompositionOut, ResultsOut, answer, answers
from admin_service.services import campaigns as service
from admin_service.services.common import parse_id
from admin_service.state import AppServices
from shared.http import require_json

WG = roles("working_group")


async def bodyless(request: Request) -> None:
    """For actions that take no body (publish, close, accept a nomination): a POST without a body needs no
    Content-Type; one that does send a body still sends JSON."""
    if request.headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in request.headers:
        await require_json(request)


def _id(raw: str) -> int:
    return parse_id(raw, "campaign")


class CampaignController(Controller):
    path = "/campaigns"
    tags = ["campaigns"]
    guards = [roles(*ANY_ROLE)]

    @post("/", operation_id="createCampaign", status_code=201, guards=[WG])
    async def create(self, request: Request, services: AppServices, data: JSONBody[CampaignIn]) -> CampaignOut:
        return answer(CampaignOut, await service.create(services.pool, data=data, actor=staff_of(request)))

    @get("/", operation_id="listCampaigns")
    async def list_all(self, services: AppServices) -> list[CampaignOut]:
        return answers(CampaignOut, await service.list_all(services.pool))

    @get("/{campaign_id:str}", operation_id="getCampaign")
    async def get_one(self, services: AppServices, campaign_id: FromPath[str]) -> CampaignOut:
        return answer(CampaignOut, await service.get(services.pool, campaign_id=_id(campaign_id)))

    @put("/{campaign_id:str}/ballot", operation_id="setBallot", guards=[WG])
    async def set_ballot(self, request: Request, services: AppServices, campaign_id: FromPath[str],
                         data: JSONBody[BallotIn]) -> CampaignOut:
        return answer(CampaignOut, await service.set_ballot(services.pool, campaign_id=_id(campaign_id),
                                                            candidate_ids=list(data.candidate_ids),
                                                            actor=staff_of(request)))

    @post("/{campaign_id:str}/publish", operation_id="publishCampaign", status_code=200, guards=[WG],
          before_request=bodyless)
    async def publish(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> CampaignOut:
        return answer(CampaignOut, await service.publish(services.pool, services.redis,
                                                         campaign_id=_id(campaign_id), actor=staff_of(request)))

    @post("/{campaign_id:str}/close", operation_id="closeCampaign", status_code=200, guards=[WG],
          before_request=bodyless)
    async def close(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> CampaignOut:
        return answer(CampaignOut, await service.close(services.pool, services.redis,
                                                       campaign_id=_id(campaign_id), actor=staff_of(request)))

    @get("/{campaign_id:str}/results", operation_id="campaignResults")
    async def results(self, services: AppServices, campaign_id: FromPath[str]) -> ResultsOut:
        return answer(ResultsOut, await service.results(services.pool, campaign_id=_id(campaign_id),
                                                        redis=services.redis))

    @get("/{campaign_id:str}/composition", operation_id="ballotComposition")
    async def composition(self, services: AppServices, campaign_id: FromPath[str]) -> CompositionOut:
        return answer(CompositionOut, await service.composition(services.pool, campaign_id=_id(campaign_id)))
