"""Tallies: a campaign's accepted votes per candidate, the sum of its per-shard ``{c..:s..}:tally`` hashes.
The one place they are summed (live results, the admin's results page, reconcile, the load tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import redis.asyncio as aioredis

from shared.votestore import keys


def tally_keys(campaign_id: int, shards: int) -> list[str]:
    return [keys.ShardKeys.of(campaign_id, shard).tally for shard in range(shards)]


def sum_tallies(parts: Iterable[Mapping[str, str | int]]) -> dict[str, int]:
    """Candidate id (str) -> votes over the shards' hashes (as HGETALL returns them)."""
    total: dict[str, int] = {}
    for part in parts:
        for cand, n in part.items():
            total[cand] = total.get(cand, 0) + int(n)
    return total


async def tallies(r: aioredis.Redis, campaign_id: int, shards: int) -> dict[str, int]:
    """Candidate id (str) -> accepted votes, in one round trip."""
    pipe = r.pipeline(transaction=False)
    for key in tally_keys(campaign_id, shards):
        pipe.hgetall(key)
    return sum_tallies(await pipe.execute())
