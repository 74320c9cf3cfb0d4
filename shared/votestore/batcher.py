"""The batcher that sends many concurrent calls of one Lua script to Redis in one pipeline.

Under load hundreds of requests in one worker want Redis at once; rather than each taking a connection
and a round trip, calls queue up and a drainer sends them together (``EVALSHA`` x N in one pipeline, no
MULTI: each script is atomic on its own). When Redis is slow the batches simply grow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from shared.errors import Unavailable
from shared.votestore import wire
from shared.votestore.script import Script


def _bulk(value: Any) -> bytes:
    """One RESP bulk string (what redis-py's ``pack_command`` makes of str, int and bytes arguments)."""
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str):
        raw = value.encode()
    elif isinstance(value, int) and not isinstance(value, bool):
        raw = b"%d" % value
    else:
        raise TypeError(f"unsupported script argument {value!r}")
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


def _expire(group: list[asyncio.Future[Any]]) -> None:
    for fut in group:
        if not fut.done():
            fut.set_exception(Unavailable("The vote store did not answer in time; try again."))


class ScriptBatcher:
    """Runs one script for many callers, pipelining whatever has queued since the last round trip.

    A call costs one future: no ``wait_for``/``shield`` per caller. Deadlines are kept per *group* of calls
    queued within ``GROUP_S`` of each other: one timer per group fails whatever of it is still unanswered
    ``timeout_s`` after the group opened (a caller waits at most ``timeout_s``, at least ``timeout_s -
    GROUP_S``). The ``EVALSHA`` commands are packed into RESP here, the script's constant trailing arguments
    (``tail_args``) once at construction, and each batch goes out in one write on one pooled connection.
    """

    GROUP_S = 0.01
    KEY_CACHE = 50_000

    def __init__(self, r: aioredis.Redis, script: Script, *, max_batch: int = 512, max_inflight: int = 2,
                 timeout_s: float = 1.5, tail_args: Sequence[Any] = ()) -> None:
        self._redis = r
        self._script = script
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._timeout_s = timeout_s
        self._queue: list[tuple[Sequence[str], Sequence[Any], asyncio.Future[Any]]] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._tail = b"".join(_bulk(a) for a in tail_args)
        self._n_tail = len(tail_args)
        self._head = _bulk("EVALSHA") + _bulk(script.sha)
        self._group: list[asyncio.Future[Any]] = []
        self._group_t0 = float("-inf")
        self._packed_keys: dict[str, bytes] = {}  # a key's RESP form: most keys recur (per campaign, bucket)

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        now = loop.time()
        if now - self._group_t0 > self.GROUP_S:
            self._group = []
            self._group_t0 = now
            loop.call_at(now + self._timeout_s, _expire, self._group)
        self._group.append(fut)
        self._queue.append((keys, args, fut))
        self._kick()
        return await fut

    def _kick(self) -> None:
        while self._queue and self._inflight < self._max_inflight:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch:]
            self._inflight += 1
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[Sequence[str], Sequence[Any], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._execute(batch)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError, TimeoutError) as exc:
            for _, _, fut in batch:
                if not fut.done():
                    err = Unavailable("The vote store is not answering; try again shortly.")
                    err.__cause__ = exc
                    fut.set_exception(err)
        except BaseException as exc:  # surface anything unexpected to the callers, never hang them
            for _, _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for (_, _, fut), res in zip(batch, results):
                if fut.done():
                    continue
                if isinstance(res, Exception):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)
        finally:
            self._inflight -= 1
            self._kick()

    async def _execute(self, batch: list[tuple[Sequence[str], Sequence[Any], asyncio.Future[Any]]]) -> list[Any]:
        results = await self._pipeline([(keys, args) for keys, args, _ in batch])
        retry = [i for i, res in enumerate(results) if isinstance(res, redis.exceptions.NoScriptError)]
        if retry:
            # Redis restarted or was flushed: a NOSCRIPT call did nothing, so load and re-send just those.
            await self._script.load(self._redis)
            again = await self._pipeline([(batch[i][0], batch[i][1]) for i in retry])
            for i, res in zip(retry, again):
                results[i] = res
        return results

    def _pack(self, calls: list[tuple[Sequence[str], Sequence[Any]]]) -> bytes:
        head, tail, n_tail, packed_keys = self._head, self._tail, self._n_tail, self._packed_keys
        if len(packed_keys) > self.KEY_CACHE:  # unique keys (per voter) pass through: start again
            packed_keys.clear()
        parts: list[bytes] = []
        append = parts.append
        for keys, args in calls:
            append(b"*%d\r\n" % (3 + len(keys) + len(args) + n_tail))
            append(head)
            append(_bulk(len(keys)))
            for key in keys:
                raw = packed_keys.get(key)
                if raw is None:
                    raw = packed_keys[key] = _bulk(key)
                append(raw)
            for a in args:
                append(_bulk(a))
            append(tail)
        return b"".join(parts)

    async def _pipeline(self, calls: list[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        """Like a non-transactional redis-py pipeline of ``EVALSHA``s (an error reply is returned in its
        place, a connection failure raised for the batch), with one deadline (``timeout_s``) for all the
        batch's replies; shared/votestore/wire.py does the connection work."""
        return await wire.send_batch(self._redis, self._pack(calls), len(calls), self._timeout_s)

    async def close(self) -> None:
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)
