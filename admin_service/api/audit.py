"""The audit log, newest first, filterable by entity, actor and action (admin and auditor)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from admin_service.auth.guards import roles
from admin_service.models import AuditEntry, AuditPage
from admin_service.repos import audit as repo
from admin_service.state import AppServices
from shared.text import NO_NUL


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [roles("admin", "auditor")]

    @get("/", operation_id="listAudit")
    async def list_entries(
        self, services: AppServices,
        entity: Annotated[str | None, QueryParameter(max_length=200, schema_extra={"pattern": NO_NUL})] = None,
        actor: Annotated[str | None, QueryParameter(max_length=254, schema_extra={"pattern": NO_NUL})] = None,
        action: Annotated[str | None, QueryParameter(max_length=100, schema_extra={"pattern": NO_NUL})] = None,
        before: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,  # a bigint id
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> AuditPage:
        async with services.pool.acquire() as conn:
            rows = await repo.list_entries(conn, entity=entity, actor=actor, action=action, before_id=before,
                                           limit=limit)
        items = [AuditEntry(id=str(r["id"]), at=r["at"], actor=r["actor_email"], action=r["action"],
                            entity_type=r["entity_type"], entity_id=r["entity_id"], old=r["old_value"],
                            new=r["new_value"], reason=r["reason"], client_ip_hash=r["client_ip_hash"])
                 for r in rows]
        return AuditPage(items=items, next_before=items[-1].id if len(items) == limit else None)
