"""Admin-side SQL for campaigns: creation, the ballot, closing, results. Publication itself (state change,
candidates to ``on_ballot``, vote partition, projections) is in ``shared.repos.campaigns``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

COLUMNS = """
    c.id, c.slug, c.title, c.state, c.opens_at, c.closes_at, c.votes_per_voter, c.seats, c.live_results, c.shards,
    c.voter_buckets, c.published_at, c.closed_at, c.finalised_at, c.created_at, c.created_by,
    (SELECT count(*) FROM ballot_entries b WHERE b.campaign_id = c.id) AS ballot_size
"""

INSERT = """
INSERT INTO campaigns (slug, title, opens_at, closes_at, votes_per_voter, seats, live_results, shards, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
"""

GET = f"SELECT {COLUMNS} FROM campaigns c WHERE c.id = $1"

LIST_ALL = f"SELECT {COLUMNS} FROM campaigns c ORDER BY c.opens_at DESC, c.id DESC"

LOCK = "SELECT id, state, opens_at, closes_at FROM campaigns WHERE id = $1 FOR UPDATE"

BALLOT = """
SELECT b.position, k.id, k.full_name, k.region, k.sphere, k.gender, k.ethnicity, k.birth_year, k.status, k.summary
FROM ballot_entries b JOIN candidates k ON k.id = b.candidate_id
WHERE b.campaign_id = $1
ORDER BY b.position, k.id
"""

BALLOT_IDS = "SELECT candidate_id FROM ballot_entries WHERE campaign_id = $1 ORDER BY position, candidate_id"

CLEAR_BALLOT = "DELETE FROM ballot_entries WHERE campaign_id = $1"

FILL_BALLOT = """
INSERT INTO ballot_entries (campaign_id, candidate_id, position)
SELECT $1, id, n FROM unnest($2::bigint[]) WITH ORDINALITY AS t (id, n)
"""

CLOSE = """
UPDATE campaigns SET state = 'closed', closed_at = now() WHERE id = $1 AND state = 'published' RETURNING id
"""

# Per ballot candidate: every vote the flusher recorded, how many fraud review invalidated, what is left.
RESULTS = """
SELECT b.candidate_id, k.full_name, k.region, k.sphere, k.gender, b.position,
       count(v.vote_id) AS raw, count(v.invalidated_at) AS invalidated
FROM ballot_entries b
JOIN candidates k ON k.id = b.candidate_id
LEFT JOIN votes v ON v.campaign_id = b.campaign_id AND v.candidate_id = b.candidate_id
WHERE b.campaign_id = $1
GROUP BY b.candidate_id, k.full_name, k.region, k.sphere, k.gender, b.position
ORDER BY count(v.vote_id) - count(v.invalidated_at) DESC, b.candidate_id
"""


async def insert(conn: asyncpg.Connection, *, slug: str, title: dict[str, str], opens_at: datetime,
                 closes_at: datetime, votes_per_voter: int, seats: int, live_results: bool, shards: int,
                 created_by: int) -> int:
    return await conn.fetchval(INSERT, slug, title, opens_at, closes_at, votes_per_voter, seats, live_results,
                               shards, created_by)


async def get(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(GET, campaign_id)


async def list_all(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(LIST_ALL)


async def lock(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(LOCK, campaign_id)


async def ballot(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(BALLOT, campaign_id)


async def ballot_ids(conn: asyncpg.Connection, *, campaign_id: int) -> list[int]:
    return [r["candidate_id"] for r in await conn.fetch(BALLOT_IDS, campaign_id)]


async def replace_ballot(conn: asyncpg.Connection, *, campaign_id: int, candidate_ids: Sequence[int]) -> None:
    await conn.execute(CLEAR_BALLOT, campaign_id)
    if candidate_ids:
        await conn.execute(FILL_BALLOT, campaign_id, list(candidate_ids))


async def close(conn: asyncpg.Connection, *, campaign_id: int) -> bool:
    return await conn.fetchval(CLOSE, campaign_id) is not None


async def results(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(RESULTS, campaign_id)
