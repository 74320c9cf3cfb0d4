"""Drain status: which streams exist (the ``faces:streams`` registry) and how many accepted votes are still
in them, i.e. not yet moved to Postgres by the flusher."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from shared.votestore import keys


async def registered_shards(r: aioredis.Redis) -> dict[int, list[int]]:
    """campaign id -> its shards that have a stream, from the registry the projection writes."""
    by_campaign: dict[int, list[int]] = {}
    for member in await r.smembers(keys.STREAM_REGISTRY):
        cid, shard = keys.parse_stream_member(member)
        by_campaign.setdefault(cid, []).append(shard)
    return by_campaign


async def undrained(r: aioredis.Redis, campaign_id: int, shards: list[int]) -> int:
    """Entries still in the campaign's streams (XLEN: the flusher trims what it committed)."""
    pipe = r.pipeline(transaction=False)
    for shard in shards:
        pipe.xlen(keys.ShardKeys.of(campaign_id, shard).stream)
    return sum(await pipe.execute())


async def campaign_shards(r: aioredis.Redis, campaign_id: int) -> list[int]:
    return (await registered_shards(r)).get(campaign_id, [0])


async def wait_drained(r: aioredis.Redis, campaign_id: int, shards: list[int], wait_s: float,
                       poll_s: float = 0.2) -> int:
    """Poll until the campaign's streams are empty or ``wait_s`` passed; returns what is left (0: drained)."""
    deadline = time.monotonic() + wait_s
    left = await undrained(r, campaign_id, shards)
    while left and time.monotonic() < deadline:
        await asyncio.sleep(poll_s)
        left = await undrained(r, campaign_id, shards)
    return left
