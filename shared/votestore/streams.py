"""The consumer side of the vote streams (the flusher's Redis work): which streams exist, reading through the
``flusher`` consumer group, claiming what a dead consumer left pending, acknowledging and trimming what is
committed, and the backlog for the lag gauges. Postgres and the batching policy stay in the flusher
(voting_service/flusher.py); everything it says to Redis is here.

Every call covers several streams at once (a campaign has up to 16 shards, one stream each): one XREADGROUP
names them all, claims and acknowledgements are pipelined. Per-stream round trips made a pass's fixed cost grow
with the shard count while its batches shrank.

An entry is ``(id, fields)`` with the fields vote.lua writes: ``r`` nonce, ``c`` candidate, ``v`` voter,
``ih`` ip hash, ``n`` network. Entries trimmed while pending come back without fields: they are acknowledged
here and never returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from shared.infra import is_cluster
from shared.votestore import keys
from shared.votestore.batcher import ReplicaWaitFailed

Entry = tuple[str, dict[str, str]]
StreamRef = tuple[int, int]  # (campaign, shard)


def stream_of(campaign_id: int, shard: int) -> str:
    return keys.ShardKeys.of(campaign_id, shard).stream


async def registered(r: aioredis.Redis) -> list[StreamRef]:
    """(campaign, shard) of every stream, sorted (the registry the projection writes)."""
    return sorted(keys.parse_stream_member(mb) for mb in await r.smembers(keys.STREAM_REGISTRY))


async def read(r: aioredis.Redis, starts: Mapping[StreamRef, str], *, consumer: str,
               count: int, wait: tuple[int, int] = (0, 0)) -> tuple[dict[StreamRef, list[Entry]], set[StreamRef]]:
    """One XREADGROUP over every stream of ``starts``, up to ``count`` entries each, for ``consumer``: start
    ``">"`` new entries, ``"0"`` its own pending ones. Returns the entries by stream (streams with none left out)
    and the streams that filled ``count`` (more may be waiting). A missing group (Redis lost a stream) is
    recreated and the read comes back empty.

    ``wait`` = (replicas, timeout ms), replicas > 0 (REDIS_WAIT_REPLICAS): the reads are followed by ``WAIT`` on
    the same connection; XREADGROUP is itself replicated after the XADDs it read, so once the replicas confirm
    it they hold every entry returned. Entries not yet on a replica are never moved to Postgres (a failover
    would otherwise leave Postgres with votes the promoted replica's tallies and voter records lack);
    ``ReplicaWaitFailed`` is raised instead (the flusher retries; the entries stay pending)."""
    if not starts:
        return {}, set()
    names = {stream_of(*ref): ref for ref in starts}
    if is_cluster(r) or wait[0] > 0:
        resp = await _read_per_stream(r, {stream_of(*ref): s for ref, s in starts.items()}, consumer, count,
                                      wait)
        if resp is None:
            await _create_groups(r, names)
            return {}, set()
    else:
        try:
            resp = await r.xreadgroup(keys.STREAM_GROUP, consumer,
                                      {stream_of(*ref): s for ref, s in starts.items()}, count=count)
        except redis.exceptions.ResponseError as exc:
            if "NOGROUP" in str(exc):
                await _create_groups(r, names)
                return {}, set()
            raise
    out: dict[StreamRef, list[Entry]] = {}
    full: set[StreamRef] = set()
    gone: dict[str, list[str]] = {}
    for name, entries in resp or ():
        ref = names[name]
        if len(entries) >= count:
            full.add(ref)
        live = [(eid, f) for eid, f in entries if f]
        if live:
            out[ref] = live
        if len(live) < len(entries):  # trimmed while pending: nothing left to move
            gone[name] = [eid for eid, f in entries if not f]
    if gone:
        pipe = r.pipeline(transaction=False)
        for name, ids in gone.items():
            pipe.xack(name, keys.STREAM_GROUP, *ids)
        await pipe.execute()
    return out, full


async def _read_per_stream(r: Any, starts: Mapping[str, str], consumer: str, count: int,
                           wait: tuple[int, int]) -> list[tuple[str, list[Entry]]] | None:
    """One XREADGROUP per stream (on Redis Cluster each shard's stream has its own hash tag, so its own slot: a
    multi-key XREADGROUP across slots is refused), pipelined per node, with ``wait``'s WAIT after them. The
    same reply shape as one XREADGROUP over all of them; None if a group is missing."""
    names = list(starts)
    results = await per_node(r, names, lambda pipe, name: pipe.xreadgroup(
        keys.STREAM_GROUP, consumer, {name: starts[name]}, count=count), wait)
    out: list[tuple[str, list[Entry]]] = []
    missing = False
    for result in results:
        if isinstance(result, Exception):
            if "NOGROUP" in str(result):
                missing = True
                continue
            raise result
        out.extend(result or ())
    return None if missing else out


async def per_node(r: Any, names: list[str], queue: Callable[[Any, str], Any],
                   wait: tuple[int, int] = (0, 0)) -> list[Any]:
    """``queue(pipe, name)`` for each stream, pipelined: on one Redis in one pipeline, on a cluster in one per
    node owning the streams (``ClusterClient.node_client``, concurrently); with ``wait[0]`` > 0 each pipeline
    ends with ``WAIT wait[0] wait[1]`` on its connection and ``ReplicaWaitFailed`` is raised if it comes short.
    Replies in the order of ``names``, an error reply in its place. A MOVED reply (a failover) re-reads the
    cluster's slot map and raises ConnectionError: the caller retries as for a node that went away."""
    groups: dict[Any, list[int]] = {}
    if is_cluster(r):
        await r.initialize()
        for i, name in enumerate(names):
            node = r.nodes_manager.get_node_from_slot(r.keyslot(name))
            groups.setdefault(r.node_client(node.host, node.port), []).append(i)
    else:
        groups[r] = list(range(len(names)))

    async def run(client: Any, idx: list[int]) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for i in idx:
            queue(pipe, names[i])
        if wait[0] > 0:
            pipe.execute_command("WAIT", wait[0], wait[1])
        replies = await pipe.execute(raise_on_error=False)
        if wait[0] > 0:
            acked = replies.pop()
            if isinstance(acked, Exception) or acked < wait[0]:
                if any(isinstance(reply, redis.exceptions.MovedError) for reply in replies):
                    return replies  # a replica now (failed over; WAIT refused there): MOVED handled below
                raise ReplicaWaitFailed(f"{acked!r} of {wait[0]} replicas confirmed the read in time")
        return replies

    parts = await asyncio.gather(*(run(c, idx) for c, idx in groups.items()))
    out: list[Any] = [None] * len(names)
    moved = False
    for (_, idx), replies in zip(groups.items(), parts, strict=True):
        for i, reply in zip(idx, replies, strict=True):
            out[i] = reply
            moved = moved or isinstance(reply, (redis.exceptions.MovedError, redis.exceptions.AskError))
    if moved:
        await r.refresh_slots()
        raise redis.exceptions.ConnectionError("a stream's slot moved (failover); retry")
    return out


async def _create_groups(r: aioredis.Redis, names: Iterable[str]) -> None:
    pipe = r.pipeline(transaction=False)
    for name in names:
        pipe.xgroup_create(name, keys.STREAM_GROUP, id="0", mkstream=True)
    for result in await pipe.execute(raise_on_error=False):
        if isinstance(result, Exception) and "BUSYGROUP" not in str(result):
            raise result


async def claim(r: aioredis.Redis, refs: list[StreamRef], *, consumer: str, idle_ms: int,
                count: int, wait: tuple[int, int] = (0, 0)) -> dict[StreamRef, list[Entry]]:
    """Entries another consumer has held unacknowledged for ``idle_ms``, now ``consumer``'s: one pipelined
    XAUTOCLAIM per stream (per node on a cluster; ``wait`` as for ``read``). A stream whose group is missing
    has nothing to claim."""
    if not refs:
        return {}
    results = await per_node(r, [stream_of(*ref) for ref in refs], lambda pipe, name: pipe.xautoclaim(
        name, keys.STREAM_GROUP, consumer, idle_ms, start_id="0-0", count=count), wait)
    out: dict[StreamRef, list[Entry]] = {}
    for ref, result in zip(refs, results, strict=True):
        if isinstance(result, Exception):
            if "NOGROUP" in str(result):
                continue
            raise result
        claimed = [(eid, f) for eid, f in result[1] if f]
        if claimed:
            out[ref] = claimed
    return out


async def ack_and_trim(r: aioredis.Redis, committed: Mapping[StreamRef, list[str]]) -> None:
    """Acknowledge the ids committed to Postgres, stream by stream, then trim each stream below its oldest
    pending entry: two round trips whatever the number of streams."""
    refs = [ref for ref, ids in committed.items() if ids]
    if not refs:
        return
    pipe = r.pipeline(transaction=False)  # XPENDING sees the XACK before it
    for ref in refs:
        stream = stream_of(*ref)
        pipe.xack(stream, keys.STREAM_GROUP, *committed[ref])
        pipe.xpending(stream, keys.STREAM_GROUP)
        pipe.xinfo_groups(stream)
    replies = await pipe.execute()
    pipe = r.pipeline(transaction=False)
    for i, ref in enumerate(refs):
        _, pending, groups = replies[3 * i: 3 * i + 3]
        pipe.xtrim(stream_of(*ref), minid=trim_below(pending, groups, committed[ref]), approximate=False)
    await pipe.execute()


async def backlog(r: aioredis.Redis, refs: list[StreamRef]) -> tuple[int, int | None]:
    """(entries in the streams, milliseconds of the oldest one or None)."""
    if not refs:
        return 0, None
    pipe = r.pipeline(transaction=False)
    for ref in refs:
        stream = stream_of(*ref)
        pipe.xlen(stream)
        pipe.xrange(stream, "-", "+", count=1)
    replies = await pipe.execute()
    total = sum(replies[0::2])
    firsts = [int(first[0][0].partition("-")[0]) for first in replies[1::2] if first]
    return total, min(firsts) if firsts else None


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
