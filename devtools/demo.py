"""The demo campaigns: a few hundred invented candidates on an open, published ballot (with the first hour's
votes), and a finalised past campaign with its own people, votes, an invalidated fraud cluster and the final
100; then every other stage of the staff workflow (devtools/demo_stages.py: nominations in triage, cards at
each lifecycle stage with their verifications and reviews, a draft campaign, a closed one ready to finalise
with a suspicious cluster for the fraud review, the demo staff).

``python -m devtools.demo`` (DATABASE_URL, REDIS_URL from the environment) or ``await load_demo(db_url, redis_url)``.
Idempotent: the campaign is found by its slug; a second run creates nothing and projects the ballot to Redis again.
The people are generated deterministically (seeded) from the name pools and story templates in
``devtools/data/demo_*.json``, proportionally to the population by region, gender and ethnicity.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import random
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis

from shared import reference
from shared.infra import create_pool, create_redis
from shared.repos import campaigns, candidates
from shared.texts import LANGUAGES
from shared.votestore import keys
from shared.votestore import repo as votes_repo
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


class Texts(msgspec.Struct, frozen=True):
    summary: str
    story: str
    achievements: tuple[Achievement, ...]


class DemoCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """``summary``, ``story`` and ``achievements`` in Russian; ``translations`` the same in Kazakh (always) and
    English (most cards). ``text_lang`` is the language the card stores in its own columns (the others go to
    ``texts``, migration 0006): Kazakh for about half of the Kazakh-named people, Russian for the rest."""
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
    text_lang: str = "ru"
    translations: dict[str, Texts] = {}

    def stored_texts(self) -> tuple[Texts, dict[str, Any]]:
        """(the texts in ``text_lang`` for the card's columns, the other languages for ``texts``)."""
        every = {"ru": Texts(self.summary, self.story, self.achievements), **self.translations}
        others = {lang: msgspec.to_builtins(t) for lang, t in every.items() if lang != self.text_lang}
        return every[self.text_lang], others


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


@functools.cache
def _stories_i18n() -> dict[str, Any]:
    """Kazakh and English versions of the templates and places (the same order as the Russian ones)."""
    return _data("demo_stories_i18n.json")


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


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
          used_names: set[str], seed: int) -> DemoCandidate:
    groups = _names()
    group = rng.choices(groups, weights=[g["share"] for g in groups])[0]
    for _ in range(50):
        full_name = _full_name(group, gender, rng)
        if full_name not in used_names:
            break
    used_names.add(full_name)
    birth_year = rng.randint(1960, 2000)
    stories, i18n = _stories(), _stories_i18n()
    # Indices rather than rng.choice/sample of the texts (the same draws): the Kazakh and English versions
    # are picked at the same positions as the Russian template, place, claims and closing.
    t = rng.randrange(len(stories["spheres"][sphere]))
    template = {"ru": stories["spheres"][sphere][t], **i18n["spheres"][sphere][t]}
    places = {"ru": _places()[region]["places"], **i18n["places"][region]}
    place = rng.randrange(len(places["ru"]))
    if stories["spheres"][sphere][t].get("centre"):  # a heart surgery or a university needs the regional centre
        place = 0
    lo, hi = stories["spheres"][sphere][t]["n"]
    numbers = {"year": rng.randint(min(max(1995, birth_year + 23), 2025), 2025),
               "n": rng.randrange(lo, hi + 1, stories["spheres"][sphere][t]["step"])}
    ctx = {lang: {"loc": places[lang][place], "Loc": _capitalised(places[lang][place]), **numbers}
           for lang in LANGUAGES}
    sentences = {lang: [render(x, gender, **ctx[lang]) for x in template[lang]["story"]] for lang in LANGUAGES}
    closings = {"ru": stories["closings"], **i18n["closings"]}
    if len(sentences["ru"]) < 3 and rng.random() < 0.5:
        closing = rng.randrange(len(closings["ru"]))
        for lang in LANGUAGES:
            sentences[lang].append(render(closings[lang][closing], gender))
    claims = rng.sample(range(len(template["ru"]["achievements"])),
                        rng.randint(1, len(template["ru"]["achievements"])))
    claim_texts = {lang: [template[lang]["achievements"][c] for c in claims] for lang in LANGUAGES}
    if rng.random() < 0.3:
        generic = rng.randrange(len(stories["generic_achievements"]))
        for lang, pool in (("ru", stories["generic_achievements"]), *i18n["generic_achievements"].items()):
            claim_texts[lang].append(pool[generic])
    sphere_name = next(s for s in reference.spheres() if s["code"] == sphere)["name"]["ru"]
    source_kind, source_name = _source(region, sphere_name, rng)
    texts = {
        lang: Texts(
            summary=render(template[lang]["summary"], gender, **ctx[lang]),
            story=" ".join(sentences[lang]),
            achievements=tuple(
                Achievement(claim=render(c, gender, **ctx[lang]),
                            evidence_url=f"https://demo.100faces.kz/evidence/{seed}/{index + 1:03d}-{j + 1}")
                for j, c in enumerate(claim_texts[lang])),
        )
        for lang in LANGUAGES
    }
    if index % 5 == 4:  # some cards have no English: the portal shows them in Kazakh, labelled
        del texts["en"]
    kazakh = group["ethnicity"] == "kazakh"
    return DemoCandidate(
        full_name=full_name,
        region=region,
        sphere=sphere,
        gender=gender,
        birth_year=birth_year,
        ethnicity=group["ethnicity"] if rng.random() < _ETHNICITY_DECLARED else None,
        summary=texts["ru"].summary,
        story=texts["ru"].story,
        achievements=texts["ru"].achievements,
        source_kind=source_kind,
        source_name=source_name,
        text_lang="kk" if kazakh and index % 2 == 0 else "ru",
        translations={lang: x for lang, x in texts.items() if lang != "ru"},
    )


