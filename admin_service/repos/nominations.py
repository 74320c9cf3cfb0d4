"""Admin-side SQL for citizens' nominations: the triage queue and its three outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

COLUMNS = """
    n.id, n.nominee, n.story, n.achievements, n.nominator_kind, n.nominator_sealed, n.status, n.candidate_id,
    n.triage_reason, n.triaged_by, n.triaged_at, n.created_at, u.email AS triaged_by_email, n.reference, n.consent,
    n.phone_confirmed
"""

QUEUE = f"""
SELECT {COLUMNS}, count(*) OVER () AS total
FROM nominations n LEFT JOIN users u ON u.id = n.triaged_by
WHERE ($1::text IS NULL OR n.status = $1)
ORDER BY n.created_at, n.id
LIMIT $2 OFFSET $3
"""

COUNT = "SELECT count(*) FROM nominations WHERE ($1::text IS NULL OR status = $1)"

GET = f"SELECT {COLUMNS} FROM nominations n LEFT JOIN users u ON u.id = n.triaged_by WHERE n.id = $1"

LOCK = "SELECT id, status FROM nominations WHERE id = $1 FOR UPDATE"

TRIAGE = """
UPDATE nominations SET status = $2, candidate_id = $3, triage_reason = $4, triaged_by = $5, triaged_at = now()
WHERE id = $1 AND status = 'received'
RETURNING id
"""

# Cards whose name matches a nominee's exactly (case-insensitive): the obvious merge targets.
SAME_NAME = """
SELECT id, full_name, region, sphere, status FROM candidates
WHERE lower(full_name) = ANY($1::text[]) ORDER BY id LIMIT 200
"""


async def queue(conn: asyncpg.Connection, *, status: str | None, limit: int,
                offset: int) -> tuple[list[asyncpg.Record], int]:
    rows = await conn.fetch(QUEUE, status, limit, offset)
    if rows:
        return rows, rows[0]["total"]
    return [], await conn.fetchval(COUNT, status)


async def get(conn: asyncpg.Connection, *, nomination_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(GET, nomination_id)


async def lock(conn: asyncpg.Connection, *, nomination_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(LOCK, nomination_id)


async def triage(conn: asyncpg.Connection, *, nomination_id: uuid.UUID, status: str, candidate_id: int | None,
                 reason: str | None, actor_id: int) -> bool:
    return await conn.fetchval(TRIAGE, nomination_id, status, candidate_id, reason, actor_id) is not None


async def same_name(conn: asyncpg.Connection, *, names: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(SAME_NAME, [n.lower() for n in names])
