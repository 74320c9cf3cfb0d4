"""Every state change of the admin service goes through ``record``, in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from admin_service.auth.context import Staff
from admin_service.repos import audit as repo


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "<binary>"  # sealed contact details never enter the audit log
    if hasattr(value, "items"):  # asyncpg.Record
        return _jsonable(dict(value.items()))
    return value


async def record(conn: asyncpg.Connection, *, actor: Staff | None, action: str, entity_type: str,
                 entity_id: str | int, old: Any = None, new: Any = None, reason: str = "") -> None:
    await repo.insert(
        conn,
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        old=_jsonable(old),
        new=_jsonable(new),
        reason=reason,
        client_ip_hash=(actor.ip_hash or None) if actor else None,
    )
