"""Lua scripts and the batcher that sends many concurrent script calls to Redis in one pipeline.

Under load hundreds of requests in one worker want Redis at once; rather than each taking a connection
and a round trip, calls queue up and a drainer sends them together (``EVALSHA`` x N in one pipeline, no
MULTI: each script is atomic on its own). When Redis is slow the batches simply grow.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from shared.errors import Unavailable


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


class Script:
    def __init__(self, name: str) -> None:
        self.name = name
        self.source = resources.files("voting_service.lua").joinpath(f"{name}.lua").read_text("utf-8")
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def load(self, r: aioredis.Redis) -> None:
        await r.script_load(self.source)

    async def __call__(self, r: aioredis.Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await r.evalsha(self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            return await r.eval(self.source, len(keys), *keys, *args)


class ScriptBatcher:
    """Runs one script for many callers, pipelining whatever has queued since the last round trip."""

    def __init__(self, r: aioredis.Redis, script: Script, *, max_batch: int = 512, max_inflight: int = 2,
                 timeout_s: float = 1.5) -> None:
        self._redis = r
        self._script = script
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._timeout_s = timeout_s
        self._queue: list[tuple[Sequence[str], Sequence[Any], asyncio.Future[Any]]] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_retrieve)  # a caller that timed out must not leave an unread exception
        self._queue.append((keys, args, fut))
        self._kick()
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self._timeout_s)
        except TimeoutError as exc:
            raise Unavailable("The vote store did not answer in time; try again.") from exc

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

    async def _pipeline(self, calls: list[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        pipe = self._redis.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(self._script.sha, len(keys), *keys, *args)
        return await pipe.execute(raise_on_error=False)

    async def close(self) -> None:
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)
