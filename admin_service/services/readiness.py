"""Readiness: can this process reach Postgres and Redis right now?"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
import redis.asyncio as aioredis

log = logging.getLogger("admin_service.readiness")

OK = "ok"
DOWN = "unavailable"


async def _postgres(pool: asyncpg.Pool, timeout_s: float) -> None:
    async with pool.acquire(timeout=timeout_s) as conn:
        await conn.fetchval("SELECT 1", timeout=timeout_s)


async def _redis(r: aioredis.Redis, timeout_s: float) -> None:
    await r.ping()


async def _probe(name: str, check: Callable[[], Awaitable[None]], timeout_s: float) -> str:
    try:
        async with asyncio.timeout(timeout_s):
            await check()
    except Exception as exc:  # any failure, of any kind, means "not ready"; the cause goes to the log
        log.warning("readiness: %s is not answering: %r", name, exc)
        return DOWN
    return OK


async def check(*, pool: asyncpg.Pool, redis: aioredis.Redis, timeout_s: float = 1.0) -> dict[str, str]:
    """{"postgres": "ok" | "unavailable", "redis": ...}, both probed concurrently within ``timeout_s``."""
    pg, rd = await asyncio.gather(
        _probe("postgres", lambda: _postgres(pool, timeout_s), timeout_s),
        _probe("redis", lambda: _redis(redis, timeout_s), timeout_s),
    )
    return {"postgres": pg, "redis": rd}
