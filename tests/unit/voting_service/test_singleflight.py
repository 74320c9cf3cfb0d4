"""One load per key for concurrent callers (voting_service/singleflight.py), as the directory's TTLCache uses it."""

from __future__ import annotations

import asyncio

import pytest

from voting_service.services.directory import TTLCache
from voting_service.singleflight import SingleFlight


def counting_load():
    """A slow load that returns how many times it ran."""
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return calls

    return load


async def test_concurrent_callers_share_one_load_and_its_failure():
    flight: SingleFlight[int] = SingleFlight()
    load = counting_load()

    assert await asyncio.gather(*(flight.run("k", load) for _ in range(10))) == [1] * 10
    assert await flight.run("k", load) == 2  # nothing kept: a later call loads again

    async def broken() -> int:
        await asyncio.sleep(0.01)
        raise RuntimeError("store down")

    results = await asyncio.gather(*(flight.run("k", broken) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await flight.run("k", load) == 3


async def test_ttl_cache_loads_once_per_expiry():
    cache: TTLCache[int] = TTLCache(0.05)
    load = counting_load()

    assert await asyncio.gather(*(cache.get("k", load) for _ in range(10))) == [1] * 10
    assert await cache.get("k", load) == 1
    await asyncio.sleep(0.06)
    assert await cache.get("k", load) == 2

    async def broken() -> int:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        await cache.get("other", broken)
    assert await cache.get("other", load) == 3  # a failure is not cached
