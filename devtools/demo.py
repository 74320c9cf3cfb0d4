"""The demo campaign: a few hundred invented candidates on an open, published ballot.

``python -m devtools.demo`` (DATABASE_URL, REDIS_URL from the environment) or ``await load_demo(db_url, redis_url)``.
Idempotent: the campaign is found by its slug; a second run creates nothing and projects the ballot to Redis again.
The people are generated deterministically (seeded) from the name pools and story templates in
``devtools/data/demo_*.json``, proportionally to the population by region, gender and ethnicity.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis

from shared import reference
from shared.infra import create_pool, create_redis
from shared.repos import campaigns, candidates
from shared.votestore.projection import project

DATA = Path(__file__).resolve().parent / "data"
DEMO_SLUG = "demo-2026"
DEMO_SEED = 2026
DEMO_SIZE = 210
ACTOR = "demo-loader"
REASON = "demo data"
TITLE = {
    "kk": "Қазақстанның 100 жаңа есімі — 2026 (демо)",
    "ru": "100 новых лиц Казахстана — 2026 (демо)",
    "en": "100 New Faces of Kazakhstan — 2026 (demo)",
}
VOTES_PER_VOTER = 3
SEATS = 100
# The path a card takes through the lifecycle before the working group may put it on a ballot.
LIFECYCLE = ("nominated", "under_verification", "verified", "under_review", "recommended", "shortlisted")
_LOCK_KEY = 0x100FACE6  # serialises concurrent loaders; shared.migrate uses ...E5
_SOURCE_WEIGHTS = {
    "akimat": 34, "working_group_member": 5, "assembly": 8, "party": 5, "expert_community": 10,
    "ngo": 12, "bureau_100": 6, "self": 8, "third_party": 12,
}
_FIXED_SOURCE_NAMES = {
    "working_group_member": "Член рабочей группы проекта",
    "assembly": "Ассамблея народа Казахстана",
    "party": "Региональный филиал политической партии",
    "bureau_100": "Инициативная группа «Бюро 100»",
    "self": "Самовыдвижение через сайт проекта",
    "third_party": "Заявка гражданина через сайт проекта",
}
_ETHNICITY_DECLARED = 0.85
_FORMS = re.compile(r"\[([^\[\]|]*)\|([^\[\]|]*)\]")

FIND_CAMPAIGN = "SELECT id, state, opens_at, closes_at FROM campaigns WHERE slug = $1"

INSERT_CAMPAIGN = """
INSERT INTO campaigns (slug, title, opens_at, closes_at, votes_per_voter, seats, live_results, shards)
VALUES ($1, $2, $3, $4, $5, $6, true, 1)
RETURNING id
"""

INSERT_BALLOT = """
INSERT INTO ballot_entries (campaign_id, candidate_id, position)
SELECT $1, t.candidate_id, t.position FROM unnest($2::bigint[]) WITH ORDINALITY AS t(candidate_id, position)
"""

COUNT_BALLOT = "SELECT count(*) FROM ballot_entries WHERE campaign_id = $1"


class Achievement(msgspec.Struct, frozen=True):
    claim: str
    evidence_url: str


class DemoCandidate(msgspec.Struct, frozen=True, kw_only=True):
    full_name: str
    region: str
    sphere: str
    gender: str
    birth_year: int
    ethnicity: str | None
    summary: str
    story: str
    achievements: tuple[Achievement, ...]
    source_kind: str
    source_name: str


# --- generation (pure, no I/O beyond the packaged data files) -----------------------------------------

def _data(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


@functools.cache
def _names() -> tuple[dict[str, Any], ...]:
    return tuple(_data("demo_names.json")["groups"])


@functools.cache
def _places() -> dict[str, Any]:
    return _data("demo_places.json")["regions"]


@functools.cache
def _stories() -> dict[str, Any]:
    return _data("demo_stories.json")


def apportion(weights: Mapping[str, float], total: int, *, minimum: int = 0) -> dict[str, int]:
    """Largest-remainder apportionment of ``total`` seats by ``weights``, each key getting at least ``minimum``."""
    keys = sorted(weights)
    counts = dict.fromkeys(keys, minimum)
    left = total - minimum * len(keys)
    if left < 0:
        raise ValueError(f"{total} is too few for {len(keys)} keys with minimum {minimum}")
    weight_sum = sum(weights.values())
    quotas = {k: left * weights[k] / weight_sum for k in keys}
    for k in keys:
        counts[k] += int(quotas[k])
    rest = total - sum(counts.values())
    for k in sorted(keys, key=lambda k: (-(quotas[k] - int(quotas[k])), k))[:rest]:
        counts[k] += 1
    return counts


def _spread(counts: Mapping[str, int], rng: random.Random) -> list[str]:
    items = [k for k in sorted(counts) for _ in range(counts[k])]
    rng.shuffle(items)
    return items


def render(text: str, gender: str, **ctx: object) -> str:
    """'[male|female]' picks the form for ``gender``; then ``{name}`` placeholders are filled from ``ctx``."""
    picked = _FORMS.sub(lambda m: m.group(1 if gender == "male" else 2), text)
    return picked.format_map(ctx)


def female_surname(surname: str) -> str:
    if surname.endswith(("ский", "цкий")):
        return surname[:-2] + "ая"
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    return surname  # Ким, Шмидт, Шевченко, Ковальчук: the same for women


def _full_name(group: Mapping[str, Any], gender: str, rng: random.Random) -> str:
    given = rng.choice(group[gender])
    father = rng.choice(group["fathers"])
    if group["patronymic_style"] == "kazakh":
        patronymic = father + ("ұлы" if gender == "male" else "қызы")
    else:
        patronymic = father[0] if gender == "male" else father[1]
    surname = rng.choice(group["surnames"])
    if gender == "female":
        surname = female_surname(surname)
    return f"{given} {patronymic} {surname}"


def _source(region: str, sphere_name: str, rng: random.Random) -> tuple[str, str]:
    kinds = sorted(_SOURCE_WEIGHTS)
    kind = rng.choices(kinds, weights=[_SOURCE_WEIGHTS[k] for k in kinds])[0]
    if kind == "akimat":
        city = next(r for r in reference.regions() if r["code"] == region)["kind"] == "city"
        return ("city" if city else "akimat"), _places()[region]["akimat"]
    if kind == "expert_community":
        return kind, f"Экспертный совет направления «{sphere_name}»"
    if kind == "ngo":
        return kind, rng.choice(_stories()["ngo_names"])
    return kind, _FIXED_SOURCE_NAMES[kind]


def _card(index: int, region: str, sphere: str, gender: str, rng: random.Random,
          used_names: set[str]) -> DemoCandidate:
    groups = _names()
    group = rng.choices(groups, weights=[g["share"] for g in groups])[0]
    for _ in range(50):
        full_name = _full_name(group, gender, rng)
        if full_name not in used_names:
            break
    used_names.add(full_name)
    birth_year = rng.randint(1960, 2000)
    stories = _stories()
    template = rng.choice(stories["spheres"][sphere])
    places = _places()[region]["places"]
    loc = rng.choice(places)
    if template.get("centre"):  # a heart surgery or a university needs the regional centre, not a village
        loc = places[0]
    lo, hi = template["n"]
    ctx = {
        "loc": loc,
        "Loc": loc[:1].upper() + loc[1:],
        "year": rng.randint(min(max(1995, birth_year + 23), 2025), 2025),
        "n": rng.randrange(lo, hi + 1, template["step"]),
    }
    sentences = [render(s, gender, **ctx) for s in template["story"]]
    if len(sentences) < 3 and rng.random() < 0.5:
        sentences.append(render(rng.choice(stories["closings"]), gender))
    claims = rng.sample(template["achievements"], rng.randint(1, len(template["achievements"])))
    if rng.random() < 0.3:
        claims.append(rng.choice(stories["generic_achievements"]))
    sphere_name = next(s for s in reference.spheres() if s["code"] == sphere)["name"]["ru"]
    source_kind, source_name = _source(region, sphere_name, rng)
    return DemoCandidate(
        full_name=full_name,
        region=region,
        sphere=sphere,
        gender=gender,
        birth_year=birth_year,
        ethnicity=group["ethnicity"] if rng.random() < _ETHNICITY_DECLARED else None,
        summary=render(template["summary"], gender, **ctx),
        story=" ".join(sentences),
        achievements=tuple(
            Achievement(claim=render(c, gender, **ctx),
                        evidence_url=f"https://demo.100faces.kz/evidence/{index + 1:03d}-{j + 1}")
            for j, c in enumerate(claims)
        ),
        source_kind=source_kind,
        source_name=source_name,
    )


def generate_candidates(n: int = DEMO_SIZE, *, seed: int = DEMO_SEED) -> list[DemoCandidate]:
    """``n`` invented candidates: every region (by population, at least one each), every sphere (equal shares),
    both genders (by population); the same list for the same ``n`` and ``seed``."""
    rng = random.Random(seed)
    regions = _spread(apportion({r["code"]: r["population"] for r in reference.regions()}, n, minimum=1), rng)
    spheres = _spread(apportion(dict.fromkeys(reference.sphere_codes(), 1), n, minimum=1), rng)
    gender_pop = reference.demographics()["gender"]
    genders = _spread(apportion({g: gender_pop[g] for g in reference.GENDERS}, n, minimum=1), rng)
    used: set[str] = set()
    return [_card(i, regions[i], spheres[i], genders[i], rng, used) for i in range(n)]


# --- loading -----------------------------------------------------------------------------------------

async def _create(conn: asyncpg.Connection, *, now: datetime) -> tuple[int, int]:
    ids: list[int] = []
    history: list[tuple[int, str | None, str, str, str]] = []
    for card in generate_candidates():
        cid = await candidates.insert(
            conn, full_name=card.full_name, region=card.region, sphere=card.sphere, gender=card.gender,
            birth_year=card.birth_year, ethnicity=card.ethnicity, summary=card.summary, story=card.story,
            achievements=[msgspec.structs.asdict(a) for a in card.achievements],
            source_kind=card.source_kind, source_name=card.source_name, status=LIFECYCLE[-1],
        )
        ids.append(cid)
        history.extend((cid, before, after, REASON, ACTOR)
                       for before, after in zip((None, *LIFECYCLE[:-1]), LIFECYCLE, strict=True))
    await candidates.record_transitions(conn, history)
    campaign_id = await conn.fetchval(
        INSERT_CAMPAIGN, DEMO_SLUG, TITLE, now - timedelta(hours=1), now + timedelta(days=30),
        VOTES_PER_VOTER, SEATS,
    )
    await conn.execute(INSERT_BALLOT, campaign_id, ids)
    await campaigns.mark_published(conn, campaign_id=campaign_id)
    await candidates.record_on_ballot(conn, campaign_id=campaign_id, reason=REASON, actor=ACTOR)
    return campaign_id, len(ids)


async def install(conn: asyncpg.Connection, r: aioredis.Redis, *, now: datetime | None = None) -> dict[str, Any]:
    """Create (or find) the demo campaign on ``conn`` and project it to ``r``; see ``load_demo``."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        row = await conn.fetchrow(FIND_CAMPAIGN, DEMO_SLUG)
        created = 0
        if row is None:
            campaign_id, created = await _create(conn, now=now)
            status = "created"
        elif row["state"] in ("closed", "finalised") or row["closes_at"] <= now:
            return {
                "status": "closed", "campaign_id": row["id"], "slug": DEMO_SLUG, "state": row["state"],
                "closes_at": row["closes_at"].isoformat(), "ballot": await conn.fetchval(COUNT_BALLOT, row["id"]),
                "projected": False,
                "message": f"campaign {DEMO_SLUG} is closed; left as it is (delete it to load a fresh demo)",
            }
        else:
            campaign_id = row["id"]
            if row["state"] == "draft":  # created by hand or by an older loader: publish it now
                await campaigns.mark_published(conn, campaign_id=campaign_id)
                await candidates.record_on_ballot(conn, campaign_id=campaign_id, reason=REASON, actor=ACTOR)
            status = "existing"
        ballot_size = await conn.fetchval(COUNT_BALLOT, campaign_id)
    # After commit: the voting service must never see a ballot that could still roll back.
    for projection in await campaigns.projections(conn, campaign_id=campaign_id):
        await project(r, projection)
    found = await conn.fetchrow(FIND_CAMPAIGN, DEMO_SLUG)
    return {
        "status": status, "campaign_id": campaign_id, "slug": DEMO_SLUG, "state": found["state"],
        "opens_at": found["opens_at"].isoformat(), "closes_at": found["closes_at"].isoformat(),
        "candidates_created": created, "ballot": ballot_size, "projected": True,
    }


async def load_demo(database_url: str, redis_url: str) -> dict[str, Any]:
    """Make sure the demo campaign exists, is published and is in Redis; return what was done.

    ``status`` is ``created`` (first run), ``existing`` (found by slug, projected again) or ``closed``
    (found but its window has passed: left untouched).
    """
    pool = await create_pool(database_url, min_size=1, max_size=1)
    r = create_redis(redis_url, timeout_s=5.0)
    try:
        async with pool.acquire() as conn:
            return await install(conn, r)
    finally:
        await r.aclose()
        await pool.close()


def main() -> None:
    database_url = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        result = asyncio.run(load_demo(database_url, redis_url))
    except asyncpg.UndefinedTableError as exc:
        raise SystemExit(f"devtools.demo: {exc}; apply the migrations first (python -m shared.migrate)") from exc
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
