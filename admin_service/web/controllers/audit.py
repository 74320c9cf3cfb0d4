"""The audit log page (admin, auditor): newest first, filters by entity and actor, paged by id."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from admin_service.auth.guards import roles
from admin_service.repos import audit as repo
from admin_service.web.controllers.forms import int_or_none
from admin_service.web.render import page
from admin_service.state import AppServices

PER_PAGE = 50


class AuditPage(Controller):
    path = "/audit"
    guards = [roles("admin", "auditor")]

    @get("/", operation_id="webAudit", include_in_schema=False)
    async def audit(self, request: Request, services: AppServices, entity: FromQuery[str | None] = None,
                    actor: FromQuery[str | None] = None, action: FromQuery[str | None] = None,
                    before: FromQuery[str | None] = None) -> Response:
        entity, actor, action = (v.strip() or None if v else None for v in (entity, actor, action))
        async with services.pool.acquire() as conn:
            rows = await repo.list_entries(conn, entity=entity, actor=actor, action=action,
                                           before_id=int_or_none(before), limit=PER_PAGE)
        next_before = str(rows[-1]["id"]) if len(rows) == PER_PAGE else None
        return page(request, "audit.html", entries=rows, entity=entity or "", actor=actor or "",
                    action=action or "", next_before=next_before)
