"""Layered limits of the protected routes (code request, code check, vote, nomination), issue 12.

Each route counts every attempt per client address, per network (IPv4 /24, IPv6 /64) and per IPv6 /48, in
keys of their own (shared/votestore/keys.py ``layer_keys``: the hash tag is the client's /24 or /48, never a
vote shard's), so the shard count never multiplies a limit. Every layer has two thresholds:

* past the **soft** limit the route asks for proof of work (428 ``challenge_required``,
  voting_service/services/challenge.py) at a difficulty that grows with how far over it the client is:
  many honest people behind one carrier-grade NAT address keep voting, each paying a fraction of a second of
  CPU, instead of a city being locked out;
* past the **hard** limit (soft x ``LIMIT_HARD_FACTOR``) it refuses (429 ``rate_limited``, Retry-After).

Code requests add the phone (the first ``OTP_FREE_PER_PHONE_HOUR`` codes free, the next need proof of work,
``OTP_MAX_PER_PHONE_HOUR`` at most: voting_service/lua/otp_issue.lua) and the national SMS budget (``SmsBudget``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from shared.client_ip import Client
from shared.errors import AppError, RateLimited, Unavailable
from shared.settings import Settings
from shared.votestore import keys, vote
from shared.votestore.script import Script
from voting_service import metrics
from voting_service.services.challenge import Challenges

LAYER_NAMES = ("ip", "net", "wide")
REFUSALS = {
    "otp": "Too many codes requested from this network; try later.",
    "verify": "Too many code checks from this network; try later.",
    "vote": "Too many votes too fast; wait a moment.",
    "nomination": "Too many nominations from this network; try later.",
}
CHALLENGE_DETAIL = ("Many requests come from your network right now. Your browser has to solve a short "
                    "puzzle (proof of work) first; send the request again with the solution.")


def route_layers(settings: Settings, route: str) -> tuple[int, ...]:
    """layers.lua's ARGV for ``route``: (soft, hard, window s) x (address, network, IPv6 /48)."""
    if route == "vote":
        return vote.layer_args(settings)
    f = settings.limit_hard_factor
    soft = {
        "otp": (settings.otp_max_per_ip_hour, settings.otp_max_per_net_hour, settings.otp_max_per_wide_hour),
        "verify": (settings.verify_max_per_ip_hour, settings.verify_max_per_net_hour,
                   settings.verify_max_per_wide_hour),
        "nomination": (settings.nominations_per_ip_hour, settings.nominations_per_net_hour,
                       settings.nominations_per_net_hour * 4),
    }[route]
    out: list[int] = []
    for limit in soft:
        out += [limit, limit * f, 3600]
    return tuple(out)


def challenges_of(settings: Settings, redis: aioredis.Redis) -> Challenges:
    return Challenges(key=settings.secrets.pseudonym_key, redis=redis, ttl_s=settings.challenge_ttl_s,
                      base=settings.challenge_base_maxnumber, ceiling=settings.challenge_max_maxnumber)


class Guard:
    """The layered limits and the proof-of-work decision, shared by the API routes and the portal forms."""

    def __init__(self, *, settings: Settings, redis: aioredis.Redis, challenges: Challenges | None = None) -> None:
        self._s = settings
        self._redis = redis
        self.challenges = challenges if challenges is not None else challenges_of(settings, redis)
        self._layers = Script(vote.LAYERS_SCRIPT)
        self._args = {route: route_layers(settings, route) for route in ("otp", "verify", "nomination")}
        self.sms = SmsBudget(settings, redis)

    async def admit(self, route: str, client: Client, solution: str | None) -> int:
        """Count this attempt of ``client`` on ``route``; return the difficulty of the good proof of work it came
        with (0: none).
        Raises 403 ``challenge_failed`` (a bad solution), 429 (a hard limit) or 428 (a soft limit, unsolved)."""
        solved = await self.challenges.check(route, solution)
        result = await self._layers(self._redis, keys.layer_keys(route, client.ip_hash, client.net, client.scope),
                                    self._args[route])
        self.decide(route, result, solved)
        return solved

    def decide(self, route: str, result: Sequence[Any], solved: int) -> None:
        """Turn layers.lua's ``{verdict, level_pct, retry, layer}`` into a refusal, a challenge or nothing.
        ``solved``: the difficulty of the request's good solution (0: none); one under half of what the risk
        now needs (collected early, while it was low) does not pass: a new, harder challenge is asked."""
        verdict = int(result[0])
        if verdict == 0:
            return
        layer = LAYER_NAMES[max(0, int(result[3]) - 1)]
        if verdict == 2:
            metrics.limit_refusals().labels(route, layer).inc()
            raise RateLimited(REFUSALS[route], retry_after=int(result[2]))
        level = int(result[1]) / 100
        if solved * 2 < self.challenges.difficulty(level):
            raise self.challenges.require(route, level, CHALLENGE_DETAIL)


class SmsBudget:
    """The national SMS budget per minute with a circuit breaker (shared/votestore/lua/sms_budget.lua).

    Past ``SMS_CHALLENGE_PERCENT`` of the minute's budget every code request needs proof of work (an attack
    in progress makes each code cost the sender CPU); a request that would exceed the budget opens the breaker
    for ``SMS_BREAKER_COOLDOWN_S``: no SMS is sent, code requests answer 503 ``unavailable`` with Retry-After,
    and ``sms_breaker_trips_total`` / ``sms_budget_refusals_total`` raise the alert (ops/prometheus/alerts.yml)
    rather than the bill growing without end."""

    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self._s = settings
        self._redis = redis
        self._script = Script(vote.SMS_BUDGET_SCRIPT)
        self._args = (settings.sms_budget_per_minute, settings.sms_breaker_cooldown_s)

    def _keys(self) -> list[str]:
        return [keys.sms_minute(int(time.time() // 60)), keys.SMS_BREAKER]

    async def _call(self, mode: str, ks: list[str]) -> list[Any]:
        return await self._script(self._redis, ks, [mode, *self._args])

    def risk(self, sent: int) -> float:
        """0 when calm; >= 1 (the level) when ``sent`` this minute passed the challenge share of the budget."""
        if self._s.sms_challenge_percent >= 100:  # no global challenge: only the breaker
            return 0.0
        threshold = self._s.sms_budget_per_minute * self._s.sms_challenge_percent / 100
        return sent / threshold if sent >= threshold else 0.0

    async def take(self) -> tuple[list[str], int]:
        """Reserve one SMS of this minute's budget: (the keys, to ``give`` it back; how many were reserved
        before this one). 503 while the breaker is open, or when this one would exceed the budget (it opens)."""
        ks = self._keys()
        state, n = await self._call("take", ks)
        if state == "tripped":
            metrics.sms_breaker_trips().inc()
        if state != "ok":
            raise self._refusal(int(n))
        return ks, int(n) - 1

    async def give(self, ks: list[str]) -> None:
        """Return a reservation whose SMS was not sent (the phone's own limits refused it)."""
        await self._call("give", ks)

    @staticmethod
    def _refusal(retry_after: int) -> AppError:
        metrics.sms_budget_refusals().inc()
        err = Unavailable("Sign-in by SMS is paused for a moment because of unusual demand; try again in a "
                          "minute.", code="unavailable")
        err.headers = {"Retry-After": str(max(1, retry_after))}
        err.extra = {"reason": "sms_budget"}
        return err
