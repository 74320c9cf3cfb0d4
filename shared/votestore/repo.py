"""The one query the vote store makes of Postgres: what the flusher has written, per candidate (reconcile)."""

from __future__ import annotations

import asyncpg

COUNTS = """
SELECT candidate_id, count(*) AS votes FROM votes WHERE campaign_id = $1 GROUP BY candidate_id
"""


async def counts(conn: asyncpg.Connection, *, campaign_id: int) -> dict[int, int]:
    return {r["candidate_id"]: r["votes"] for r in await conn.fetch(COUNTS, campaign_id)}
