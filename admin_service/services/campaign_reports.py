"""Read-only views of a campaign: results (raw / invalidated / valid per ballot candidate) and the ballot's
composition by region, sphere, gender and ethnicity next to the population's shares (the concept asks for a
list proportional to the population by region, with ethnic and gender diversity)."""

from __future__ import annotations

from typing import Any

import asyncpg
import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from admin_service.repos import campaigns as repo
from shared.composition import composition_of
from shared.errors import NotFound
from shared.votestore.tally import tallies


async def _campaign(conn: asyncpg.Connection, campaign_id: int) -> asyncpg.Record:
    row = await repo.get(conn, campaign_id=campaign_id)
    if row is None:
        raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
    return row


async def results(pool: asyncpg.Pool, *, campaign_id: int, redis: aioredis.Redis | None = None) -> dict[str, Any]:
    """Per ballot candidate, from the votes table: ``raw`` (recorded), ``invalidated`` (by fraud review),
    ``valid`` = raw - invalidated; ordered by valid votes. With ``redis``, also ``accepted``: the live tally,
    which is ahead of ``raw`` by the votes the flusher has not written yet."""
    async with pool.acquire() as conn:
        camp = await _campaign(conn, campaign_id)
        rows = await repo.results(conn, campaign_id=campaign_id)
    live = None
    if redis is not None and camp["state"] != "draft":
        try:
            live = {int(c): n for c, n in (await tallies(redis, campaign_id, camp["shards"])).items()}
        except (redis_errors.RedisError, OSError, TimeoutError):  # the counts from Postgres still stand
            live = None
    items = []
    for r in rows:
        item = {"candidate_id": str(r["candidate_id"]), "full_name": r["full_name"], "region": r["region"],
                "sphere": r["sphere"], "gender": r["gender"], "raw": r["raw"], "invalidated": r["invalidated"],
                "valid": r["raw"] - r["invalidated"]}
        if live is not None:
            item["accepted"] = live.get(r["candidate_id"], 0)
        items.append(item)
    totals = {k: sum(i[k] for i in items) for k in ("raw", "invalidated", "valid")}
    return {"campaign_id": str(campaign_id), "state": camp["state"], "seats": camp["seats"], "candidates": items,
            "totals": totals}


async def composition(pool: asyncpg.Pool, *, campaign_id: int) -> dict[str, Any]:
    """The ballot of ``campaign_id`` by region, sphere, gender and (self-declared) ethnicity; for each region,
    gender and ethnicity also the population share, the count it would give (``expected``) and the gap."""
    async with pool.acquire() as conn:
        await _campaign(conn, campaign_id)
        ballot = await repo.ballot(conn, campaign_id=campaign_id)
    return {"campaign_id": str(campaign_id), **composition_of([dict(r) for r in ballot])}
