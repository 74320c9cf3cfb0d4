"""The one place the vote store goes below redis-py's public API: a batch of pre-packed commands written on
one pooled connection and its replies read straight off it (shared/votestore/batcher.py).

Why below the API: a redis-py pipeline builds a command object, a stack of callbacks and a per-reply timeout
context for every call; at ~10 000 votes/s on 2 vCPU that was a measurable share of the vote's CPU
(docs/performance.md). Here one ``asyncio.timeout`` covers the whole batch.

What it relies on (redis-py's ``redis.asyncio``; bounds in pyproject.toml; tests/unit/votestore/test_wire.py
fails with the name of the method when a release changes any of it):

- ``ConnectionPool.get_connection()`` callable without a command name (6.0+), ``ConnectionPool.release(conn)``;
- ``Connection.send_packed_command(bytes, check_health=...)``;
- ``Connection.read_response(timeout=...)`` (``math.inf``: no per-reply socket timeout), raising
  ``ResponseError`` for an error reply and leaving the connection usable;
- ``Connection.disconnect(nowait=True)``: drop a connection whose replies are in an unknown state.

Signatures checked on redis-py 6.0.0, 7.0.0 and 8.1.0; the test suite runs on the installed release.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

# (class, method, parameters it must accept by name, whether it is a coroutine function). The test compares
# redis-py against this table; keep it in step with the calls below.
REQUIRED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ConnectionPool", "get_connection", ()),
    ("ConnectionPool", "release", ("connection",)),
    ("AbstractConnection", "send_packed_command", ("command", "check_health")),
    ("AbstractConnection", "read_response", ("timeout",)),
    ("AbstractConnection", "disconnect", ("nowait",)),
)


async def send_batch(r: aioredis.Redis, packed: bytes, n_replies: int, timeout_s: float) -> list[Any]:
    """Write ``packed`` (``n_replies`` RESP commands) and read its replies: an error reply is returned in its
    place, a connection failure or ``timeout_s`` for the whole batch is raised (and the connection dropped)."""
    pool = r.connection_pool
    conn = await pool.get_connection()
    try:
        await conn.send_packed_command(packed, check_health=False)
        out: list[Any] = []
        async with asyncio.timeout(timeout_s):
            for _ in range(n_replies):
                try:
                    out.append(await conn.read_response(timeout=math.inf))
                except redis.exceptions.ResponseError as exc:
                    out.append(exc)
        return out
    except BaseException:
        await conn.disconnect(nowait=True)
        raise
    finally:
        await pool.release(conn)