def generate_candidates(n: int = DEMO_SIZE, *, seed: int = DEMO_SEED,
                        taken: frozenset[str] = frozenset()) -> list[DemoCandidate]:
    """``n`` invented candidates: every region (by population, at least one each), every sphere (equal shares),
    both genders (by population); the same list for the same ``n``, ``seed`` and ``taken`` (names another list
    uses already: nobody appears twice)."""
    rng = random.Random(seed)
    regions = _spread(apportion({r["code"]: r["population"] for r in reference.regions()}, n, minimum=1), rng)
    spheres = _spread(apportion(dict.fromkeys(reference.sphere_codes(), 1), n, minimum=1), rng)
    gender_pop = reference.demographics()["gender"]
    genders = _spread(apportion({g: gender_pop[g] for g in reference.GENDERS}, n, minimum=1), rng)
    used: set[str] = set(taken)
    return [_card(i, regions[i], spheres[i], genders[i], rng, used, seed) for i in range(n)]


# --- loading -----------------------------------------------------------------------------------------

def card_rows(cards: list[DemoCandidate]) -> list[dict[str, Any]]:
    """The cards as ``candidates.insert_many`` takes them."""
    rows = []
    for card in cards:
        own, others = card.stored_texts()
        rows.append({
            "full_name": card.full_name, "region": card.region, "sphere": card.sphere, "gender": card.gender,
            "birth_year": card.birth_year, "ethnicity": card.ethnicity, "summary": own.summary, "story": own.story,
            "achievements": [msgspec.structs.asdict(a) for a in own.achievements], "text_lang": card.text_lang,
            "texts": others, "source_kind": card.source_kind, "source_name": card.source_name,
        })
    return rows


async def _insert_cards(conn: asyncpg.Connection, cards: list[DemoCandidate]) -> list[int]:
    """The cards, shortlisted, with their history (nominated ... shortlisted)."""
    ids = await candidates.insert_many(conn, card_rows(cards), status=LIFECYCLE[-1])
    await candidates.record_transitions(conn, [
        (cid, before, after, REASON, ACTOR)
        for cid in ids for before, after in zip((None, *LIFECYCLE[:-1]), LIFECYCLE, strict=True)])
    return ids


async def _publish(conn: asyncpg.Connection, *, slug: str, title: dict[str, str], opens: datetime,
                   closes: datetime, seats: int, ids: list[int]) -> int:
    campaign_id = await conn.fetchval(INSERT_CAMPAIGN, slug, title, opens, closes, VOTES_PER_VOTER, seats)
    await conn.execute(INSERT_BALLOT, campaign_id, ids)
    await campaigns.mark_published(conn, campaign_id=campaign_id)
    await candidates.record_on_ballot(conn, campaign_id=campaign_id, reason=REASON, actor=ACTOR)
    return campaign_id


