"""What citizens may see of campaigns and ballots, read from Postgres and cached for a second.

Reads are cold (one query a second per worker at most, whatever the traffic); a ballot the admin
publishes shows within ``campaign_cache_s``. The vote itself never waits on Postgres: it routes with
``RouteTable``, which reads the Redis projection.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import asyncpg
import msgspec
import redis.asyncio as aioredis

from shared.errors import NotFound
from shared.repos import campaigns as repo
from shared.texts import all_texts
from shared.votestore.vote import Route, load_route
from voting_service.models import BallotCandidate
from voting_service.singleflight import SingleFlight

T = TypeVar("T")


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    title = "Campaign not found"


class TTLCache(Generic[T]):
    """A tiny per-process cache: values expire after ``ttl_s``. Concurrent misses on one key share a
    single load (``SingleFlight``)."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl = ttl_s
        self._data: dict[Any, tuple[float, T]] = {}
        self._flight: SingleFlight[T] = SingleFlight()

    async def get(self, key: Any, load: Callable[[], Awaitable[T]]) -> T:
        hit = self._data.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return await self._flight.run(key, lambda: self._load(key, load))

    async def _load(self, key: Any, load: Callable[[], Awaitable[T]]) -> T:
        value = await load()
        if len(self._data) > 10_000:
            self._data.clear()
        self._data[key] = (time.monotonic() + self._ttl, value)
        return value


def parse_campaign_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise CampaignNotFound(f"No campaign {raw[:40]!r}.")
    return int(raw)


def campaign_view(row: Any, now_ms: int) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "slug": row["slug"],
        "title": row["title"],
        "status": repo.public_status(row, now_ms),
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "votes_per_voter": row["votes_per_voter"],
        "seats": row["seats"],
        "live_results": row["live_results"],
    }


def ballot_candidate(row: Any) -> BallotCandidate:
    """A ballot row as the public API's candidate (every language's texts; shared/texts.py picks one)."""
    base_lang = row["text_lang"]
    texts = {lang: entry for lang, entry in all_texts(row).items() if lang != base_lang}
    return msgspec.convert({
        "id": str(row["id"]), "full_name": row["full_name"], "region": row["region"], "sphere": row["sphere"],
        "summary": row["summary"], "photo_url": row["photo_url"], "gender": row["gender"], "text_lang": base_lang,
        "story": row["story"], "achievements": row["achievements"] or [], "texts": texts,
    }, BallotCandidate)


class CampaignDirectory:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float) -> None:
        self._pool = pool
        self._lists: TTLCache[list[asyncpg.Record]] = TTLCache(ttl_s)
        self._one: TTLCache[asyncpg.Record | None] = TTLCache(ttl_s)
        self._ballots: TTLCache[list[asyncpg.Record]] = TTLCache(ttl_s)

    async def _fetch(self, fn: Callable[..., Awaitable[T]], **kw: Any) -> T:
        async with self._pool.acquire() as conn:
            return await fn(conn, **kw)

    async def list(self) -> list[asyncpg.Record]:
        return await self._lists.get("all", lambda: self._fetch(repo.list_visible))

    async def get(self, campaign_id: int) -> asyncpg.Record:
        row = await self._one.get(campaign_id, lambda: self._fetch(repo.get_visible, campaign_id=campaign_id))
        if row is None:
            raise CampaignNotFound(f"No published campaign {campaign_id}.")
        return row

    async def ballot(self, campaign_id: int) -> list[asyncpg.Record]:
        await self.get(campaign_id)
        return await self._ballots.get(campaign_id, lambda: self._fetch(repo.ballot, campaign_id=campaign_id))


class RouteTable:
    def __init__(self, r: aioredis.Redis, ttl_s: float) -> None:
        self._redis = r
        self._cache: TTLCache[Route | None] = TTLCache(ttl_s)

    async def _load(self, campaign_id: int) -> Route | None:
        return await load_route(self._redis, campaign_id)

    async def get(self, campaign_id: int) -> Route:
        route = await self._cache.get(campaign_id, lambda: self._load(campaign_id))
        if route is None:
            raise CampaignNotFound(f"No published campaign {campaign_id}.")
        return route
