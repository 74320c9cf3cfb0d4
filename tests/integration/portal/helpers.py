"""Campaigns as the portal shows them: a published ballot with readable names and texts, a finalised one."""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import uuid
from dataclasses import dataclass

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.factories import PublishedCampaign, make_campaign

FIRST = ("Айгерім", "Нұрсұлтан", "Дәурен", "Әсел", "Ғалым", "Жанар", "Ербол", "Құралай", "Мирас", "Сәуле")
LAST = ("Сәрсенбаева", "Оспанов", "Жұмабекова", "Төлеуов", "Қасымова", "Ахметов", "Нұрланова", "Ибраев")
WORDS = ("мектеп", "ауыл", "жастар", "кітапхана", "ғылым", "зерттеу", "денсаулық", "аурухана", "дәрігер",
         "спорт", "чемпион", "өнер", "театр", "музыка", "кәсіпкер", "фермер", "егін", "су", "жол", "көпір",
         "еріктілер", "қайырымдылық", "мүгедектігі", "балалар", "ұстаз", "олимпиада", "робототехника",
         "бағдарлама", "стартап", "цифрлық", "қызмет", "облыс", "аудан", "қала", "жоба", "қор", "орталық",
         "ашты", "құрды", "үйретті", "жеңді", "көмектесті", "ұйымдастырды", "дамытты", "жетекшісі", "жылы",
         "мыңнан", "астам", "адамға", "жаңа", "тұңғыш", "халықаралық", "байқау", "жүлде", "медаль")
SUMMARY = ("Ауылдық мектептің мұғалімі: оқушыларына робототехника үйретіп, облыстық олимпиадаларда "
           "жүлделі орындар алуға көмектесті; жазғы лагерь ұйымдастырды.")


@dataclass(frozen=True)
class PortalCampaign:
    id: int
    slug: str
    candidate_ids: list[int]
    names: dict[int, str]


def varied_summary(n: int, length: int = 190) -> str:
    """A summary of about ``length`` characters, different for each ``n`` (compresses like real text, or worse)."""
    rnd = random.Random(n)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(rnd.choice(WORDS))
    return " ".join(words).capitalize() + "."


async def portal_campaign(pool: asyncpg.Pool, r: aioredis.Redis, *, candidates: int = 6, k: int = 3,
                          live_results: bool = True, varied: bool = False, **kw) -> PortalCampaign:
    """A published campaign whose candidates have readable Kazakh names, a summary (the same for all, or
    ``varied``) and a story (in Russian, the default text language of migration 0006) and one achievement."""
    camp: PublishedCampaign = await make_campaign(pool, r, candidates=candidates, k=k, live_results=live_results, **kw)
    tag = uuid.uuid4().hex[:4]
    names = {}
    async with pool.acquire() as conn:
        slug = await conn.fetchval("SELECT slug FROM campaigns WHERE id = $1", camp.id)
        for n, cid in enumerate(camp.candidate_ids):
            name = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]} {tag}{n:03d}"
            names[cid] = name
            await conn.execute(
                "UPDATE candidates SET full_name = $2, summary = $3, story = $4, achievements = $5 WHERE id = $1",
                cid, name, varied_summary(n) if varied else SUMMARY, f"История {name}.\nВторой абзац истории.",
                [{"claim": f"Достижение {n}", "evidence_url": "https://example.kz/evidence"}])
    await directory_refresh()
    return PortalCampaign(camp.id, slug, camp.candidate_ids, names)


async def directory_refresh() -> None:
    """Let the app's campaign cache (CAMPAIGN_CACHE_S=0.2 in the tests) expire, as a publication waits for it."""
    await asyncio.sleep(0.25)


async def finalise(pool: asyncpg.Pool, r: aioredis.Redis, camp: PortalCampaign, seats: int) -> list[int]:
    """Close the campaign and finalise it with ``seats`` seats through the admin service's own finalisation
    (snapshot, digest, Merkle root, candidates moved); without votes the tie-break (lower candidate id) picks
    the first ``seats`` candidates. Returns the selected candidates in rank order."""
    from admin_service.auth.context import Staff
    from admin_service.services import finalise as finalise_service
    from admin_service.services.tree_head import TreeHeadSigner

    async with pool.acquire() as conn:
        await conn.execute("UPDATE campaigns SET seats = $2, state = 'closed', closed_at = now(), "
                           "closes_at = least(closes_at, now()) WHERE id = $1", camp.id, seats)
    actor = Staff(id=None, email="wg@100faces.kz", roles=frozenset({"working_group"}))  # type: ignore[arg-type]
    done = await finalise_service.finalise(pool, r, campaign_id=camp.id, actor=actor,
                                           signer=TreeHeadSigner(secrets.token_bytes(32)))
    await directory_refresh()
    return [int(s["candidate_id"]) for s in done["seats"]]


def html(r: httpx.Response, status: int = 200) -> str:
    assert r.status_code == status, (r.status_code, r.text[:2000])
    assert r.headers["content-type"] == "text/html; charset=utf-8", r.headers["content-type"]
    return r.text


def articles(body: str) -> list[str]:
    """The candidates' names as the ballot lists them (one <article> with an <h3> each)."""
    return re.findall(r'<article class="cand"[^>]*>.*?<h3><a href="[^"]+">([^<]+)</a></h3>', body, re.S)


__all__ = ["PortalCampaign", "articles", "directory_refresh", "finalise", "html", "portal_campaign"]
