"""The consumer side of the vote streams (the flusher's Redis work): which streams exist, reading a batch
through the ``flusher`` consumer group, claiming what a dead consumer left pending, acknowledging and trimming
what is committed, and the backlog for the lag gauges. Postgres and the batching policy stay in the flusher
(voting_service/flusher.py); everything it says to Redis is here.

An entry is ``(id, fields)`` with the fields vote.lua writes: ``r`` nonce, ``c`` candidate, ``v`` voter,
``ih`` ip hash, ``n`` network. Entries trimmed while pending come back without fields: they are acknowledged
here and never returned.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from shared.votestore import keys

Entry = tuple[str, dict[str, str]]


def stream_of(campaign_id: int, shard: int) -> str:
    return keys.ShardKeys.of(campaign_id, shard).stream


async def registered(r: aioredis.Redis) -> list[tuple[int, int]]:
    """(campaign, shard) of every stream, sorted (the registry the projection writes)."""
    return sorted(keys.parse_stream_member(mb) for mb in await r.smembers(keys.STREAM_REGISTRY))


async def read(r: aioredis.Redis, campaign_id: int, shard: int, *, consumer: str, start: str,
               count: int) -> list[Entry]:
    """Up to ``count`` entries for ``consumer``: ``start=">"`` new ones, ``"0"`` its own pending ones. A missing
    group (Redis lost the stream) is recreated and the read comes back empty."""
    stream = stream_of(campaign_id, shard)
    try:
        resp = await r.xreadgroup(keys.STREAM_GROUP, consumer, {stream: start}, count=count)
    except redis.exceptions.ResponseError as exc:
        if "NOGROUP" in str(exc):
            await r.xgroup_create(stream, keys.STREAM_GROUP, id="0", mkstream=True)
            return []
        raise
    if not resp:
        return []
    entries = resp[0][1]
    gone = [eid for eid, f in entries if not f]  # trimmed while pending: nothing left to move
    if gone:
        await r.xack(stream, keys.STREAM_GROUP, *gone)
    return [(eid, f) for eid, f in entries if f]


async def claim(r: aioredis.Redis, campaign_id: int, shard: int, *, consumer: str, idle_ms: int,
                count: int) -> list[Entry]:
    """Entries another consumer has held unacknowledged for ``idle_ms``, now ``consumer``'s."""
    _, claimed, *_ = await r.xautoclaim(stream_of(campaign_id, shard), keys.STREAM_GROUP, consumer, idle_ms,
                                        start_id="0-0", count=count)
    return [(eid, f) for eid, f in claimed if f]


async def ack_and_trim(r: aioredis.Redis, campaign_id: int, shard: int, ids: list[str]) -> None:
    """Acknowledge ``ids`` (committed to Postgres), then trim everything below the oldest pending entry."""
    stream = stream_of(campaign_id, shard)
    pipe = r.pipeline(transaction=False)  # one round trip; XPENDING sees the XACK before it
    pipe.xack(stream, keys.STREAM_GROUP, *ids)
    pipe.xpending(stream, keys.STREAM_GROUP)
    pipe.xinfo_groups(stream)
    _, pending, groups = await pipe.execute()
    await r.xtrim(stream, minid=trim_below(pending, groups, ids), approximate=False)


async def backlog(r: aioredis.Redis, streams: list[tuple[int, int]]) -> tuple[int, int | None]:
    """(entries in the streams, milliseconds of the oldest one or None)."""
    total = 0
    oldest_ms: int | None = None
    for campaign_id, shard in streams:
        stream = stream_of(campaign_id, shard)
        pipe = r.pipeline(transaction=False)
        pipe.xlen(stream)
        pipe.xrange(stream, "-", "+", count=1)
        length, first = await pipe.execute()
        total += length
        if first:
            ms = int(first[0][0].partition("-")[0])
            oldest_ms = ms if oldest_ms is None else min(oldest_ms, ms)
    return total, oldest_ms


def next_id(stream_id: str) -> str:
    ms, _, seq = stream_id.partition("-")
    return f"{ms}-{int(seq) + 1}"


def trim_below(pending: dict[str, Any], groups: list[dict[str, Any]], ids: list[str]) -> str:
    """The id below which every entry is committed and acknowledged: the oldest still-pending entry, or, with
    nothing pending, just past the group's last delivered entry (everything delivered is acknowledged by then).
    Not "past this batch": a batch of reclaimed old entries must not leave later, acknowledged ones behind."""
    if pending and pending.get("pending"):
        return pending["min"]
    for g in groups:
        if g.get("name") == keys.STREAM_GROUP and g.get("last-delivered-id"):
            return next_id(g["last-delivered-id"])
    return next_id(max(ids, key=_id_key))


def _id_key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq)
