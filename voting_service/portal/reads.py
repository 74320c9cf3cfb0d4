"""What the portal's pages read, cached per process like the API's directory (voting_service/services/directory.py).

Campaigns and ballots come from the directory itself (one cache for the API and the pages); this adds the
candidates' full texts, the frozen final list, the name behind an avatar, and the page cache.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.repos.campaigns import public_status
from voting_service.portal.cache import Fingerprints, PageCache
from voting_service.repos import portal as repo
from voting_service.services.directory import CampaignDirectory, CampaignNotFound, TTLCache

TEXT_ORDER = ("kk", "ru", "en")


@dataclass(frozen=True)
class Texts:
    """A candidate's summary, story and achievements in one language (``lang``)."""

    summary: str
    story: str
    achievements: Sequence[Mapping[str, Any]]
    lang: str


def localized(row: Mapping[str, Any], lang: str) -> Texts:
    """The visitor's language if the candidate's texts exist in it, else the first of kk, ru, en that does.

    TODO(portal): replace with ``localized_texts`` of helper "data" (shared/texts.py) once merged."""
    base_lang = row.get("text_lang") or "ru"
    texts = dict(row.get("texts") or {})
    texts[base_lang] = {"summary": row.get("summary") or "", "story": row.get("story") or "",
                        "achievements": row.get("achievements") or []}
    for code in (lang, *(c for c in TEXT_ORDER if c != lang)):
        found = texts.get(code)
        if found and (found.get("story") or found.get("summary")):
            return Texts(summary=found.get("summary") or "", story=found.get("story") or "",
                         achievements=found.get("achievements") or [], lang=code)
    return Texts(summary="", story="", achievements=[], lang=lang)


class PortalReads:
    def __init__(self, pool: asyncpg.Pool, directory: CampaignDirectory, ttl_s: float) -> None:
        self._pool = pool
        self.directory = directory
        self.pages = PageCache()
        self.fingerprints = Fingerprints()
        self._texts: TTLCache[dict[str, dict[str, Any]]] = TTLCache(ttl_s)
        self._final: TTLCache[asyncpg.Record | None] = TTLCache(ttl_s)
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

    async def texts(self, campaign_id: int) -> dict[str, dict[str, Any]]:
        """Candidate id (str) -> its text columns, for the whole ballot."""
        async def load() -> dict[str, dict[str, Any]]:
            async with self._pool.acquire() as conn:
                rows = await repo.ballot_texts(conn, campaign_id=campaign_id)
            return {str(r["id"]): dict(r) for r in rows}
        return await self._texts.get(campaign_id, load)

    async def final(self, campaign_id: int) -> asyncpg.Record | None:
        async def load() -> asyncpg.Record | None:
            async with self._pool.acquire() as conn:
                return await repo.final_seats(conn, campaign_id=campaign_id)
        return await self._final.get(campaign_id, load)

    async def public_name(self, candidate_id: int) -> str | None:
        async def load() -> str | None:
            async with self._pool.acquire() as conn:
                return await repo.public_name(conn, candidate_id=candidate_id)
        return await self._names.get(candidate_id, load)


def status_now(row: Mapping[str, Any]) -> str:
    return public_status(row, int(time.time() * 1000))
