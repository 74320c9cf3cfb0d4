"""Factories for the Postgres pool and the Redis client. Called from lifespans and commands, never at import."""

from __future__ import annotations

import asyncpg
import msgspec
import redis.asyncio as aioredis

_json_encode = msgspec.json.encode
_json_decode = msgspec.json.decode


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=lambda v: _json_encode(v).decode(), decoder=_json_decode,
                                  schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A pool's ``reset`` that sends nothing: asyncpg still rolls back a transaction left open and drops the
    connection's listeners before calling it (``Connection._reset``); the default ``RESET ALL; CLOSE ALL;
    UNLISTEN *; SELECT pg_advisory_unlock_all()`` round trip is skipped."""


async def create_pool(database_url: str, *, min_size: int = 0, max_size: int = 10,
                      reset_session: bool = True) -> asyncpg.Pool:
    """min_size=0 by default: a service starts (and serves what needs no Postgres) while Postgres is down.

    ``reset_session=False`` for a service whose code never changes a session's state (no session ``SET``,
    ``LISTEN``, advisory lock or ``WITH HOLD`` cursor; ``SET LOCAL`` in a transaction is fine): a connection
    goes back to the pool without the reset round trip. The voting service: it saves one round trip (and
    Postgres' work for it) per request that reads Postgres, e.g. the receipt lookup (docs/performance.md)."""
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=_init_connection,
        command_timeout=10, timeout=5, reset=None if reset_session else _keep_session,
    )


def create_redis(redis_url: str, *, timeout_s: float = 1.0, max_connections: int = 64) -> aioredis.Redis:
    """Short socket timeouts: a hung Redis turns into an error within ``timeout_s``, never a hung request."""
    # A blocking pool: a burst beyond max_connections waits (up to timeout_s) for a free connection
    # instead of failing at once.
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=0,
        max_connections=max_connections,
        timeout=timeout_s,
        decode_responses=True,
    )
    return aioredis.Redis.from_pool(pool)  # the client owns the pool and closes it
