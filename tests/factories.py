"""Test data built through the same code paths production uses (SQL + publication projection)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from shared.votestore.projection import project
from shared.repos import campaigns as campaigns_repo

_REGIONS = ["KZ-75", "KZ-71", "KZ-79", "KZ-61", "KZ-19"]
_SPHERES = ["education_science", "healthcare", "culture_sport", "social", "socio_economic"]

INSERT_CANDIDATE = """
INSERT INTO candidates (full_name, region, sphere, gender, birth_year, summary, story, source_kind, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'akimat', 'shortlisted') RETURNING id
"""
INSERT_CAMPAIGN = """
INSERT INTO campaigns (slug, title, opens_at, closes_at, votes_per_voter, seats, live_results, shards, voter_buckets)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
"""


@dataclass
class PublishedCampaign:
    id: int
    candidate_ids: list[int]
    k: int


async def make_campaign(
    pool: asyncpg.Pool, r: aioredis.Redis, *, candidates: int = 5, k: int = 3, live_results: bool = True,
    opens_in: dt.timedelta = dt.timedelta(hours=-1), lasts: dt.timedelta = dt.timedelta(days=1),
    shards: int = 1, voter_buckets: int = 1024, publish: bool = True,
) -> PublishedCampaign:
    now = dt.datetime.now(dt.UTC)
    opens = now + opens_in
    counter = itertools.count()
    async with pool.acquire() as conn, conn.transaction():
        ids = []
        for _ in range(candidates):
            i = next(counter)
            ids.append(await conn.fetchval(
                INSERT_CANDIDATE, f"Кандидат {uuid.uuid4().hex[:6]}", _REGIONS[i % 5], _SPHERES[i % 5],
                "female" if i % 2 else "male", 1980 + i % 20, "Краткое описание", "История успеха кандидата.",
            ))
        cid = await conn.fetchval(
            INSERT_CAMPAIGN, f"t-{uuid.uuid4().hex[:12]}", {"kk": "Сынақ", "ru": "Тест", "en": "Test"},
            opens, opens + lasts, k, 100, live_results, shards, voter_buckets,
        )
        await conn.executemany(
            "INSERT INTO ballot_entries (campaign_id, candidate_id, position) VALUES ($1, $2, $3)",
            [(cid, c, n) for n, c in enumerate(ids)],
        )
        if publish:
            await campaigns_repo.mark_published(conn, campaign_id=cid)
    if publish:
        async with pool.acquire() as conn:
            (proj,) = await campaigns_repo.projections(conn, campaign_id=cid)
        await project(r, proj)
    return PublishedCampaign(cid, ids, k)
