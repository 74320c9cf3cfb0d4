"""Read-only views of a campaign: results (raw / invalidated / valid per ballot candidate) and the ballot's
composition by region, sphere, gender and ethnicity next to the population's shares (the concept asks for a
list proportional to the population by region, with ethnic and gender diversity)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from admin_service.repos import campaigns as repo
from shared.errors import NotFound
from shared.reference import demographics, regions, spheres
from shared.votestore.tally import tallies

UNDECLARED = "undeclared"


async def _campaign(conn: asyncpg.Connection, campaign_id: int) -> asyncpg.Record:
    row = await repo.get(conn, campaign_id=campaign_id)
    if row is None:
        raise NotFound(f"No campaign {campaign_id}.")
    return row


async def results(pool: asyncpg.Pool, *, campaign_id: int, redis: aioredis.Redis | None = None) -> dict[str, Any]:
    """Per ballot candidate, from the votes table: ``raw`` (recorded), ``invalidated`` (by fraud review),
    ``valid`` = raw - invalidated; ordered by valid votes. With ``redis``, also ``accepted``: the live tally,
    which is ahead of ``raw`` by the votes the flusher has not written yet."""
    async with pool.acquire() as conn:
        camp = await _campaign(conn, campaign_id)
        rows = await repo.results(conn, campaign_id=campaign_id)
    live = None
    if redis is not None and camp["state"] != "draft":
        try:
            live = {int(c): n for c, n in (await tallies(redis, campaign_id, camp["shards"])).items()}
        except (redis_errors.RedisError, OSError, TimeoutError):  # the counts from Postgres still stand
            live = None
    items = []
    for r in rows:
        item = {"candidate_id": str(r["candidate_id"]), "full_name": r["full_name"], "region": r["region"],
                "sphere": r["sphere"], "gender": r["gender"], "raw": r["raw"], "invalidated": r["invalidated"],
                "valid": r["raw"] - r["invalidated"]}
        if live is not None:
            item["accepted"] = live.get(r["candidate_id"], 0)
        items.append(item)
    totals = {k: sum(i[k] for i in items) for k in ("raw", "invalidated", "valid")}
    return {"campaign_id": str(campaign_id), "state": camp["state"], "seats": camp["seats"], "candidates": items,
            "totals": totals}


def _share(n: float, total: float) -> float:
    return round(n / total, 4) if total else 0.0


def _rows(counts: Mapping[str, int], total: int, entries: Iterable[tuple[str, Any, float | None]]) -> list[dict]:
    """entries: (code, name, population share or None)."""
    out = []
    for code, name, pop_share in entries:
        n = counts.get(code, 0)
        row: dict[str, Any] = {"code": code, "name": name, "count": n, "share": _share(n, total)}
        if pop_share is not None:
            expected = pop_share * total
            row.update(population_share=round(pop_share, 4), expected=round(expected, 1),
                       difference=round(n - expected, 1))
        out.append(row)
    return out


def composition_of(ballot: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of ``ballot`` rows (region, sphere, gender, ethnicity) next to the population's shares."""
    total = len(ballot)
    by = {f: Counter(str(c[f] or UNDECLARED) for c in ballot) for f in ("region", "sphere", "gender", "ethnicity")}
    population = sum(r["population"] for r in regions())
    demo = demographics()
    gender_total = demo["gender"]["female"] + demo["gender"]["male"]
    ethnic = demo["ethnicity"]["shares_pct"]
    return {
        "total": total,
        "region": _rows(by["region"], total,
                        ((r["code"], r["name"], r["population"] / population) for r in regions())),
        "sphere": _rows(by["sphere"], total, ((s["code"], s["name"], None) for s in spheres())),
        "gender": _rows(by["gender"], total,
                        ((g, None, demo["gender"][g] / gender_total) for g in ("female", "male"))),
        "ethnicity": _rows(by["ethnicity"], total,
                           [*((e, None, pct / 100) for e, pct in ethnic.items()), (UNDECLARED, None, None)]),
        "sources": {"region": "shared/data/regions.json", "gender": demo["gender"]["source"],
                    "ethnicity": demo["ethnicity"]["source"]},
    }


async def composition(pool: asyncpg.Pool, *, campaign_id: int) -> dict[str, Any]:
    """The ballot of ``campaign_id`` by region, sphere, gender and (self-declared) ethnicity; for each region,
    gender and ethnicity also the population share, the count it would give (``expected``) and the gap."""
    async with pool.acquire() as conn:
        await _campaign(conn, campaign_id)
        ballot = await repo.ballot(conn, campaign_id=campaign_id)
    return {"campaign_id": str(campaign_id), **composition_of([dict(r) for r in ballot])}
