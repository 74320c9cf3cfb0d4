"""SQL for the expert group's motivated conclusions (one per expert per candidate)."""

from __future__ import annotations

import asyncpg

INSERT = """
INSERT INTO expert_reviews (candidate_id, expert_id, recommend, motivation)
VALUES ($1, $2, $3, $4)
RETURNING id, candidate_id, expert_id, recommend, motivation, created_at
"""

FOR_CANDIDATE = """
SELECT r.id, r.candidate_id, r.expert_id, u.email AS expert_email, r.recommend, r.motivation, r.created_at
FROM expert_reviews r JOIN users u ON u.id = r.expert_id
WHERE r.candidate_id = $1 ORDER BY r.created_at, r.id
"""

COUNT = "SELECT count(*) FROM expert_reviews WHERE candidate_id = $1"


async def insert(conn: asyncpg.Connection, *, candidate_id: int, expert_id: int, recommend: bool,
                 motivation: str) -> asyncpg.Record:
    return await conn.fetchrow(INSERT, candidate_id, expert_id, recommend, motivation)


async def for_candidate(conn: asyncpg.Connection, *, candidate_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(FOR_CANDIDATE, candidate_id)


async def count(conn: asyncpg.Connection, *, candidate_id: int) -> int:
    return await conn.fetchval(COUNT, candidate_id)
