"""SQL for verification requests to the regional internal-policy departments."""

from __future__ import annotations

import asyncpg

COLUMNS = """
    v.id, v.candidate_id, v.authority, v.question, v.status, v.notes, v.requested_by, v.requested_at,
    v.answered_by, v.answered_at, ru.email AS requested_by_email, au.email AS answered_by_email
"""

INSERT = """
INSERT INTO verification_requests (candidate_id, authority, question, requested_by)
VALUES ($1, $2, $3, $4)
RETURNING id
"""

GET = f"""
SELECT {COLUMNS} FROM verification_requests v
JOIN users ru ON ru.id = v.requested_by LEFT JOIN users au ON au.id = v.answered_by
WHERE v.id = $1
"""

LOCK = "SELECT id, candidate_id, status FROM verification_requests WHERE id = $1 FOR UPDATE"

ANSWER = """
UPDATE verification_requests SET status = $2, notes = $3, answered_by = $4, answered_at = now()
WHERE id = $1 AND status = 'sent'
RETURNING id
"""

FOR_CANDIDATE = f"""
SELECT {COLUMNS} FROM verification_requests v
JOIN users ru ON ru.id = v.requested_by LEFT JOIN users au ON au.id = v.answered_by
WHERE v.candidate_id = $1 ORDER BY v.requested_at, v.id
"""

OUTCOMES = """
SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE status = 'refuted') AS refuted,
       count(*) FILTER (WHERE status = 'sent') AS pending
FROM verification_requests WHERE candidate_id = $1
"""


async def insert(conn: asyncpg.Connection, *, candidate_id: int, authority: str, question: str,
                 requested_by: int) -> int:
    return await conn.fetchval(INSERT, candidate_id, authority, question, requested_by)


async def get(conn: asyncpg.Connection, *, request_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(GET, request_id)


async def lock(conn: asyncpg.Connection, *, request_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(LOCK, request_id)


async def answer(conn: asyncpg.Connection, *, request_id: int, outcome: str, notes: str, actor_id: int) -> bool:
    return await conn.fetchval(ANSWER, request_id, outcome, notes, actor_id) is not None


async def for_candidate(conn: asyncpg.Connection, *, candidate_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(FOR_CANDIDATE, candidate_id)


async def outcomes(conn: asyncpg.Connection, *, candidate_id: int) -> asyncpg.Record:
    return await conn.fetchrow(OUTCOMES, candidate_id)
