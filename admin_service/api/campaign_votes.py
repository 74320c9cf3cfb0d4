"""Fraud review's invalidations and the results export of a campaign."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.models_out import InvalidationOut, answer
from admin_service.services import invalidations as service
from admin_service.services.common import parse_id
from admin_service.state import AppServices
from shared.errors import InvalidRequest
from shared.text import CleanInput, prose


class InvalidationIn(CleanInput, forbid_unknown_fields=True, frozen=True):
    reason: prose(1, 2000)
    vote_ids: Annotated[list[Annotated[str, Meta(max_length=96)]], Meta(max_length=10_000)] | None = None
    cluster_id: Annotated[str, Meta(max_length=64)] | None = None


class CampaignVotesController(Controller):
    path = "/campaigns/{campaign_id:str}"
    tags = ["campaigns"]

    @post("/invalidations", operation_id="invalidateVotes", status_code=200, guards=[roles("working_group")])
    async def invalidate(self, request: Request, services: AppServices, campaign_id: FromPath[str],
                         data: JSONBody[InvalidationIn]) -> InvalidationOut:
        cid = parse_id(campaign_id, "campaign")
        if data.cluster_id is not None:
            if data.vote_ids:
                raise InvalidRequest("Give either vote_ids or cluster_id, not both.", extra={"field": "cluster_id"},
                                     key="invalid")
            done = await service.invalidate_cluster(services.pool, campaign_id=cid,
                                                    cluster_id=data.cluster_id, reason=data.reason,
                                                    actor=staff_of(request))
        else:
            if not data.vote_ids:
                raise InvalidRequest("Give the vote_ids to invalidate.", extra={"field": "vote_ids"}, key="invalid")
            done = await service.invalidate(services.pool, campaign_id=cid, vote_ids=data.vote_ids,
                                            reason=data.reason, actor=staff_of(request))
        services.fraud_flags.forget(cid)  # the listing shows the new counts at once
        return answer(InvalidationOut, done)

    @get("/export.csv", operation_id="exportResults", guards=[roles(*ANY_ROLE)], media_type="text/csv")
    async def export(self, services: AppServices, campaign_id: FromPath[str]) -> Response[str]:
        cid = parse_id(campaign_id, "campaign")
        body = await service.export_csv(services.pool, campaign_id=cid)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="campaign-{cid}-results.csv"'})
