"""The vote store's Redis key schema (shared/votestore/__init__.py says who uses which key). Every key a Lua
script touches shares one hash tag, so scripts run unchanged on a single Redis and on Redis Cluster.

Per campaign there are ``shards`` hash-tag buckets ``{c<campaign>:s<shard>}``; a voter belongs to one shard
(by their pseudonym) and every key of their vote lives in it:

    {c17:s3}:cfg          hash   state, opens_ms, closes_ms, k (copy per shard, written at publication)
    {c17:s3}:ballot       set    candidate ids on the published ballot
    {c17:s3}:v:<bucket>   hash   voter -> ",12,40,7," (chosen candidates); ~100 voters per hash keeps it a
                                 compact listpack, so per-voter memory stays a few dozen bytes
    {c17:s3}:tally        hash   candidate id -> accepted votes in this shard
    {c17:s3}:stream       stream accepted votes for the flusher (fields r, c, v, ip, t)
    {c17:s3}:rl:v:<voter> fixed-window counter with TTL (a voter lives in one shard: never multiplied)

    rl:{n:<scope>}:<route>:a:<ip hash> / :net[:<IPv6 /64>] / :wide   layered limits of a client network
                                 (layers.lua): hash tag = the client's /24 or IPv6 /48, not a shard's, so
                                 16 shards give a farm the budget of 1 (``layer_keys``)
    rl:{sms}:m:<minute> / rl:{sms}:breaker   the national SMS budget and its circuit breaker (sms_budget.lua)
    rl:{pow}:<challenge>  string with TTL   a spent proof-of-work challenge (replay guard)
    rl:{attack}:vote      string with TTL   the national attack level of the vote (set by the flusher or an
                                 operator, read by every voting worker once a second; voting_service/services/attack.py)

    faces:campaign:<id>   hash   shards, voter_buckets, k, live_results, state, opens_ms, closes_ms (routing)
    faces:streams         set    "<campaign>:<shard>" of every stream the flusher drains

Results sum the per-shard tallies. The two plain keys are read outside scripts only. Sign-in and nomination
keys (OTP, their rate limits, the dev SMS outbox) are not the vote store's: voting_service/redis_keys.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from shared.crypto import unb64u

STREAM_GROUP = "flusher"
STREAM_REGISTRY = "faces:streams"  # set of "<campaign>:<shard>" the flusher drains


def campaign_meta(campaign_id: int | str) -> str:
    """hash: shards, voter_buckets, k, live_results, state: what the voting service needs to route a vote."""
    return f"faces:campaign:{campaign_id}"


def shard_tag(campaign_id: int | str, shard: int) -> str:
    return f"{{c{campaign_id}:s{shard}}}"


@dataclass(frozen=True, slots=True)
class ShardKeys:
    tag: str

    @classmethod
    def of(cls, campaign_id: int | str, shard: int) -> ShardKeys:
        return cls(shard_tag(campaign_id, shard))

    @property
    def cfg(self) -> str:
        return f"{self.tag}:cfg"

    @property
    def ballot(self) -> str:
        return f"{self.tag}:ballot"

    @property
    def tally(self) -> str:
        return f"{self.tag}:tally"

    @property
    def stream(self) -> str:
        return f"{self.tag}:stream"

    def voters(self, bucket: int) -> str:
        return f"{self.tag}:v:{bucket}"

    def rl_voter(self, voter: str) -> str:
        return f"{self.tag}:rl:v:{voter}"


@functools.lru_cache(maxsize=8192)
def layer_keys(route: str, ip_hash: str, net: str, scope: str) -> tuple[str, ...]:
    """layers.lua's KEYS for a client on ``route`` (vote, otp, verify, nomination): address, network and, for
    IPv6, the /48; all under the hash tag of ``scope`` (the /24 or /48). Cached: a worker sees the same few
    clients (proxies, NATs) again and again."""
    tag = f"rl:{{n:{scope or net}}}:{route}"
    if not scope or scope == net:  # IPv4: the /24 is the widest layer
        return (f"{tag}:a:{ip_hash}", f"{tag}:net")
    return (f"{tag}:a:{ip_hash}", f"{tag}:net:{net}", f"{tag}:wide")


ATTACK_LEVEL = "rl:{attack}:vote"


def sms_minute(minute: int) -> str:
    return f"rl:{{sms}}:m:{minute}"


SMS_BREAKER = "rl:{sms}:breaker"


def voter_route(voter: str, shards: int, voter_buckets: int) -> tuple[int, int]:
    """(shard, bucket) of a voter pseudonym; stable for the life of a campaign."""
    raw = unb64u(voter)
    return (int.from_bytes(raw[0:4], "big") % shards, int.from_bytes(raw[4:8], "big") % voter_buckets)


def stream_member(campaign_id: int | str, shard: int) -> str:
    return f"{campaign_id}:{shard}"


def parse_stream_member(member: str) -> tuple[int, int]:
    cid, shard = member.split(":")
    return int(cid), int(shard)