async def _create(conn: asyncpg.Connection, *, now: datetime) -> tuple[int, int]:
    from devtools.demo_stages import ordinary_votes, write_votes

    ids = await _insert_cards(conn, generate_candidates())
    opens = now - timedelta(hours=1)
    campaign_id = await _publish(conn, slug=DEMO_SLUG, title=TITLE, opens=opens,
                                 closes=now + timedelta(days=30), seats=SEATS, ids=ids)
    # The first hour's votes, as the flusher would have written them (the tally follows after commit).
    await write_votes(conn, campaign_id, ordinary_votes(ids, start_ms=int(opens.timestamp() * 1000),
                                                        span_ms=45 * 60 * 1000, seed=DEMO_SEED, scale=25), DEMO_SEED)
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
    if created:  # the tally of the first hour's votes, as the vote script left it (the stream drained)
        from devtools.demo_stages import reconcile_tally

        await reconcile_tally(conn, r, campaign_id)
    found = await conn.fetchrow(FIND_CAMPAIGN, DEMO_SLUG)
    return {
        "status": status, "campaign_id": campaign_id, "slug": DEMO_SLUG, "state": found["state"],
        "opens_at": found["opens_at"].isoformat(), "closes_at": found["closes_at"].isoformat(),
        "candidates_created": created, "ballot": ballot_size, "projected": True,
    }


# --- the finalised past campaign ---------------------------------------------------------------------
#
# A season that is over: its own people (none of them on the open ballot), votes as the flusher would have
# written them, a SIM-farm cluster invalidated by the fraud review, and the result finalised by the admin
# service's own finalisation (admin_service/services/finalise.py: snapshot, digest, Merkle root, finalists),
# so the portal's final-100 pages and the public results show something real.

PAST_SLUG = "demo-2025"
PAST_SEED = 2025
PAST_SIZE = 130
PAST_SEATS = 100
PAST_TITLE = {
    "kk": "Қазақстанның 100 жаңа есімі — 2025 (демо, аяқталған)",
    "ru": "100 новых лиц Казахстана — 2025 (демо, завершён)",
    "en": "100 New Faces of Kazakhstan — 2025 (demo, finalised)",
}
PAST_OPENS = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
PAST_CLOSES = datetime(2025, 3, 24, 18, 0, tzinfo=UTC)
FRAUD_NET = "203.0.113.0/24"  # the invalidated cluster (a documentation network: nobody's real address)
FRAUD_REASON = "demo: SIM-farm cluster, one /24 voting at night for three candidates"
_PAST_LOCK_KEY = 0x100FACE7

INSERT_VOTES = """
INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, ip_hash, ip_net, cast_at)
SELECT $1, v, cand, voter, ih, net::cidr, timestamptz 'epoch' + ms * interval '1 millisecond'
FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS t (v, cand, voter, ih, net, ms)
ON CONFLICT (campaign_id, vote_id) DO NOTHING
"""


class PastVote(msgspec.Struct, frozen=True):
    candidate_id: int
    voter: str
    ip_hash: str
    ip_net: str
    cast_ms: int


def past_votes(candidate_ids: list[int], *, seed: int = PAST_SEED) -> list[PastVote]:
    """Votes for the past ballot, deterministic: a skewed popularity (a few favourites, a long tail), voters
    with at most ``VOTES_PER_VOTER`` distinct choices, mobile networks; plus a SIM-farm burst from ``FRAUD_NET``
    for three candidates near the cut line, which the fraud review invalidates."""
    rng = random.Random(seed)
    wanted = {cid: 8 + int(170 * rng.random() ** 2) for cid in candidate_ids}
    ballots = [cid for cid, n in wanted.items() for _ in range(n)]
    rng.shuffle(ballots)
    start, span = int(PAST_OPENS.timestamp() * 1000), int((PAST_CLOSES - PAST_OPENS).total_seconds() * 1000)
    out: list[PastVote] = []
    voter, chosen, net = "", set(), ""
    for cid in ballots:
        if not voter or len(chosen) == VOTES_PER_VOTER or cid in chosen:
            voter = hashlib.sha256(f"demo-voter-{seed}-{len(out)}".encode()).hexdigest()
            chosen, net = set(), f"100.{64 + rng.randrange(64)}.{rng.randrange(256)}.0/24"
        chosen.add(cid)
        out.append(PastVote(cid, voter, hashlib.sha256(f"{voter}-ip".encode()).hexdigest()[:32], net,
                            start + rng.randrange(span)))
    ranked = sorted(candidate_ids, key=lambda c: (-wanted[c], c))
    night = start + 9 * 24 * 3600 * 1000 + 2 * 3600 * 1000  # the tenth night, 02:00 UTC
    for cid in ranked[PAST_SEATS + 2:PAST_SEATS + 5]:  # just below the cut: the farm pushes them in
        for i in range(60):
            bot = hashlib.sha256(f"demo-sim-{seed}-{cid}-{i}".encode()).hexdigest()
            out.append(PastVote(cid, bot, hashlib.sha256(f"{bot}-ip".encode()).hexdigest()[:32], FRAUD_NET,
                                night + rng.randrange(2 * 3600 * 1000)))
    return out


