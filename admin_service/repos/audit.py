"""SQL for the append-only audit log."""

from __future__ import annotations

from typing import Any

import asyncpg

INSERT = """
INSERT INTO audit_log (actor_id, actor_email, action, entity_type, entity_id, old_value, new_value, reason,
                       client_ip_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""

LIST = """
SELECT id, at, actor_id, actor_email, action, entity_type, entity_id, old_value, new_value, reason, client_ip_hash
FROM audit_log
WHERE ($1::text IS NULL OR entity_type = $1 OR entity_type || ':' || entity_id = $1)
  AND ($2::text IS NULL OR actor_email = $2)
  AND ($3::text IS NULL OR action = $3)
  AND ($4::bigint IS NULL OR id < $4)
ORDER BY id DESC
LIMIT $5
"""

# The whole chain in order, jsonb as its text form (what the hash covers): admin_service/audit_chain.py.
CHAIN_ROWS = """
SELECT id, chain_seq, at, actor_id, actor_email, action, entity_type, entity_id,
       old_value::text AS old_value, new_value::text AS new_value, reason, client_ip_hash, prev_hash, entry_hash
FROM audit_log ORDER BY chain_seq
"""


async def insert(conn: asyncpg.Connection, *, actor_id: int | None, actor_email: str, action: str,
                 entity_type: str, entity_id: str, old: Any, new: Any, reason: str,
                 client_ip_hash: str | None = None) -> None:
    await conn.execute(INSERT, actor_id, actor_email, action, entity_type, entity_id, old, new, reason,
                       client_ip_hash)


async def list_entries(conn: asyncpg.Connection, *, entity: str | None, actor: str | None, action: str | None,
                       before_id: int | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(LIST, entity, actor, action, before_id, limit)
