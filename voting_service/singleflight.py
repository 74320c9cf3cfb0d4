"""One load at a time per key: concurrent callers that miss the same key share a single load (a burst of
requests after a cache entry expires costs one query or one render, not one per request). Used by the
directory's ``TTLCache`` and the portal's ``PageCache``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._loading: dict[Hashable, asyncio.Future[T]] = {}

    async def run(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``'s value, or that of the load already running for ``key``; its exception likewise."""
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._loading[key] = fut
        try:
            value = await load()
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved here; waiters re-raise it
            raise
        finally:
            del self._loading[key]
        fut.set_result(value)
        return value
