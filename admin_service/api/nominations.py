"""Triage of citizens' nominations (secretariat; auditors may read the queue, without contact details)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from admin_service.api.campaigns import bodyless
from admin_service.auth.context import staff_of
from admin_service.auth.guards import roles
from admin_service.models_domain import MergeIn, RejectIn
from admin_service.models_out import NominationOut, Page, TriageOut, answer
from admin_service.services import nominations as service
from admin_service.services.common import parse_body_id, parse_uuid
from admin_service.state import AppServices


# services.nominations.STATUSES, "all" (or empty) for every status.
QueueFilter = Literal["received", "accepted", "merged", "rejected", "all", ""]


class NominationController(Controller):
    path = "/nominations"
    tags = ["nominations"]
    guards = [roles("secretariat", "auditor")]

    @get("/", operation_id="listNominations")
    async def queue(self, request: Request, services: AppServices, status: FromQuery[QueueFilter | None] = "received",
                    page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1) -> Page:
        status = None if status in (None, "", "all") else status
        items, total = await service.queue(services.pool, page=page, status=status,
                                           viewer=staff_of(request), sealer=services.contacts)
        return Page(items=items, total=total, page=page, per_page=service.PER_PAGE)

    @get("/{nomination_id:str}", operation_id="getNomination")
    async def get_one(self, request: Request, services: AppServices, nomination_id: FromPath[str]) -> NominationOut:
        return answer(NominationOut, await service.get(services.pool, nomination_id=parse_uuid(nomination_id),
                                                       viewer=staff_of(request), sealer=services.contacts))

    @post("/{nomination_id:str}/accept", operation_id="acceptNomination", status_code=200,
          guards=[roles("secretariat")], before_request=bodyless)
    async def accept(self, request: Request, services: AppServices, nomination_id: FromPath[str]) -> TriageOut:
        return answer(TriageOut, await service.accept(services.pool, nomination_id=parse_uuid(nomination_id),
                                                      actor=staff_of(request), sealer=services.contacts))

    @post("/{nomination_id:str}/merge", operation_id="mergeNomination", status_code=200,
          guards=[roles("secretariat")])
    async def merge(self, request: Request, services: AppServices, nomination_id: FromPath[str],
                    data: JSONBody[MergeIn]) -> TriageOut:
        return answer(TriageOut, await service.merge(services.pool, nomination_id=parse_uuid(nomination_id),
                                                     duplicate_of=parse_body_id(data.candidate_id),
                                                     reason=data.reason, actor=staff_of(request)))

    @post("/{nomination_id:str}/reject", operation_id="rejectNomination", status_code=200,
          guards=[roles("secretariat")])
    async def reject(self, request: Request, services: AppServices, nomination_id: FromPath[str],
                     data: JSONBody[RejectIn]) -> TriageOut:
        return answer(TriageOut, await service.reject(services.pool, nomination_id=parse_uuid(nomination_id),
                                                      reason=data.reason, actor=staff_of(request)))
