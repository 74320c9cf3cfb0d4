"""The vote batcher when Redis stops answering mid-batch (a black-holed connection: no reply, no reset, as in
a network partition or a failover behind the same address): every caller gets 503 ``unavailable`` within the
batcher's deadline, the stuck connections are dropped, and new calls go through new connections."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from shared.errors import Unavailable
from shared.votestore.batcher import ScriptBatcher
from shared.votestore.script import Script

pytestmark = pytest.mark.e2e


def _echo() -> Script:
    return Script.from_source("echo", "return ARGV[1]")


class BlackHoleProxy:
    """TCP proxy to Redis; ``swallow()`` makes every connection open so far silently drop what it carries
    (both ways) while new connections are forwarded normally."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.generation = 0
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    def swallow(self) -> None:
        self.generation += 1

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        born = self.generation
        self.tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        sr, sw = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [cw, sw]

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                if self.generation == born:
                    writer.write(data)
                    await writer.drain()

        await asyncio.gather(pipe(cr, sw), pipe(sr, cw), return_exceptions=True)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for w in self.writers:
            w.close()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for w in self.writers:
            try:
                await w.wait_closed()
            except (ConnectionError, OSError):
                pass


async def test_a_black_holed_connection_fails_the_batch_in_time_and_the_batcher_recovers(redis_url):
    direct = aioredis.Redis.from_url(redis_url)
    proxy = BlackHoleProxy(direct.connection_pool.connection_kwargs.get("port", 6379))
    port = await proxy.start()
    r = aioredis.Redis(port=port, decode_responses=True, socket_timeout=None)  # no socket timeout at all
    batcher = ScriptBatcher(r, _echo(), timeout_s=0.5)
    try:
        await _echo().load(direct)
        assert await asyncio.gather(*(batcher([f"k{i}"], [i]) for i in range(20))) == [str(i) for i in range(20)]

        proxy.swallow()
        t0 = time.monotonic()
        results = await asyncio.gather(*(batcher([f"k{i}"], [i]) for i in range(50)), return_exceptions=True)
        assert all(isinstance(x, Unavailable) for x in results), results
        assert time.monotonic() - t0 < 2.0  # the batcher's deadline

        # The swallowed connections are dropped: new calls get new connections, which the proxy forwards.
        assert await asyncio.wait_for(batcher(["k"], ["again"]), 5) == "again"
    finally:
        try:
            await asyncio.wait_for(batcher.close(), 5)  # a batch stuck on a swallowed connection would hang here
        finally:
            await r.aclose()
            await direct.aclose()
            await proxy.close()
