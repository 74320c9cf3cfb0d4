"""The secretariat's triage queue of citizens' nominations: accept (new card), merge into a card, reject."""

from __future__ import annotations

import math

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from admin_service.auth.context import staff_of
from admin_service.auth.guards import roles
from admin_service.services import nominations as service
from admin_service.services.common import parse_id, parse_uuid
from admin_service.web.controllers.forms import form_of, int_or_none
from admin_service.web.render import page, see_other
from admin_service.state import AppServices

PER_PAGE = 20


class NominationPages(Controller):
    path = "/nominations"
    guards = [roles("secretariat", "auditor")]

    @get("/", operation_id="webNominations", include_in_schema=False)
    async def queue(self, request: Request, services: AppServices, status: FromQuery[str | None] = None) -> Response:
        current = max(1, int_or_none(request.query_params.get("page")) or 1)
        status = status if status in service.STATUSES else "received"
        items, total = await service.queue(services.pool, page=current, status=status, per_page=PER_PAGE,
                                           viewer=staff_of(request), sealer=services.contacts)
        return page(request, "nominations/queue.html", items=items, total=total, page=current, current_status=status,
                    statuses=service.STATUSES, pages=max(1, math.ceil(total / PER_PAGE)))

    @post("/{nomination_id:str}/accept", operation_id="webNominationAccept", include_in_schema=False,
          guards=[roles("secretariat")], opt={"form": True})
    async def accept(self, request: Request, services: AppServices, nomination_id: FromPath[str]) -> Response:
        done = await service.accept(services.pool, nomination_id=parse_uuid(nomination_id),
                                    actor=staff_of(request), sealer=services.contacts)
        return see_other(f"/candidates/{done['candidate_id']}?ok=accepted")

    @post("/{nomination_id:str}/merge", operation_id="webNominationMerge", include_in_schema=False,
          guards=[roles("secretariat")], opt={"form": True})
    async def merge(self, request: Request, services: AppServices, nomination_id: FromPath[str]) -> Response:
        fields = await form_of(request)
        await service.merge(services.pool, nomination_id=parse_uuid(nomination_id),
                            duplicate_of=parse_id(fields.get("candidate_id", "")), reason=fields.get("reason"),
                            actor=staff_of(request))
        return see_other("/nominations?ok=merged")

    @post("/{nomination_id:str}/reject", operation_id="webNominationReject", include_in_schema=False,
          guards=[roles("secretariat")], opt={"form": True})
    async def reject(self, request: Request, services: AppServices, nomination_id: FromPath[str]) -> Response:
        fields = await form_of(request)
        await service.reject(services.pool, nomination_id=parse_uuid(nomination_id),
                             reason=fields.get("reason"), actor=staff_of(request))
        return see_other("/nominations?ok=rejected")
