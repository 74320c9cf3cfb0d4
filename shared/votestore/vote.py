"""The vote call: how a campaign is routed (``Route``, read from ``faces:campaign:<id>``) and the KEYS and ARGV
of one ``vote.lua`` call, built by a pure function (``vote_call``) so the service, the load tests and the unit
tests all build the very same call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis

from shared.settings import Settings
from shared.votestore import keys
from shared.votestore.batcher import ScriptBatcher
from shared.votestore.script import Script

VOTE_SCRIPT = "vote"


@dataclass(frozen=True, slots=True)
class Route:
    """How a campaign's votes are laid out in Redis (the projection's ``faces:campaign:<id>`` hash)."""

    campaign_id: int
    shards: int
    voter_buckets: int
    k: int
    live_results: bool
    state: str


def route_of(campaign_id: int, meta: Mapping[str, str]) -> Route | None:
    if not meta:
        return None
    return Route(campaign_id, int(meta["shards"]), int(meta["voter_buckets"]), int(meta["k"]),
                 meta.get("live_results") == "1", meta.get("state", "published"))


async def load_route(r: aioredis.Redis, campaign_id: int) -> Route | None:
    """The campaign's route, ``None`` while it is not projected (never published, or Redis lost it)."""
    return route_of(campaign_id, await r.hgetall(keys.campaign_meta(campaign_id)))


def vote_call(*, campaign_id: int, shards: int, voter_buckets: int, voter: str, candidate_id: str, nonce: str,
              ip_hash: str, ip_net: str, signals: str = "") -> tuple[int, list[str], list[str]]:
    """(shard, KEYS, ARGV[1..6]) of one vote.lua call; ARGV[7..12] are ``limit_args`` (appended by the batcher).
    ``signals``: the vote's fraud signals packed by ``shared.fraud_signals.pack`` ('' when unknown).
    Pure: no I/O, the same inputs give the same call (a plain tuple: this runs once per vote)."""
    shard, bucket = keys.voter_route(voter, shards, voter_buckets)
    tag = keys.shard_tag(campaign_id, shard)
    return shard, [
        f"{tag}:cfg", f"{tag}:ballot", f"{tag}:v:{bucket}", f"{tag}:tally", f"{tag}:stream",
        f"{tag}:rl:v:{voter}", f"{tag}:rl:ip:{ip_hash}", f"{tag}:rl:net:{ip_net}",
    ], [voter, candidate_id, nonce, ip_hash, ip_net, signals]


def limit_args(settings: Settings) -> tuple[int, ...]:
    """vote.lua's ARGV[7..12]: (limit, window s) for the voter, the address and its network (limit <= 0: off).
    Constant per process: the batcher packs them once and appends them to every call."""
    return (settings.vote_limit_voter, settings.vote_limit_voter_window_s, settings.vote_limit_ip,
            settings.vote_limit_ip_window_s, settings.vote_limit_net, settings.vote_limit_net_window_s)


def vote_batcher(r: aioredis.Redis, *, limits: tuple[int, ...], timeout_s: float) -> ScriptBatcher:
    """The batcher the voting service sends votes through: vote.lua with ``limits`` packed once as its tail."""
    return ScriptBatcher(r, Script(VOTE_SCRIPT), timeout_s=timeout_s, tail_args=limits)


async def voter_choices(r: aioredis.Redis, route: Route, voter: str) -> list[str]:
    """The candidate ids this voter chose (from their bucket hash), in the order chosen."""
    shard, bucket = keys.voter_route(voter, route.shards, route.voter_buckets)
    chosen = await r.hget(keys.ShardKeys.of(route.campaign_id, shard).voters(bucket), voter)
    return [c for c in (chosen or "").split(",") if c]
