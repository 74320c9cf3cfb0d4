"""The vote: route the voter to their shard, run vote.lua (batched), turn its answer into a receipt or an error."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from shared import fraud_signals
from shared.crypto import VoterClaims
from shared.errors import AppError, Conflict, Forbidden, NotFound, RateLimited
from shared.settings import Settings
from shared.votestore import keys, vote
from shared.votestore.receipts import make_receipt, new_nonce
from voting_service.services.attack import AttackLevel
from voting_service.services.directory import CampaignNotFound, RouteTable
from voting_service.services.guard import Guard


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


ATTACK_DETAIL = ("Voting is under attack by automated clients right now. Your browser has to solve a short puzzle "
                 "(proof of work) before each vote; send the vote again with the solution.")

# The portal's pages put a token in their vote requests; API clients do not (a fraud signal: its presence only).
PAGE_TOKEN_HEADER = "x-page-token"


@dataclass(frozen=True, slots=True)
class Accepted:
    receipt: str
    candidate_id: str
    votes_left: int


class BallotBox:
    def __init__(self, *, settings: Settings, redis: aioredis.Redis, routes: RouteTable,
                 guard: Guard | None = None) -> None:
        self._s = settings
        self._redis = redis
        self._routes = routes
        self._guard = guard if guard is not None else Guard(settings=settings, redis=redis)
        self.attack = AttackLevel(redis)  # the national attack level (services/attack.py), read once a second
        timeout_s = max(0.5, settings.redis_timeout_s)
        # vote.lua's ARGV[7..8]: per-process constants, packed once by the batcher rather than per call.
        self.limit_args = vote.limit_args(settings)
        # A vote waits at most REDIS_TIMEOUT_S (default 1 s) for Redis, then answers 503: with a hung Redis
        # (SIGSTOP, a black-holed connection) every voter hears back within ~1 s plus scheduling, well inside the
        # 2 s that make chaos holds the service to (it was 1.5 x, which a busy machine pushed to ~2 s).
        self._batcher = vote.vote_batcher(redis, limits=self.limit_args, timeout_s=timeout_s,
                                          wait_replicas=settings.redis_wait_replicas,
                                          wait_timeout_ms=settings.redis_wait_timeout_ms)
        # The per-address and per-network limits (layers.lua, keys of their own, issue 12): a second batched
        # script whose pipelined round trip concurrent votes share, as they share vote.lua's.
        self.layer_args = vote.layer_args(settings)
        self._layers = (vote.layer_batcher(redis, layers=self.layer_args, timeout_s=timeout_s)
                        if any(a > 0 for a in self.layer_args[0::3]) else None)

    async def cast(self, *, campaign_id: int, voter: str, candidate_id: str, ip_hash: str, ip_net: str,
                   scope: str = "", solution: str | None = None, signals: str = "") -> Accepted:
        route = await self._routes.get(campaign_id)
        # -- layered limits (issue 12): a presented proof of work is checked, then the address and its networks
        # count the attempt; past a soft limit a vote needs a solution (428), past a hard one it is refused.
        solved = 0 if solution is None else await self._guard.challenges.check("vote", solution)
        attack = self.attack.cached()
        if attack is None:
            attack = await self.attack.level()
        if attack and solved * 2 < self._guard.challenges.difficulty(attack):
            raise self._guard.challenges.require("vote", attack, ATTACK_DETAIL)
        if self._layers is not None:
            verdict = await self._layers(keys.layer_keys("vote", ip_hash, ip_net, scope), ())
            if verdict[0]:
                self._guard.decide("vote", verdict, solved)
        # -- the vote itself
        nonce = new_nonce()
        shard, keys_, args = vote.vote_call(campaign_id=campaign_id, shards=route.shards,
                                            voter_buckets=route.voter_buckets, voter=voter,
                                            candidate_id=candidate_id, nonce=nonce, ip_hash=ip_hash, ip_net=ip_net,
                                            signals=signals)
        result = await self._batcher(keys_, args)  # ARGV[1..6]; the batcher appends ARGV[7..8] (self.limit_args)
        outcome = result[0]
        if outcome == "ok":
            return Accepted(make_receipt(campaign_id, shard, result[1], nonce), candidate_id, int(result[2]))
        raise _refusal(outcome, result)

    async def my_votes(self, *, campaign_id: int, voter: str) -> tuple[list[str], int]:
        route = await self._routes.get(campaign_id)
        ids = await vote.voter_choices(self._redis, route, voter)
        return ids, max(0, route.k - len(ids))

    async def close(self) -> None:
        await self._batcher.close()
        if self._layers is not None:
            await self._layers.close()


def signals_of(claims: VoterClaims, user_agent: str | None, accept_language: str | None, page_token: bool,
               now: float) -> str:
    """The vote's fraud signals, packed for the stream (shared/fraud_signals.py): the token's sign-in facts and
    the request's headers, classified through bounded caches."""
    return fraud_signals.pack(int(now) - claims.iat, fraud_signals.ua_class(user_agent), page_token, claims.op,
                              fraud_signals.accept_lang(accept_language), claims.blk, claims.seq)


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


__all__ = ["Accepted", "BallotBox", "signals_of"]
