"""The vote: route the voter to their shard, run vote.lua (batched), turn its answer into a receipt or an error."""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

import redis.asyncio as aioredis

from shared import keys
from shared.errors import AppError, Conflict, Forbidden, NotFound, RateLimited
from shared.settings import Settings
from voting_service.scripts import Script, ScriptBatcher
from voting_service.services.directory import CampaignNotFound, Route, RouteTable


class CandidateNotOnBallot(NotFound):
    code = "candidate_not_on_ballot"
    title = "Candidate is not on this ballot"


class CampaignClosed(Forbidden):
    code = "campaign_closed"
    title = "Voting is not open"


class AlreadyVoted(Conflict):
    code = "already_voted"
    title = "You already voted for this candidate"


class VoteLimitReached(Conflict):
    code = "vote_limit_reached"
    title = "You have used all your votes"


@dataclass(frozen=True, slots=True)
class Accepted:
    receipt: str
    candidate_id: str
    votes_left: int


def make_receipt(campaign_id: int, shard: int, stream_id: str, nonce: str) -> str:
    """``<campaign>.<shard>.<stream id>.<nonce>``: locates the vote without an index, unguessable by the nonce."""
    return f"{campaign_id}.{shard}.{stream_id}.{nonce}"


# ASCII digits only (str.isdigit() also takes "١٢٣") and bounded: campaign ids fit a bigint, stream id
# parts fit Redis's uint64, so nothing malformed reaches Postgres or XRANGE (where it would be a 500).
_RECEIPT = re.compile(r"([0-9]{1,18})\.([0-9]{1,9})\.(([0-9]{1,20})-([0-9]{1,20}))\.([A-Za-z0-9_-]{8,16})")
_U64 = 2**64


def parse_receipt(receipt: str) -> tuple[int, int, str, str] | None:
    m = _RECEIPT.fullmatch(receipt) if len(receipt) <= 96 else None
    if m is None:
        return None
    cid, shard, sid, ms, seq, nonce = m.groups()
    if int(ms) >= _U64 or int(seq) >= _U64:
        return None
    return int(cid), int(shard), sid, nonce


def new_nonce() -> str:
    return base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")  # what secrets.token_bytes does, less wrapping


class BallotBox:
    def __init__(self, *, settings: Settings, redis: aioredis.Redis, routes: RouteTable) -> None:
        self._s = settings
        self._redis = redis
        self._routes = routes
        self._script = Script("vote")
        # vote.lua's ARGV[6..11]: per-process constants, packed once by the batcher rather than per call.
        self.limit_args = (settings.vote_limit_voter, settings.vote_limit_voter_window_s,
                           settings.vote_limit_ip, settings.vote_limit_ip_window_s,
                           settings.vote_limit_net, settings.vote_limit_net_window_s)
        self._batcher = ScriptBatcher(redis, self._script, timeout_s=max(0.5, settings.redis_timeout_s * 1.5),
                                      tail_args=self.limit_args)

    async def cast(self, *, campaign_id: int, voter: str, candidate_id: str, ip_hash: str, ip_net: str) -> Accepted:
        route = await self._routes.get(campaign_id)
        shard, bucket = keys.voter_route(voter, route.shards, route.voter_buckets)
        sk = keys.ShardKeys.of(campaign_id, shard)
        nonce = new_nonce()
        result = await self._batcher(  # ARGV[1..5]; the batcher appends ARGV[6..11] (self.limit_args)
            [sk.cfg, sk.ballot, sk.voters(bucket), sk.tally, sk.stream,
             sk.rl_voter(voter), sk.rl_ip(ip_hash), sk.rl_net(ip_net)],
            [voter, candidate_id, nonce, ip_hash, ip_net],
        )
        outcome = result[0]
        if outcome == "ok":
            return Accepted(make_receipt(campaign_id, shard, result[1], nonce), candidate_id, int(result[2]))
        raise _refusal(outcome, result)

    async def my_votes(self, *, campaign_id: int, voter: str) -> tuple[list[str], int]:
        route = await self._routes.get(campaign_id)
        shard, bucket = keys.voter_route(voter, route.shards, route.voter_buckets)
        chosen = await self._redis.hget(keys.ShardKeys.of(campaign_id, shard).voters(bucket), voter)
        ids = [c for c in (chosen or "").split(",") if c]
        return ids, max(0, route.k - len(ids))

    async def close(self) -> None:
        await self._batcher.close()


def _refusal(outcome: str, result: list[object]) -> AppError:
    if outcome == "already_voted":
        return AlreadyVoted("You already voted for this candidate; that vote still counts.",
                            extra={"votes_left": int(result[1])})  # type: ignore[arg-type]
    if outcome == "vote_limit_reached":
        return VoteLimitReached("You have used all your votes in this campaign.", extra={"votes_left": 0})
    if outcome == "rate_limited":
        return RateLimited("Too many votes too fast; wait a moment.", retry_after=int(result[1]))  # type: ignore[arg-type]
    if outcome == "campaign_closed":
        return CampaignClosed("Voting in this campaign is not open.")
    if outcome == "candidate_not_on_ballot":
        return CandidateNotOnBallot("This candidate is not on the ballot of this campaign.")
    if outcome == "campaign_not_found":
        return CampaignNotFound("No published campaign with this id.")
    return AppError(f"unexpected vote outcome {outcome!r}")


__all__ = ["Accepted", "BallotBox", "Route", "make_receipt", "parse_receipt"]
