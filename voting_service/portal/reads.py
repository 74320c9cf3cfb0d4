"""What the portal's pages read, cached per process like the API's directory (voting_service/services/directory.py).

Campaigns and ballots (with every language's texts: shared/texts.py picks one) come from the directory itself,
one cache for the API and the pages; results and the final list from ``services.results``. This adds the
campaigns by slug, the name behind an avatar, and the page cache.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import asyncpg

from shared.repos.campaigns import public_status
from voting_service.portal.cache import Fingerprints, PageCache
from voting_service.repos import portal as repo
from voting_service.services.directory import CampaignDirectory, CampaignNotFound, TTLCache


class PortalReads:
    def __init__(self, pool: asyncpg.Pool, directory: CampaignDirectory, ttl_s: float) -> None:
        self._pool = pool
        self.directory = directory
        self.pages = PageCache()
        self.fingerprints = Fingerprints()
        self._names: TTLCache[str | None] = TTLCache(max(ttl_s, 60.0))
        self._slugs: tuple[object, dict[str, asyncpg.Record]] | None = None

    async def campaigns(self) -> list[asyncpg.Record]:
        return await self.directory.list()

    async def by_slug(self, slug: str) -> asyncpg.Record:
        rows = await self.directory.list()
        if self._slugs is None or self._slugs[0] is not rows:
            self._slugs = (rows, {r["slug"]: r for r in rows})
        row = self._slugs[1].get(slug)
        if row is None:
            raise CampaignNotFound(f"No published campaign {slug[:64]!r}.")
        return row

    async def ballot(self, campaign_id: int) -> list[asyncpg.Record]:
        return await self.directory.ballot(campaign_id)

    async def public_name(self, candidate_id: int) -> str | None:
        async def load() -> str | None:
            async with self._pool.acquire() as conn:
                return await repo.public_name(conn, candidate_id=candidate_id)
        return await self._names.get(candidate_id, load)


def status_now(row: Mapping[str, Any]) -> str:
    return public_status(row, int(time.time() * 1000))
