"""Adaptive proof of work: ALTCHA-compatible challenges for the routes the abuse defence protects.

A protected route that finds the risk high (an address, a network, a phone or the whole service over its soft
limit; voting_service/services/guard.py) answers 428 ``challenge_required`` with
``{challenge: {algorithm, challenge, salt, maxnumber, signature}}``. The client finds the number ``n`` in
``0..maxnumber`` with ``SHA-256(salt + n) == challenge`` and repeats the request with
``X-Challenge-Solution: base64(JSON {algorithm, challenge, number, salt, signature})``.

Made and checked with the ``altcha`` package (ALTCHA's v1 format, what its widget and solvers speak):

* stateless: ``signature`` is an HMAC of ``challenge`` under a key derived from the pseudonym key, so any
  worker verifies any challenge without storing it;
* the salt carries its expiry (ALTCHA's ``?expires=<unix s>`` convention) and the route it was issued for
  (``r=``), both covered by the signature (the challenge hashes the salt);
* replay guard: a solved challenge is spent with ``SET NX`` on ``rl:{pow}:<challenge>`` for as long as it
  would have lived, so one solution buys one request;
* difficulty (``maxnumber``) grows with the risk level the limits report; the salt carries it too (``d=``), so a
  solution of an easy challenge collected early does not pass once the risk is much higher (``Guard.decide``
  asks for a new one when the solved difficulty is under half of what the risk now needs).

A presented solution is always checked: wrong, expired, for another route, or replayed is 403
``challenge_failed``; a header that is not even a solution (garbage) is the same 403, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any

import altcha
import redis.asyncio as aioredis

from shared.errors import AppError, Forbidden
from voting_service import metrics

ALGORITHM = "SHA-256"
MAX_HEADER = 2048  # a real solution is ~400 bytes of base64


def replay_key(challenge: str) -> str:
    """string with TTL: a spent challenge (own hash tag: one key per challenge, any shard)."""
    return f"rl:{{pow}}:{challenge}"


class ChallengeRequired(AppError):
    status = 428
    code = "challenge_required"
    title = "Proof of work required"

    def __init__(self, detail: str, challenge: dict[str, Any]) -> None:
        super().__init__(detail, extra={"challenge": challenge})
        self.challenge = challenge


class ChallengeFailed(Forbidden):
    code = "challenge_failed"
    title = "Proof of work failed"


def difficulty(level: float, *, base: int, ceiling: int) -> int:
    """``maxnumber`` for a risk ``level`` (1: just over a soft limit; 2: twice over...): doubles with each
    doubling of the level, from ``base`` up to ``ceiling``. A client tries maxnumber/2 hashes on average."""
    level = max(1.0, float(level))
    steps = 0
    while level >= 2.0 and steps < 30:
        level /= 2.0
        steps += 1
    return int(min(ceiling, base * (2 ** steps)))


class Challenges:
    def __init__(self, *, key: bytes, redis: aioredis.Redis, ttl_s: int, base: int, ceiling: int) -> None:
        # A key of its own, derived: a leaked challenge signature says nothing about pseudonyms.
        self._key = hmac.new(key, b"altcha-challenge-v1", hashlib.sha256).hexdigest()
        self._redis = redis
        self._ttl_s = ttl_s
        self.base = base
        self.ceiling = ceiling

    def issue(self, route: str, level: float = 1.0) -> dict[str, Any]:
        """A fresh signed challenge for ``route`` at the difficulty of ``level`` (the 428 body's member)."""
        expires = dt.datetime.fromtimestamp(int(time.time()) + self._ttl_s, dt.UTC)
        maxnumber = self.difficulty(level)
        c = altcha.create_challenge_v1(algorithm=ALGORITHM, max_number=maxnumber, hmac_key=self._key,
                                       expires=expires, params={"r": route, "d": str(maxnumber)})
        metrics.challenges_issued().labels(route).inc()
        return {"algorithm": c.algorithm, "challenge": c.challenge, "salt": c.salt, "maxnumber": c.max_number,
                "signature": c.signature}

    def difficulty(self, level: float) -> int:
        return difficulty(level, base=self.base, ceiling=self.ceiling)

    def require(self, route: str, level: float, detail: str) -> ChallengeRequired:
        return ChallengeRequired(detail, self.issue(route, level))

    async def check(self, route: str, header: str | None) -> int:
        """0 without a header; for a good, fresh, unspent solution for ``route`` (now spent) the difficulty it
        was issued at (>= 1); raises ChallengeFailed for anything else."""
        if header is None:
            return 0
        payload, reason = _parse(header)
        if payload is None:
            return self._fail(route, reason)
        salt = payload["salt"]
        params = _salt_params(salt)
        if params.get("r") != route:
            return self._fail(route, "route")
        expires = params.get("expires", "")
        if not expires.isascii() or not expires.isdigit() or int(expires) < time.time():
            return self._fail(route, "expired")
        try:
            ok, _ = altcha.verify_solution_v1(payload, self._key, check_expires=False)
        except Exception:  # noqa: BLE001 - the package on odd input; ours is already shape-checked
            ok = False
        if not ok:
            return self._fail(route, "invalid")
        solved_at = params.get("d", "")
        solved_at = int(solved_at) if solved_at.isascii() and solved_at.isdigit() and len(solved_at) < 10 else 1
        ttl = max(1, int(expires) - int(time.time()) + 1)
        if not await self._redis.set(replay_key(payload["challenge"]), "1", nx=True, ex=ttl):
            return self._fail(route, "replayed")
        metrics.challenges_solved().labels(route).inc()
        return max(1, solved_at)

    def _fail(self, route: str, reason: str) -> int:
        metrics.challenges_failed().labels(route, reason).inc()
        raise ChallengeFailed({
            "expired": "The proof of work has expired; solve the new challenge.",
            "replayed": "This proof of work was already used; solve the new challenge.",
        }.get(reason, "The proof of work is not a valid solution of a challenge we issued."))


def _parse(header: str) -> tuple[dict[str, Any] | None, str]:
    """The solution's fields when the header has ALTCHA's shape (strings and a non-negative int number)."""
    if len(header) > MAX_HEADER:
        return None, "malformed"
    try:
        data = json.loads(base64.b64decode(header.strip(), validate=True))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None, "malformed"
    if not isinstance(data, dict):
        return None, "malformed"
    fields = ("algorithm", "challenge", "salt", "signature")
    if not all(isinstance(data.get(f), str) for f in fields) or data["algorithm"] != ALGORITHM:
        return None, "malformed"
    number = data.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 10**9:
        return None, "malformed"
    return {f: data[f] for f in fields} | {"number": number}, ""


def _salt_params(salt: str) -> dict[str, str]:
    """ALTCHA's salt parameters (``<random>?expires=...&r=...&``); a repeated name is refused outright."""
    _, _, query = salt.partition("?")
    out: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if name in out:
            return {}
        out[name] = value
    return out
