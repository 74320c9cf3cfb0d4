"""The demo loader against a fresh database and Redis db 14: what it creates, idempotence, re-projection."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import asyncpg
import redis.asyncio as aioredis

from shared import reference
from shared.votestore import keys
from devtools.demo import ACTOR, DEMO_SIZE, DEMO_SLUG, LIFECYCLE, VOTES_PER_VOTER, load_demo

COUNTS = """
SELECT (SELECT count(*) FROM candidates)                               AS candidates,
       (SELECT count(*) FROM candidates WHERE status = 'on_ballot')    AS on_ballot,
       (SELECT count(DISTINCT region) FROM candidates)                 AS regions,
       (SELECT count(DISTINCT sphere) FROM candidates)                 AS spheres,
       (SELECT count(*) FROM campaigns)                                AS campaigns,
       (SELECT count(*) FROM ballot_entries)                           AS ballot,
       (SELECT count(*) FROM candidate_transitions)                    AS transitions,
       (SELECT count(*) FROM candidate_transitions WHERE actor <> $1)  AS foreign_transitions
"""


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return dict(await conn.fetchrow(COUNTS, ACTOR))
    finally:
        await conn.close()


async def assert_projected(r: aioredis.Redis, campaign_id: int) -> None:
    meta = await r.hgetall(keys.campaign_meta(campaign_id))
    assert meta["k"] == str(VOTES_PER_VOTER)
    assert meta["state"] == "published"
    assert meta["shards"] == "1"
    assert meta["live_results"] == "1"
    shard = keys.ShardKeys.of(campaign_id, 0)
    assert await r.scard(shard.ballot) == DEMO_SIZE
    assert await r.hget(shard.cfg, "k") == str(VOTES_PER_VOTER)
    assert await r.sismember(keys.STREAM_REGISTRY, keys.stream_member(campaign_id, 0))
    groups = await r.xinfo_groups(shard.stream)
    assert [g["name"] for g in groups] == [keys.STREAM_GROUP]


async def test_load_twice_creates_once_and_projects_again(fresh_database_url: str,
                                                          demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, r = demo_redis
    first = await load_demo(fresh_database_url, redis_url)
    assert first["status"] == "created"
    assert first["slug"] == DEMO_SLUG
    assert first["candidates_created"] == DEMO_SIZE
    assert first["ballot"] == DEMO_SIZE
    campaign_id = first["campaign_id"]
    after_first = await counts(fresh_database_url)
    assert after_first == {
        "candidates": DEMO_SIZE, "on_ballot": DEMO_SIZE, "regions": len(reference.region_codes()),
        "spheres": len(reference.sphere_codes()), "campaigns": 1, "ballot": DEMO_SIZE,
        # nominated ... shortlisted, then on_ballot at publication
        "transitions": DEMO_SIZE * (len(LIFECYCLE) + 1), "foreign_transitions": 0,
    }
    await assert_projected(r, campaign_id)

    conn = await asyncpg.connect(fresh_database_url)
    try:
        campaign = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign_id)
        history = await conn.fetch(
            "SELECT from_status, to_status FROM candidate_transitions WHERE candidate_id = "
            "(SELECT candidate_id FROM ballot_entries WHERE campaign_id = $1 AND position = 1) ORDER BY at, id",
            campaign_id)
        positions = await conn.fetch("SELECT position FROM ballot_entries WHERE campaign_id = $1 ORDER BY 1",
                                     campaign_id)
    finally:
        await conn.close()
    assert campaign["state"] == "published" and campaign["published_at"] is not None
    assert campaign["votes_per_voter"] == 3 and campaign["seats"] == 100
    assert campaign["live_results"] is True and campaign["shards"] == 1
    assert set(json.loads(campaign["title"])) == {"kk", "ru", "en"}  # plain connection: jsonb as text
    assert campaign["opens_at"] < campaign["published_at"] < campaign["closes_at"]
    assert [p["position"] for p in positions] == list(range(1, DEMO_SIZE + 1))
    path = [h["to_status"] for h in history]
    assert path == [*LIFECYCLE, "on_ballot"]
    assert history[0]["from_status"] is None

    # Second run: nothing new in Postgres, the same campaign, projected again after Redis lost everything.
    await r.flushdb()
    second = await load_demo(fresh_database_url, redis_url)
    assert second["status"] == "existing"
    assert second["campaign_id"] == campaign_id
    assert second["candidates_created"] == 0
    assert await counts(fresh_database_url) == after_first
    await assert_projected(r, campaign_id)


async def test_concurrent_loaders_create_one_campaign(fresh_database_url: str,
                                                      demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, _ = demo_redis
    results = await asyncio.gather(load_demo(fresh_database_url, redis_url), load_demo(fresh_database_url, redis_url))
    assert sorted(res["status"] for res in results) == ["created", "existing"]
    assert (await counts(fresh_database_url))["candidates"] == DEMO_SIZE


async def test_closed_demo_campaign_is_left_alone(fresh_database_url: str,
                                                  demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, r = demo_redis
    created = await load_demo(fresh_database_url, redis_url)
    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.execute("UPDATE campaigns SET opens_at = now() - interval '40 days', "
                           "closes_at = now() - interval '10 days' WHERE id = $1", created["campaign_id"])
    finally:
        await conn.close()
    await r.flushdb()
    again = await load_demo(fresh_database_url, redis_url)
    assert again["status"] == "closed"
    assert again["campaign_id"] == created["campaign_id"]
    assert "closed" in again["message"]
    assert await r.exists(keys.campaign_meta(created["campaign_id"])) == 0  # untouched, not re-projected
    assert (await counts(fresh_database_url))["campaigns"] == 1


async def test_command_line(fresh_database_url: str, demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, r = demo_redis
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "REDIS_URL": redis_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devtools.demo", env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["status"] == "created"
    assert await r.exists(keys.campaign_meta(result["campaign_id"])) == 1
