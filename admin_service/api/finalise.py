"""Finalisation of a campaign (working group) and the frozen result it leaves (every role may read it)."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Stream

from admin_service.api.campaigns import bodyless
from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.models_out import FinalisationOut, FinalisationPreviewOut, answer
from admin_service.services import finalise as service
from admin_service.services.common import parse_id
from admin_service.services.selection import Policy
from admin_service.state import AppServices


class FinaliseIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The body is optional: none (or ``{}``) means the default policy, ``{"kind": "top_votes"}``. The
    string ``"top_votes"`` (the form of the first clients) is still accepted."""
    policy: Policy | Literal["top_votes"] | None = None


class FinaliseController(Controller):
    path = "/campaigns/{campaign_id:str}"
    tags = ["campaigns"]

    @post("/finalise", operation_id="finaliseCampaign", status_code=200, guards=[roles("working_group")],
          before_request=bodyless)
    async def finalise(self, request: Request, services: AppServices, campaign_id: FromPath[str],
                       data: JSONBody[FinaliseIn | None] = None) -> FinalisationOut:
        data = data or FinaliseIn()
        return answer(FinalisationOut, await service.finalise(
            services.pool, services.redis, campaign_id=parse_id(campaign_id, "campaign"),
            policy=data.policy, actor=staff_of(request), signer=services.tree_heads))

    @post("/finalise/preview", operation_id="previewFinalisation", status_code=200,
          guards=[roles("working_group", "auditor")], before_request=bodyless)
    async def preview(self, request: Request, services: AppServices, campaign_id: FromPath[str],
                      data: JSONBody[FinaliseIn | None] = None) -> FinalisationPreviewOut:
        """The list ``finalise`` would freeze now under ``policy``, with its report; nothing is frozen."""
        data = data or FinaliseIn()
        return answer(FinalisationPreviewOut, await service.preview(
            services.pool, services.redis, campaign_id=parse_id(campaign_id, "campaign"),
            policy=data.policy, actor=staff_of(request)))

    @get("/finalisation", operation_id="campaignFinalisation", guards=[roles(*ANY_ROLE)])
    async def snapshot(self, services: AppServices, campaign_id: FromPath[str]) -> FinalisationOut:
        return answer(FinalisationOut,
                      await service.get(services.pool, campaign_id=parse_id(campaign_id, "campaign")))

    @get("/counted-votes.txt", operation_id="countedVotes", guards=[roles(*ANY_ROLE)], media_type="text/plain")
    async def counted_votes(self, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        lines = await service.counted_votes_lines(services.pool, campaign_id=cid)
        return Stream(lines, media_type="text/plain; charset=utf-8",
                      headers={"Content-Disposition": f'inline; filename="campaign-{cid}-counted-votes.txt"'})
