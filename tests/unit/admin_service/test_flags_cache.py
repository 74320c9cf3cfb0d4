"""The fraud listing's cache: one computation per key at a time, reused for its time to live, forgotten per
campaign on demand; a failed computation is not kept."""

from __future__ import annotations

import asyncio

import pytest

from admin_service.services.fraud import FlagsCache


async def test_concurrent_requests_share_one_computation_and_reuse_it_until_forgotten():
    cache, calls = FlagsCache(ttl_s=60), []

    async def compute():
        calls.append(1)
        await asyncio.sleep(0.05)
        return {"n": len(calls)}

    got = await asyncio.gather(*(cache.get((1, None), compute) for _ in range(5)))
    assert got == [{"n": 1}] * 5 and len(calls) == 1
    assert await cache.get((1, None), compute) == {"n": 1} and len(calls) == 1
    assert await cache.get((1, "net"), compute) == {"n": 2}  # another kind, another entry
    assert await cache.get((2, None), compute) == {"n": 3}
    cache.forget(1)
    assert await cache.get((1, None), compute) == {"n": 4}
    assert await cache.get((1, "net"), compute) == {"n": 5}
    assert await cache.get((2, None), compute) == {"n": 3}  # another campaign is kept


async def test_entries_expire_and_failures_are_not_kept():
    cache, calls = FlagsCache(ttl_s=0.05), []

    async def compute():
        calls.append(1)
        n = len(calls)
        await asyncio.sleep(0.02)  # the other waiters join this computation meanwhile
        if n == 2:
            raise RuntimeError("statement timeout")
        return n

    assert await cache.get((1, None), compute) == 1
    await asyncio.sleep(0.08)
    waiters = [asyncio.ensure_future(cache.get((1, None), compute)) for _ in range(3)]
    for w in waiters:
        with pytest.raises(RuntimeError):
            await w
    assert await cache.get((1, None), compute) == 3
