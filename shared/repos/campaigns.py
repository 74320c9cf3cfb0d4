"""SQL for campaigns and ballots shared by both services (the admin service adds its own writes)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.votestore.projection import CampaignProjection

CAMPAIGN_COLUMNS = """
    c.id, c.slug, c.title, c.state, c.opens_at, c.closes_at, c.votes_per_voter, c.seats,
    c.live_results, c.shards, c.voter_buckets, c.published_at, c.closed_at, c.finalised_at
"""

LIST_VISIBLE = f"""
SELECT {CAMPAIGN_COLUMNS} FROM campaigns c
WHERE c.state <> 'draft'
ORDER BY c.opens_at DESC, c.id DESC
"""

GET_VISIBLE = f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.id = $1 AND c.state <> 'draft'"

# The public card: what the ballot, the candidate pages and the final 100 show (texts: shared/texts.py).
BALLOT = """
SELECT k.id, k.full_name, k.region, k.sphere, k.gender, k.summary, k.photo_url, k.story, k.achievements,
       k.text_lang, k.texts
FROM ballot_entries b JOIN candidates k ON k.id = b.candidate_id
WHERE b.campaign_id = $1
ORDER BY b.position, k.id
"""

PROJECTIONS = """
SELECT c.id, c.state, c.opens_at, c.closes_at, c.votes_per_voter, c.live_results, c.shards, c.voter_buckets,
       coalesce(array_agg(b.candidate_id ORDER BY b.position) FILTER (WHERE b.candidate_id IS NOT NULL), '{}')
           AS candidate_ids
FROM campaigns c LEFT JOIN ballot_entries b ON b.campaign_id = c.id
WHERE c.state <> 'draft' AND ($1::bigint IS NULL OR c.id = $1)
GROUP BY c.id
"""

MARK_PUBLISHED = """
UPDATE campaigns SET state = 'published', published_at = now() WHERE id = $1 AND state = 'draft' RETURNING id
"""

BALLOT_ON_BALLOT = """
UPDATE candidates SET status = 'on_ballot', updated_at = now()
WHERE id IN (SELECT candidate_id FROM ballot_entries WHERE campaign_id = $1) AND status = 'shortlisted'
RETURNING id
"""


async def list_visible(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(LIST_VISIBLE)


async def get_visible(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(GET_VISIBLE, campaign_id)


async def ballot(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(BALLOT, campaign_id)


async def projections(conn: asyncpg.Connection, *, campaign_id: int | None = None) -> list[CampaignProjection]:
    rows = await conn.fetch(PROJECTIONS, campaign_id)
    return [
        CampaignProjection(
            id=r["id"], state=r["state"], opens_at=r["opens_at"], closes_at=r["closes_at"],
            votes_per_voter=r["votes_per_voter"], live_results=r["live_results"], shards=r["shards"],
            voter_buckets=r["voter_buckets"], candidate_ids=tuple(r["candidate_ids"]),
        )
        for r in rows
    ]


# The services may not CREATE: this owner-defined function (migration 0005) creates just that partition.
ENSURE_VOTE_PARTITION = "SELECT faces_ensure_votes_partition($1)"


async def ensure_vote_partition(conn: asyncpg.Connection, *, campaign_id: int) -> None:
    """One partition of ``votes`` per campaign; created before the first vote can arrive."""
    await conn.execute(ENSURE_VOTE_PARTITION, int(campaign_id))


async def mark_published(conn: asyncpg.Connection, *, campaign_id: int) -> bool:
    """Draft -> published in the database (the caller projects to Redis after commit)."""
    await ensure_vote_partition(conn, campaign_id=campaign_id)
    published = await conn.fetchval(MARK_PUBLISHED, campaign_id)
    await conn.fetch(BALLOT_ON_BALLOT, campaign_id)
    return published is not None


def public_status(row: Any, now_ms: int) -> str:
    """draft / scheduled / open / closed / finalised, from the staff state and the clock."""
    state = row["state"]
    if state in ("draft", "finalised", "closed"):
        return state
    if now_ms < int(row["opens_at"].timestamp() * 1000):
        return "scheduled"
    if now_ms >= int(row["closes_at"].timestamp() * 1000):
        return "closed"
    return "open"
