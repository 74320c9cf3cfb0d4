"""The national attack mode of the vote (issue 12 item 2: when risk is high globally, every vote needs proof of
work; docs/fraud.md "Attack mode").

The flusher sees every accepted vote with its live signals. Over the last minute, when at least
``ATTACK_MIN_PER_MINUTE`` votes came from automated clients (a headless or script User-Agent) or from a run of
sequential phone numbers, and they were at least ``ATTACK_SHARE_PERCENT`` of all votes, it declares a national
risk level in Redis (``rl:{attack}:vote``) for ``ATTACK_HOLD_S``, renewed while the attack lasts: from 1 at
the threshold to 16 when every vote is flagged. Each voting worker reads that key at most once a second
(``AttackLevel``); while it is set, a vote without a good proof of work at the level's difficulty answers 428
``challenge_required`` — the portal's worker solves it in a fraction of a second, a farm pays CPU for every
vote. Operators can set or clear it by hand (``python -m voting_service attack``); the flusher never lowers or
shortens a level already set.

The defaults keep ordinary voting free of challenges: a broadcast surge of people in browsers flags nothing,
and a handful of scripts is a small share of a national vote. Outside production the automatic mode is off
unless ATTACK_SHARE_PERCENT is given (tests and load tools drive the API with scripts on purpose).
"""

from __future__ import annotations

import logging
import time
from collections import deque

import redis.asyncio as aioredis

from shared.settings import Settings
from shared.votestore import keys

log = logging.getLogger("voting_service.attack")

WINDOW_S = 60.0
REFRESH_S = 1.0
MAX_LEVEL = 16.0


def level_for(flagged: int, total: int, share: float) -> float:
    """1 when the flagged share just reaches ``share``, doubling as it goes up, 16 when every vote is flagged."""
    if total <= 0:
        return 0.0
    over = (flagged / total - share) / max(1e-9, 1.0 - share)
    return round(2 ** (4 * min(1.0, max(0.0, over))), 3)


class AttackWatch:
    """The flusher's side: a sliding minute of (votes, flagged votes) per committed batch."""

    def __init__(self, settings: Settings) -> None:
        self.share = settings.attack_share_percent / 100
        self.min_flagged = settings.attack_min_per_minute
        self.hold_s = settings.attack_hold_s
        self._batches: deque[tuple[float, int, int]] = deque()
        self._total = self._flagged = 0

    @property
    def enabled(self) -> bool:
        return self.share > 0

    def observe(self, votes: int, flagged: int, *, now: float | None = None) -> float:
        """Fold one batch in; return the level the last minute calls for (0: no attack)."""
        now = time.monotonic() if now is None else now
        self._batches.append((now, votes, flagged))
        self._total += votes
        self._flagged += flagged
        while self._batches and self._batches[0][0] < now - WINDOW_S:
            _, v, f = self._batches.popleft()
            self._total -= v
            self._flagged -= f
        if not self.enabled or self._flagged < self.min_flagged or self._flagged < self.share * self._total:
            return 0.0
        return level_for(self._flagged, self._total, self.share)

    async def declare(self, r: aioredis.Redis, level: float) -> bool:
        """Set ``level`` for ``hold_s`` unless a level at least as high is already set (by hand, or earlier)
        and lasts longer; True when written."""
        current, ttl = await current_level(r)
        if current >= level and ttl >= self.hold_s:
            return False
        await r.set(keys.ATTACK_LEVEL, repr(max(level, current)), ex=max(self.hold_s, ttl))
        if current == 0:
            log.warning("attack mode on: level %.3g for %d s (flagged votes over the last minute: %d of %d)",
                        level, self.hold_s, self._flagged, self._total)
        return True


async def current_level(r: aioredis.Redis) -> tuple[float, int]:
    """(level, seconds left); (0, 0) when no attack is declared."""
    raw = await r.get(keys.ATTACK_LEVEL)
    if raw is None:
        return 0.0, 0
    ttl = await r.ttl(keys.ATTACK_LEVEL)
    return parse_level(raw), max(0, int(ttl))


def parse_level(raw: str | bytes | None) -> float:
    """A stored level; anything unreadable counts as none (a typo by hand must not stop the vote)."""
    try:
        level = float(raw) if raw is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
    return min(MAX_LEVEL, level) if level >= 1.0 else 0.0


class AttackLevel:
    """The voting worker's side: the declared level, read from Redis at most once a second.

    A read that fails keeps the last level (the vote itself meets the same Redis trouble and answers for it).
    The first failure of a run of them is logged with its traceback, the rest of the run not at all (during a
    failover that would be one traceback a second per worker), and the first read that works again says so."""

    def __init__(self, redis: aioredis.Redis, refresh_s: float = REFRESH_S) -> None:
        self._redis = redis
        self._refresh_s = refresh_s
        self._level = 0.0
        self._next = 0.0
        self._failing_since: float | None = None

    def cached(self) -> float | None:
        """The level, or None when it is due to be read again (then ``await level()``): no coroutine per vote."""
        return self._level if time.monotonic() < self._next else None

    async def level(self) -> float:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._refresh_s  # the other votes of this moment keep the last value
            try:
                self._level = parse_level(await self._redis.get(keys.ATTACK_LEVEL))
            except Exception:  # noqa: BLE001 - Redis trouble shows in the vote itself; keep the last level
                if self._failing_since is None:
                    self._failing_since = now
                    log.warning("attack level not read; keeping %.3g until a read works", self._level,
                                exc_info=True)
            else:
                if self._failing_since is not None:
                    log.warning("attack level read again after %.1f s: %.3g", now - self._failing_since,
                                self._level)
                    self._failing_since = None
        return self._level
