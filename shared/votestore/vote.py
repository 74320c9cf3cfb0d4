"""The vote call: how a campaign is routed (``Route``, read from ``faces:campaign:<id>``) and the KEYS and ARGV
of one ``vote.lua`` call, built by a pure function (``vote_call``) so the service, the load tests and the unit
tests all build the very same call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis

from shared.infra import is_cluster
from shared.settings import Settings
from shared.votestore import keys
from shared.votestore.batcher import ClusterScriptBatcher, ScriptBatcher
from shared.votestore.script import Script

VOTE_SCRIPT = "vote"
LAYERS_SCRIPT = "layers"
SMS_BUDGET_SCRIPT = "sms_budget"


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
    """(shard, KEYS, ARGV[1..6]) of one vote.lua call; ARGV[7..8] are ``limit_args`` (appended by the batcher).
    ``signals``: the vote's fraud signals packed by ``shared.fraud_signals.pack`` ('' when unknown).
    Pure: no I/O, the same inputs give the same call (a plain tuple: this runs once per vote)."""
    shard, bucket = keys.voter_route(voter, shards, voter_buckets)
    tag = keys.shard_tag(campaign_id, shard)
    return shard, [
        f"{tag}:cfg", f"{tag}:ballot", f"{tag}:v:{bucket}", f"{tag}:tally", f"{tag}:stream",
        f"{tag}:rl:v:{voter}",
    ], [voter, candidate_id, nonce, ip_hash, ip_net, signals]


def limit_args(settings: Settings) -> tuple[int, ...]:
    """vote.lua's ARGV[7..8]: (limit, window s) for the voter (limit <= 0: off). Constant per process: the
    batcher packs them once and appends them to every call. The address and network limits are
    ``layer_args``, checked by layers.lua before the vote (voting_service/services/guard.py)."""
    return (settings.vote_limit_voter, settings.vote_limit_voter_window_s)


def layer_args(settings: Settings) -> tuple[int, ...]:
    """layers.lua's ARGV for votes: (soft, hard, window s) for the address, its /24 or /64 and its IPv6 /48.
    Past a soft limit a vote needs a proof of work; past a hard one (soft x LIMIT_HARD_FACTOR) it is refused."""
    f = settings.limit_hard_factor
    return (settings.vote_limit_ip, settings.vote_limit_ip * f, settings.vote_limit_ip_window_s,
            settings.vote_limit_net, settings.vote_limit_net * f, settings.vote_limit_net_window_s,
            settings.vote_limit_wide, settings.vote_limit_wide * f, settings.vote_limit_net_window_s)


def layer_batcher(r: aioredis.Redis, *, layers: tuple[int, ...],
                  timeout_s: float) -> ScriptBatcher | ClusterScriptBatcher:
    """The batcher of the per-address and per-network vote limits (layers.lua, keys of their own): concurrent
    votes share its pipelined round trip the way they share vote.lua's; on Redis Cluster one per primary. No
    replica wait: a counter lost in a failover only gives a client a few more attempts."""
    if is_cluster(r):
        return ClusterScriptBatcher(r, Script(LAYERS_SCRIPT), timeout_s=timeout_s, tail_args=layers)
    return ScriptBatcher(r, Script(LAYERS_SCRIPT), timeout_s=timeout_s, tail_args=layers)


def vote_batcher(r: aioredis.Redis, *, limits: tuple[int, ...], timeout_s: float, wait_replicas: int = 0,
                 wait_timeout_ms: int = 100) -> ScriptBatcher | ClusterScriptBatcher:
    """The batcher the voting service sends votes through: vote.lua with ``limits`` packed once as its tail;
    on Redis Cluster one per primary (``ClusterScriptBatcher``). ``wait_replicas``: see ``ScriptBatcher``
    (settings REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT_MS; docs/capacity.md)."""
    options = {"timeout_s": timeout_s, "tail_args": limits, "wait_replicas": wait_replicas,
               "wait_timeout_ms": wait_timeout_ms}
    if is_cluster(r):
        return ClusterScriptBatcher(r, Script(VOTE_SCRIPT), **options)
    return ScriptBatcher(r, Script(VOTE_SCRIPT), **options)


async def voter_choices(r: aioredis.Redis, route: Route, voter: str) -> list[str]:
    """The candidate ids this voter chose (from their bucket hash), in the order chosen."""
    shard, bucket = keys.voter_route(voter, route.shards, route.voter_buckets)
    chosen = await r.hget(keys.ShardKeys.of(route.campaign_id, shard).voters(bucket), voter)
    return [c for c in (chosen or "").split(",") if c]