def vote_ids(campaign_id: int, votes: Sequence[Any], rng: random.Random) -> list[str]:
    """Receipts in the voting service's format (shared/votestore/receipts.py): campaign.shard.ms-seq.nonce, for
    votes with a ``cast_ms`` (this module's and devtools/demo_stages.py's)."""
    seen: dict[int, int] = {}
    ids = []
    for v in votes:
        seq = seen[v.cast_ms] = seen.get(v.cast_ms, -1) + 1
        ids.append(f"{campaign_id}.0.{v.cast_ms}-{seq}.{base64.urlsafe_b64encode(rng.randbytes(9)).decode()}")
    return ids


async def _create_past(conn: asyncpg.Connection) -> int:
    taken = frozenset(c.full_name for c in generate_candidates())
    ids = await _insert_cards(conn, generate_candidates(PAST_SIZE, seed=PAST_SEED, taken=taken))
    campaign_id = await _publish(conn, slug=PAST_SLUG, title=PAST_TITLE, opens=PAST_OPENS, closes=PAST_CLOSES,
                                 seats=PAST_SEATS, ids=ids)
    votes = past_votes(ids)
    receipts = vote_ids(campaign_id, votes, random.Random(PAST_SEED))
    await conn.execute(INSERT_VOTES, campaign_id, receipts, [v.candidate_id for v in votes],
                       [v.voter for v in votes], [v.ip_hash for v in votes], [v.ip_net for v in votes],
                       [v.cast_ms for v in votes])
    return campaign_id


async def install_past(pool: asyncpg.Pool, r: aioredis.Redis, *, signing_key: bytes | None = None) -> dict[str, Any]:
    """Create (or find) the finalised past campaign: see the comment above. Idempotent: a finalised one is
    only projected again; one left half-way by an interrupted run is completed."""
    async with pool.acquire() as lock:
        await lock.execute("SELECT pg_advisory_lock($1)", _PAST_LOCK_KEY)  # one loader at a time, end to end
        try:
            async with lock.transaction():
                row = await lock.fetchrow(FIND_CAMPAIGN, PAST_SLUG)
                status = "existing" if row is not None else "created"
                campaign_id = row["id"] if row is not None else await _create_past(lock)
            state = await lock.fetchval("SELECT state FROM campaigns WHERE id = $1", campaign_id)
            invalidated = 0
            if state != "finalised":
                # The admin service's own domain code (imported only here: it brings Litestar, a second).
                from admin_service.auth.context import Staff
                from admin_service.services import finalise, invalidations
                from admin_service.services.tree_head import TreeHeadSigner

                actor = Staff(id=None, email=ACTOR, roles=frozenset({"working_group"}))  # type: ignore[arg-type]
                # Redis as the vote script would have left it: the ballot projected, every vote in the tally,
                # the streams drained by the flusher (nothing in them).
                for projection in await campaigns.projections(lock, campaign_id=campaign_id):
                    await project(r, projection)
                counts = await votes_repo.counts(lock, campaign_id=campaign_id)
                await r.delete(keys.ShardKeys.of(campaign_id, 0).tally)
                if counts:
                    await r.hset(keys.ShardKeys.of(campaign_id, 0).tally,
                                 mapping={str(k): v for k, v in counts.items()})
                # Idempotent: votes of the cluster that are invalid already stay as they are.
                done = await invalidations.invalidate_cluster(
                    pool, campaign_id=campaign_id, cluster_id=f"net:{FRAUD_NET}", reason=FRAUD_REASON, actor=actor)
                invalidated = done["invalidated"]
                # The tree head is signed with the admin service's key when given (make run passes
                # TREE_HEAD_SIGNING_KEY), else with a throwaway one: the past campaign is demo data.
                signer = TreeHeadSigner(signing_key or secrets.token_bytes(32))
                await finalise.finalise(pool, r, campaign_id=campaign_id, actor=actor, signer=signer)
                status = "finalised" if status == "existing" else status
            else:
                for projection in await campaigns.projections(lock, campaign_id=campaign_id):
                    await project(r, projection)
            summary = await lock.fetchrow(PAST_SUMMARY, campaign_id)
        finally:
            await lock.execute("SELECT pg_advisory_unlock($1)", _PAST_LOCK_KEY)
    return {"status": status, "campaign_id": campaign_id, "slug": PAST_SLUG, "state": summary["state"],
            "ballot": summary["ballot"], "votes": summary["votes"], "invalidated": summary["invalidated"],
            "invalidated_now": invalidated, "finalists": summary["finalists"]}


