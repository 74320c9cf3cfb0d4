"""SQL of the finalisation: the counts it ranks, the counted vote ids it hashes, the immutable snapshot
(``campaign_results``, which the database refuses to UPDATE or DELETE) and the state changes it makes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

# Per ballot candidate: raw (recorded), invalidated, valid and the time of the first valid vote (tie-break).
COUNTS = """
SELECT b.candidate_id, b.position, k.full_name, k.region, k.sphere, k.gender, k.ethnicity, k.status,
       count(v.vote_id) AS raw, count(v.invalidated_at) AS invalidated,
       min(v.cast_at) FILTER (WHERE v.vote_id IS NOT NULL AND v.invalidated_at IS NULL) AS first_valid_at
FROM ballot_entries b
JOIN candidates k ON k.id = b.candidate_id
LEFT JOIN votes v ON v.campaign_id = b.campaign_id AND v.candidate_id = b.candidate_id
WHERE b.campaign_id = $1
GROUP BY b.candidate_id, b.position, k.full_name, k.region, k.sphere, k.gender, k.ethnicity, k.status
ORDER BY b.candidate_id
"""

# The votes the result counts: valid (not invalidated) votes for ballot candidates. Byte order ("C").
COUNTED_IDS = """
SELECT v.vote_id FROM votes v
WHERE v.campaign_id = $1 AND v.invalidated_at IS NULL
  AND v.candidate_id IN (SELECT candidate_id FROM ballot_entries WHERE campaign_id = $1)
ORDER BY v.vote_id COLLATE "C"
"""

INSERT_SNAPSHOT = """
INSERT INTO campaign_results (campaign_id, finalised_by, finalised_by_id, policy, seats, counts, digest,
                              merkle_root, counted_votes, report)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING finalised_at
"""

GET_SNAPSHOT = """
SELECT campaign_id, finalised_at, finalised_by, policy, seats, counts, digest, merkle_root, merkle_scheme,
       counted_votes, report
FROM campaign_results WHERE campaign_id = $1
"""

MARK_FINALISED = """
UPDATE campaigns SET state = 'finalised', finalised_at = $2 WHERE id = $1 AND state = 'closed' RETURNING id
"""

# Only candidates still on the ballot move; returns the ones that did.
SET_STATUS_FROM_ON_BALLOT = """
UPDATE candidates SET status = $2, updated_at = now()
WHERE id = ANY($1::bigint[]) AND status = 'on_ballot'
RETURNING id
"""


async def counts(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(COUNTS, campaign_id, timeout=600)  # millions of votes: longer than a request


async def iter_counted_ids(conn: asyncpg.Connection, *, campaign_id: int,
                           chunk: int = 10_000) -> AsyncIterator[list[str]]:
    """The counted vote ids in byte order, a chunk at a time, from a server-side cursor (``conn`` must be in
    a transaction): never a list of millions."""
    cursor = await conn.cursor(COUNTED_IDS, campaign_id)
    while True:
        rows = await cursor.fetch(chunk)
        if not rows:
            return
        yield [r["vote_id"] for r in rows]


async def stream_counted_ids(pool: asyncpg.Pool, *, campaign_id: int) -> AsyncIterator[list[str]]:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        async for ids in iter_counted_ids(conn, campaign_id=campaign_id):
            yield ids


async def insert_snapshot(conn: asyncpg.Connection, *, campaign_id: int, finalised_by: str,
                          finalised_by_id: int | None, policy: str, seats: list[dict[str, Any]],
                          counts: list[dict[str, Any]], digest: str, merkle_root: str, counted_votes: int,
                          report: dict[str, Any]) -> Any:
    return await conn.fetchval(INSERT_SNAPSHOT, campaign_id, finalised_by, finalised_by_id, policy, seats, counts,
                               digest, merkle_root, counted_votes, report)


async def snapshot(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(GET_SNAPSHOT, campaign_id)


async def mark_finalised(conn: asyncpg.Connection, *, campaign_id: int, at: Any) -> bool:
    return await conn.fetchval(MARK_FINALISED, campaign_id, at) is not None


async def move_from_on_ballot(conn: asyncpg.Connection, *, candidate_ids: Sequence[int], to: str) -> set[int]:
    if not candidate_ids:
        return set()
    return {r["id"] for r in await conn.fetch(SET_STATUS_FROM_ON_BALLOT, list(candidate_ids), to)}
