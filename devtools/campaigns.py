"""A published campaign for the tests and the load tests: candidates, a ballot, published in Postgres and
projected to Redis the way the admin service publishes one (shared/repos/campaigns.py, the projection)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from shared.votestore.projection import project
from shared.repos import campaigns as campaigns_repo

REGIONS = ("KZ-75", "KZ-71", "KZ-79", "KZ-61", "KZ-19")
SPHERES = ("education_science", "healthcare", "culture_sport", "social", "socio_economic")

INSERT_CANDIDATE = """
INSERT INTO candidates (full_name, region, sphere, gender, birth_year, summary, story, achievements, source_kind,
                        status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'akimat', 'shortlisted') RETURNING id
"""
INSERT_CAMPAIGN = """
INSERT INTO campaigns (slug, title, opens_at, closes_at, votes_per_voter, seats, live_results, shards, voter_buckets)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
"""
INSERT_BALLOT = "INSERT INTO ballot_entries (campaign_id, candidate_id, position) VALUES ($1, $2, $3)"
TITLE = {"kk": "Сынақ", "ru": "Тест", "en": "Test"}


@dataclass(frozen=True)
class Campaign:
    id: int
    candidate_ids: list[int]
    k: int
    shards: int = 1
    voter_buckets: int = 1024


async def publish_campaign(
    pool: asyncpg.Pool, r: aioredis.Redis, *, candidates: int = 5, k: int = 3, live_results: bool = True,
    opens_in: dt.timedelta = dt.timedelta(hours=-1), lasts: dt.timedelta = dt.timedelta(days=1),
    shards: int = 1, voter_buckets: int = 1024, publish: bool = True, slug_prefix: str = "t", seats: int = 100,
    cards: Sequence[Any] | None = None,
) -> Campaign:
    """``candidates`` shortlisted cards (names unique to this call) on the ballot of a new campaign open from
    ``opens_in`` for ``lasts``; published and projected unless ``publish`` is false (then it is a draft).
    ``cards`` (e.g. devtools.demo.generate_candidates: full_name, region, sphere, gender, birth_year, summary,
    story, achievements) replace the numbered placeholders, one candidate each."""
    opens = dt.datetime.now(dt.UTC) + opens_in
    tag = uuid.uuid4().hex[:6]
    async with pool.acquire() as conn, conn.transaction():
        if cards is None:
            rows = [(f"Кандидат {tag}-{i:04d}", REGIONS[i % 5], SPHERES[i % 5], "female" if i % 2 else "male",
                     1980 + i % 20, "Краткое описание", "История успеха кандидата.", [])
                    for i in range(candidates)]
        else:
            rows = [(c.full_name, c.region, c.sphere, c.gender, c.birth_year, c.summary, c.story,
                     [{"claim": a.claim, "evidence_url": a.evidence_url} for a in c.achievements]) for c in cards]
        ids = [await conn.fetchval(INSERT_CANDIDATE, *row) for row in rows]
        cid = await conn.fetchval(INSERT_CAMPAIGN, f"{slug_prefix}-{uuid.uuid4().hex[:12]}", TITLE, opens,
                                  opens + lasts, k, seats, live_results, shards, voter_buckets)
        await conn.executemany(INSERT_BALLOT, [(cid, c, n) for n, c in enumerate(ids)])
        if publish:
            await campaigns_repo.mark_published(conn, campaign_id=cid)
    if publish:
        async with pool.acquire() as conn:
            (proj,) = await campaigns_repo.projections(conn, campaign_id=cid)
        await project(r, proj)
    return Campaign(cid, ids, k, shards, voter_buckets)