PAST_SUMMARY = """
SELECT c.state,
       (SELECT count(*) FROM ballot_entries b WHERE b.campaign_id = c.id) AS ballot,
       (SELECT count(*) FROM votes v WHERE v.campaign_id = c.id) AS votes,
       (SELECT count(*) FROM votes v WHERE v.campaign_id = c.id AND v.invalidated_at IS NOT NULL) AS invalidated,
       (SELECT jsonb_array_length(seats) FROM campaign_results WHERE campaign_id = c.id) AS finalists
FROM campaigns c WHERE c.id = $1
"""


async def load_demo(database_url: str, redis_url: str, *, signing_key: bytes | None = None,
                    staff_password: str | None = None, staff_key: bytes | None = None,
                    contact_public_key: bytes | None = None) -> dict[str, Any]:
    """Make sure the demo campaign exists, is published and is in Redis, that the finalised past campaign
    exists, and that every stage of the staff workflow has something in it (devtools/demo_stages.py); return
    what was done.

    ``status`` is ``created`` (first run), ``existing`` (found by slug, projected again) or ``closed``
    (found but its window has passed: left untouched); ``past`` says the same of the past campaign
    (``created``, ``existing``, or ``finalised`` when an interrupted run was completed); ``stages`` of the
    stage data. ``staff_password`` (APP_ENV development or test only) makes the demo staff accounts usable,
    ``staff_key`` (STAFF_KEY) gives the admin and the working group an authenticator secret, listed under
    ``staff``; ``contact_public_key`` (CONTACT_PUBLIC_KEY) seals the nominators' contacts of the nominations
    waiting in triage (none without it).
    """
    from devtools import demo_stages

    pool = await create_pool(database_url, min_size=1, max_size=4)  # finalisation holds two at once
    r = create_redis(redis_url, timeout_s=5.0)
    try:
        async with pool.acquire() as conn:
            result = await install(conn, r)
        result["past"] = await install_past(pool, r, signing_key=signing_key)
        async with pool.acquire() as conn:
            staff = await demo_stages.ensure_staff(conn, password=staff_password, staff_key=staff_key)
        taken = frozenset(c.full_name for c in (*generate_candidates(),
                                                *generate_candidates(PAST_SIZE, seed=PAST_SEED)))
        result["stages"] = await demo_stages.install_stages(pool, r, staff=staff,
                                                            contact_public_key=contact_public_key, taken=taken)
        async with pool.acquire() as conn, conn.transaction():
            names = {x["code"]: x["name"]["ru"] for x in reference.regions()}
            result["stages"]["paperwork"] = await demo_stages.paperwork(conn, staff, names)
        result["staff"] = {"can_sign_in": staff.can_sign_in, "accounts": staff.accounts()}
        return result
    finally:
        await r.aclose()
        await pool.close()


def _key_env(name: str) -> bytes | None:
    value = os.environ.get(name, "").strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)) if value else None


def main() -> None:
    database_url = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        result = asyncio.run(load_demo(database_url, redis_url, signing_key=_key_env("TREE_HEAD_SIGNING_KEY"),
                                       contact_public_key=_key_env("CONTACT_PUBLIC_KEY")))
    except asyncpg.UndefinedTableError as exc:
        raise SystemExit(f"devtools.demo: {exc}; apply the migrations first (python -m shared.migrate)") from exc
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
