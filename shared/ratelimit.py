"""A fixed-window counter in Redis for the rate limits outside the vote script (sign-in, nominations)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from shared.errors import RateLimited
from shared.infra import transaction


async def hit(r: aioredis.Redis, key: str, *, limit: int, window_s: int, detail: str) -> None:
    """Count one attempt under ``key``; raise RateLimited (with Retry-After) past ``limit`` in the window."""
    def fill(pipe: Any) -> None:
        pipe.incr(key)
        pipe.expire(key, window_s, nx=True)
        pipe.ttl(key)

    count, _, ttl = await transaction(r, key, fill)
    if count > limit:
        raise RateLimited(detail, retry_after=ttl)
