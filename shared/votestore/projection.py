"""Projects a published campaign into Redis: routing metadata, per-shard config and ballot, consumer group;
``is_current`` tells whether Redis still holds it.

The admin service calls this when the working group publishes or closes a campaign; the flusher calls it
periodically so a Redis that lost its data (restart without persistence) gets the ballot back within seconds.
Idempotent: running it twice leaves the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from shared.infra import transaction
from shared.votestore import keys


@dataclass(frozen=True)
class CampaignProjection:
    id: int
    state: str               # published / closed / finalised
    opens_at: datetime
    closes_at: datetime
    votes_per_voter: int
    live_results: bool
    shards: int
    voter_buckets: int
    candidate_ids: tuple[int, ...]


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def meta_of(c: CampaignProjection) -> dict[str, int | str]:
    """The ``faces:campaign:<id>`` hash of a campaign (what the voting service routes by: ``vote.Route``)."""
    return {
        "state": c.state,
        "shards": c.shards,
        "voter_buckets": c.voter_buckets,
        "k": c.votes_per_voter,
        "live_results": int(c.live_results),
        "opens_ms": _ms(c.opens_at),
        "closes_ms": _ms(c.closes_at),
    }


async def is_current(r: aioredis.Redis, c: CampaignProjection) -> bool:
    """Does Redis hold this projection: the routing hash as ``meta_of`` writes it and the first shard's config?
    False after Redis lost its data or when Postgres changed (closed, finalised) and the projection failed."""
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(keys.campaign_meta(c.id))
    pipe.hgetall(keys.ShardKeys.of(c.id, 0).cfg)
    meta, cfg = await pipe.execute()
    want = {k: str(v) for k, v in meta_of(c).items()}
    return bool(cfg) and all(meta.get(k) == v for k, v in want.items())


async def project(r: aioredis.Redis, c: CampaignProjection) -> None:
    meta = meta_of(c)
    for shard in range(c.shards):
        sk = keys.ShardKeys.of(c.id, shard)

        def fill(pipe: Any, sk: keys.ShardKeys = sk) -> None:
            pipe.hset(sk.cfg, mapping={"state": c.state, "opens_ms": meta["opens_ms"],
                                       "closes_ms": meta["closes_ms"], "k": c.votes_per_voter})
            pipe.delete(sk.ballot)
            if c.candidate_ids:
                pipe.sadd(sk.ballot, *[str(i) for i in c.candidate_ids])

        await transaction(r, sk.cfg, fill)  # all keys share one hash tag: a MULTI is valid on a cluster
        try:
            await r.xgroup_create(sk.stream, keys.STREAM_GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        await r.sadd(keys.STREAM_REGISTRY, keys.stream_member(c.id, shard))
    # meta last: the voting service routes votes only once every shard is ready.
    await r.hset(keys.campaign_meta(c.id), mapping=meta)
