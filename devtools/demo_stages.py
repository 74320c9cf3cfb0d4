"""The rest of the demo: every stage of the staff workflow has something in it, and the cards agree with
their history.

- Paperwork for every card past a stage (``paperwork``): a confirmed verification request for every card
  that went past ``under_verification``, and expert reviews for every card past ``under_review`` (two
  "recommend" for recommended / shortlisted / on the ballot / finalists, two "against" for not_recommended),
  written by the demo staff accounts, as the lifecycle rules (admin_service/services/lifecycle.py) require.
- Cards of their own (``STAGES``) at every lifecycle stage: nominated, under verification (a request sent),
  verified, under review (one review so far), recommended, not recommended, rejected (a refuted request),
  declined, shortlisted; citizens' nominations waiting in triage (``NOMINATIONS``, contacts sealed with the
  contact public key, as the voting service seals them; none when no key is given).
- A draft campaign (``DRAFT_SLUG``) with part of the shortlisted cards on its ballot, and a closed campaign
  (``CLOSED_SLUG``) ready to finalise: its votes written as the flusher writes them, the Redis tally equal to
  them (drained, reconciled), among them a cluster from one /24 (``CLUSTER_NET``) voting in a burst, for the
  fraud review.
- Staff records, one per role (``STAFF``; two experts), who wrote the paperwork. They cannot sign in unless
  ``staff_password`` is given, which only a development or test environment accepts (``make run``, see
  devtools/devstack.py): then they are active with that password, and the roles a second factor is
  mandatory for get an authenticator secret (returned, so that ``make run`` can print it).

Idempotent: the closed campaign's slug marks the stage data as created; the paperwork is only added where it
is missing; the accounts are updated to the password given.
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis

from devtools.demo import card_rows, generate_candidates, vote_ids
from shared.repos import campaigns, candidates
from shared.votestore import keys
from shared.votestore import repo as votes_repo
from shared.votestore.projection import project
from voting_service.repos import votes as flushed_votes

ACTOR = "demo-loader"
REASON = "demo data"
STAGE_SEED = 2027
DRAFT_SLUG = "demo-2027-draft"
CLOSED_SLUG = "demo-2026-spring"
DRAFT_TITLE = {
    "kk": "Қазақстанның 100 жаңа есімі — 2027 (демо, жоба)",
    "ru": "100 новых лиц Казахстана — 2027 (демо, черновик)",
    "en": "100 New Faces of Kazakhstan — 2027 (demo, draft)",
}
CLOSED_TITLE = {
    "kk": "Қазақстанның 100 жаңа есімі — 2026 көктем (демо, жабық)",
    "ru": "100 новых лиц Казахстана — весна 2026 (демо, закрыта)",
    "en": "100 New Faces of Kazakhstan — spring 2026 (demo, closed)",
}
CLOSED_SIZE = 40
CLOSED_SEATS = 20
DRAFT_BALLOT = 8
CLUSTER_NET = "198.51.100.0/24"  # a documentation network: nobody's real address
CLUSTER_VOTERS = 40
VOTES_PER_VOTER = 3
_LOCK_KEY = 0x100FACE8  # demo.py uses ...E6 and ...E7

# How a card got to each status (the transitions the loader records), and how many cards of each.
LIFECYCLE = ("nominated", "under_verification", "verified", "under_review", "recommended", "shortlisted")
PATHS: dict[str, tuple[str, ...]] = {
    "nominated": LIFECYCLE[:1],
    "under_verification": LIFECYCLE[:2],
    "verified": LIFECYCLE[:3],
    "under_review": LIFECYCLE[:4],
    "recommended": LIFECYCLE[:5],
    "shortlisted": LIFECYCLE,
    "rejected": (*LIFECYCLE[:2], "rejected"),
    "not_recommended": (*LIFECYCLE[:4], "not_recommended"),
    "declined": (*LIFECYCLE[:5], "declined"),
}
STAGES = {"nominated": 4, "under_verification": 4, "verified": 3, "under_review": 4, "recommended": 6,
          "not_recommended": 2, "rejected": 2, "declined": 1, "shortlisted": 12}
NOMINATIONS = 6
CONSENT_TEXT_VERSION = "nomination-consent-2026-12"  # voting_service/services/nominations.py

# The demo staff: (role, e-mail). Two experts, so that a recommended card has two independent reviews.
STAFF = (
    ("admin", "demo-admin@demo.100faces.kz"),
    ("secretariat", "demo-secretariat@demo.100faces.kz"),
    ("expert", "demo-expert@demo.100faces.kz"),
    ("expert", "demo-expert-2@demo.100faces.kz"),
    ("working_group", "demo-working-group@demo.100faces.kz"),
    ("auditor", "demo-auditor@demo.100faces.kz"),
)
MFA_ROLES = frozenset({"admin", "working_group"})  # admin_service/auth/context.py
PASSWORD_ENVS = ("development", "test")

# Statuses whose cards have a confirmed verification, and those with reviews (recommend / against).
VERIFIED = {"verified", "under_review", "recommended", "not_recommended", "shortlisted", "declined", "on_ballot",
            "finalist", "not_selected"}
RECOMMENDED = {"recommended", "shortlisted", "declined", "on_ballot", "finalist", "not_selected"}

AUTHORITY = "Управление внутренней политики: {region}"
QUESTION = "Подтвердите сведения из заявки: место работы и достижения кандидата ({name})."
CONFIRMED = "Сведения подтверждены письмом управления; достижения совпадают с заявкой."
REFUTED = "Сведения не подтвердились: указанная организация о кандидате не знает."
MOTIVATION_YES = ("Вклад кандидата подтверждён документами, история последовательная и заметная в своём "
                  "регионе; рекомендую к включению в шорт-лист.")
MOTIVATION_NO = ("Достижения пока локальные и не выходят за рамки обычной работы; рекомендовать к шорт-листу "
                 "преждевременно.")

INSERT_USER = """
INSERT INTO users (email, password_hash, roles, active) VALUES ($1, $2, $3, $4)
ON CONFLICT (email) DO NOTHING
"""
SET_PASSWORD = """
UPDATE users SET password_hash = $2, active = true, password_state = 'set', password_expires_at = NULL,
                 password_changed_at = now()
WHERE email = $1
"""
USER_IDS = "SELECT email, id FROM users WHERE email = ANY($1::text[])"
TOTP_OF = "SELECT secret_enc FROM staff_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL"
SET_TOTP = """
INSERT INTO staff_totp (user_id, secret_enc, confirmed_at) VALUES ($1, $2, now())
ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, confirmed_at = now(), last_step = -1
"""

# Paperwork for the demo loader's cards that lack it (idempotent: only where none exists).
CARDS_WITHOUT_VERIFICATION = """
SELECT c.id, c.full_name, c.region, c.status FROM candidates c
WHERE c.status = ANY($1::text[])
  AND EXISTS (SELECT 1 FROM candidate_transitions t WHERE t.candidate_id = c.id AND t.actor = $2)
  AND NOT EXISTS (SELECT 1 FROM verification_requests v WHERE v.candidate_id = c.id)
ORDER BY c.id
"""
CARDS_WITHOUT_REVIEWS = """
SELECT c.id, c.status FROM candidates c
WHERE c.status = ANY($1::text[])
  AND EXISTS (SELECT 1 FROM candidate_transitions t WHERE t.candidate_id = c.id AND t.actor = $2)
  AND NOT EXISTS (SELECT 1 FROM expert_reviews r WHERE r.candidate_id = c.id)
ORDER BY c.id
"""
INSERT_VERIFICATIONS = """
INSERT INTO verification_requests (candidate_id, authority, question, status, notes, requested_by, requested_at,
                                   answered_by, answered_at)
SELECT cid, a, q, s, n, $6::bigint, now() - interval '20 days',
       CASE WHEN s = 'sent' THEN NULL ELSE $6::bigint END, CASE WHEN s = 'sent' THEN NULL ELSE now() - interval '12 days' END
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t (cid, a, q, s, n)
"""
INSERT_REVIEWS = """
INSERT INTO expert_reviews (candidate_id, expert_id, recommend, motivation, created_at)
SELECT cid, eid, rec, mot, now() - interval '7 days'
FROM unnest($1::bigint[], $2::bigint[], $3::boolean[], $4::text[]) AS t (cid, eid, rec, mot)
ON CONFLICT (candidate_id, expert_id) DO NOTHING
"""

FIND_CAMPAIGN = "SELECT id, state FROM campaigns WHERE slug = $1"
INSERT_CAMPAIGN = """
INSERT INTO campaigns (slug, title, opens_at, closes_at, votes_per_voter, seats, live_results, shards)
VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
RETURNING id
"""
INSERT_BALLOT = """
INSERT INTO ballot_entries (campaign_id, candidate_id, position)
SELECT $1, t.candidate_id, t.position FROM unnest($2::bigint[]) WITH ORDINALITY AS t(candidate_id, position)
"""
INSERT_NOMINATION = """
INSERT INTO nominations (nominee, story, achievements, nominator_kind, nominator_sealed, nominator_pseudonym,
                         ip_hash, consent, phone_confirmed, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""


# --- staff -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoStaff:
    ids: dict[str, int]  # e-mail -> user id
    can_sign_in: bool
    totp: dict[str, str]  # e-mail -> base32 secret (the roles a second factor is mandatory for)

    def first(self, role: str) -> int:
        return next(self.ids[email] for r, email in STAFF if r == role)

    def experts(self) -> list[int]:
        return [self.ids[email] for r, email in STAFF if r == "expert"]

    def accounts(self) -> list[dict[str, str]]:
        return [{"role": role, "email": email, **({"totp_secret": self.totp[email]} if email in self.totp else {})}
                for role, email in STAFF]


async def ensure_staff(conn: asyncpg.Connection, *, password: str | None = None,
                       staff_key: bytes | None = None, app_env: str | None = None) -> DemoStaff:
    """The demo staff records; with ``password`` (development or test only) active with that password, and
    with ``staff_key`` an authenticator secret for the admin and the working group."""
    from admin_service.auth import totp as otp
    from admin_service.auth.passwords import production

    env = app_env if app_env is not None else (os.environ.get("APP_ENV") or "production")
    if password is not None and env not in PASSWORD_ENVS:
        raise RuntimeError(f"demo staff accounts that can sign in are for APP_ENV=development or test, not {env}")
    emails = [email for _, email in STAFF]
    found = {r["email"]: r["id"] for r in await conn.fetch(USER_IDS, emails)}
    if len(found) < len(STAFF) or password is not None:
        # Nobody knows the throwaway password of an account created without one; and it stays inactive.
        hashed = await production().hash(password if password is not None else secrets.token_urlsafe(24))
        for role, email in STAFF:
            await conn.execute(INSERT_USER, email, hashed, [role], password is not None)
        if password is not None:
            for email in emails:
                await conn.execute(SET_PASSWORD, email, hashed)
        found = {r["email"]: r["id"] for r in await conn.fetch(USER_IDS, emails)}
    totp: dict[str, str] = {}
    if password is not None and staff_key is not None:
        for role, email in STAFF:
            if role not in MFA_ROLES:
                continue
            uid = found[email]
            sealed = await conn.fetchval(TOTP_OF, uid)
            secret = otp.unseal(staff_key, uid, sealed) if sealed is not None else None
            if secret is None:  # none yet, or sealed under another STAFF_KEY: a new one
                secret = otp.new_secret()
                await conn.execute(SET_TOTP, uid, otp.seal(staff_key, uid, secret))
            totp[email] = secret
    return DemoStaff(ids=found, can_sign_in=password is not None, totp=totp)


# --- paperwork ---------------------------------------------------------------------------------------

async def paperwork(conn: asyncpg.Connection, staff: DemoStaff, region_names: dict[str, str]) -> dict[str, int]:
    """Verification requests and expert reviews for the loader's cards that lack them (see the module)."""
    clerk = staff.first("secretariat")
    needs = sorted({*VERIFIED, "under_verification", "rejected"})
    rows = await conn.fetch(CARDS_WITHOUT_VERIFICATION, needs, ACTOR)
    outcome = {"under_verification": ("sent", ""), "rejected": ("refuted", REFUTED)}
    if rows:
        await conn.execute(
            INSERT_VERIFICATIONS, [r["id"] for r in rows],
            [AUTHORITY.format(region=region_names.get(r["region"], r["region"])) for r in rows],
            [QUESTION.format(name=r["full_name"]) for r in rows],
            [outcome.get(r["status"], ("confirmed",))[0] for r in rows],
            [outcome.get(r["status"], ("confirmed", CONFIRMED))[1] for r in rows], clerk)
    reviewed = await conn.fetch(CARDS_WITHOUT_REVIEWS, sorted({*RECOMMENDED, "not_recommended", "under_review"}),
                                ACTOR)
    cids, eids, recs, mots = [], [], [], []
    for r in reviewed:
        # under review: one expert has answered so far; the others: both experts, the same way.
        experts = staff.experts()[:1] if r["status"] == "under_review" else staff.experts()
        yes = r["status"] != "not_recommended"
        for eid in experts:
            cids.append(r["id"]), eids.append(eid), recs.append(yes)
            mots.append(MOTIVATION_YES if yes else MOTIVATION_NO)
    if cids:
        await conn.execute(INSERT_REVIEWS, cids, eids, recs, mots)
    return {"verifications": len(rows), "reviews": len(cids)}


# --- votes -------------------------------------------------------------------------------------------

class Vote(msgspec.Struct, frozen=True):
    candidate_id: int
    voter: str
    ip_hash: str
    ip_net: str
    cast_ms: int
    # the live signals the voting service records with a vote (shared/fraud_signals.py, docs/fraud.md)
    signin_s: int | None = None
    ua_class: str | None = None
    page_token: bool | None = None
    operator: str | None = None
    accept_lang: str | None = None
    num_block: str | None = None
    seq_run: int | None = None


OPERATORS = ("701", "702", "705", "707", "747", "771", "775", "777", "778")


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ordinary_votes(candidate_ids: Sequence[int], *, start_ms: int, span_ms: int, seed: int,
                   scale: int = 40) -> list[Vote]:
    """A skewed popularity (a few favourites, a long tail), voters with at most VOTES_PER_VOTER distinct
    choices, each from a mobile network of its own, all within ``span_ms`` from ``start_ms``."""
    rng = random.Random(seed)
    wanted = {cid: 2 + int(scale * rng.random() ** 2) for cid in candidate_ids}
    ballots = [cid for cid, n in wanted.items() for _ in range(n)]
    rng.shuffle(ballots)
    out: list[Vote] = []
    voter, chosen, net, at = "", set(), "", start_ms
    for cid in ballots:
        if not voter or len(chosen) == VOTES_PER_VOTER or cid in chosen:
            voter = _h(f"demo-voter-{seed}-{len(out)}")
            chosen, net = set(), f"100.{64 + rng.randrange(64)}.{rng.randrange(256)}.0/24"
            at = start_ms + rng.randrange(span_ms)
        chosen.add(cid)
        at = min(at + rng.randrange(2 * 60_000, 90 * 60_000), start_ms + span_ms)  # back later, not in one go
        # a person on the portal: a browser with the page token, minutes after signing in, Kazakh or Russian
        out.append(Vote(cid, voter, _h(f"{voter}-ip")[:32], net, at, signin_s=rng.randrange(40, 900),
                        ua_class="browser", page_token=True, operator=rng.choice(OPERATORS),
                        accept_lang=rng.choice(("kk", "ru")), num_block=_h(f"{voter}-block")[:22], seq_run=1))
    return out


def cluster_votes(candidate_ids: Sequence[int], *, at_ms: int, seed: int) -> list[Vote]:
    """CLUSTER_VOTERS voters from one /24 within three minutes, each casting the full VOTES_PER_VOTER votes for
    the same candidates within seconds: many voters on one network, scripts without the page token, seconds after signing in with sequential numbers of one block."""
    rng = random.Random(seed)
    out = []
    for i in range(CLUSTER_VOTERS):
        bot = _h(f"demo-cluster-{seed}-{i}")
        first = at_ms + rng.randrange(3 * 60 * 1000)
        for j, cid in enumerate(candidate_ids[:VOTES_PER_VOTER]):
            # a script: no page token, seconds after a sign-in with the next number of one block
            out.append(Vote(cid, bot, _h(f"{bot}-ip")[:32], CLUSTER_NET, first + j * rng.randrange(1500, 4000),
                            signin_s=1 + j, ua_class="script", page_token=False, operator="747",
                            accept_lang="en", num_block=_h(f"demo-cluster-block-{seed}")[:22],
                            seq_run=min(i + 1, 100)))
    return out


async def write_votes(conn: asyncpg.Connection, campaign_id: int, votes: Sequence[Vote], seed: int) -> None:
    """As the flusher writes them (the receipts the vote script issued), with the flusher's own statement, so
    the fraud review's summaries hold them too."""
    ids = vote_ids(campaign_id, votes, random.Random(seed))
    await flushed_votes.insert_batch(conn, [
        (campaign_id, vid, v.candidate_id, v.voter, v.ip_hash, v.ip_net, v.cast_ms, v.signin_s, v.ua_class,
         v.page_token, v.operator, v.accept_lang, v.num_block, v.seq_run) for vid, v in zip(ids, votes)])


async def reconcile_tally(conn: asyncpg.Connection, r: aioredis.Redis, campaign_id: int) -> None:
    """Redis as the vote script and the flusher leave it: the tally equal to the recorded votes, the stream
    drained (nothing in it)."""
    counts = await votes_repo.counts(conn, campaign_id=campaign_id)
    tally = keys.ShardKeys.of(campaign_id, 0).tally
    await r.delete(tally)
    if counts:
        await r.hset(tally, mapping={str(k): v for k, v in counts.items()})


# --- the stages --------------------------------------------------------------------------------------

def _phone(rng: random.Random) -> str:
    return f"+7701{rng.randrange(10**7):07d}"


async def _insert_stage_cards(conn: asyncpg.Connection, cards: list[Any]) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {}
    at = 0
    for status, n in STAGES.items():
        chunk = cards[at:at + n]
        at += n
        ids[status] = await candidates.insert_many(conn, card_rows(chunk), status=status)
        path = PATHS[status]
        await candidates.record_transitions(conn, [
            (cid, before, after, REASON, ACTOR)
            for cid in ids[status] for before, after in zip((None, *path[:-1]), path, strict=True)])
    return ids


async def _nominations(conn: asyncpg.Connection, cards: list[Any], contact_public_key: bytes,
                       now: datetime) -> int:
    from shared.crypto import NOMINATION_CONTACT, ContactSealer

    sealer = ContactSealer(contact_public_key)
    rng = random.Random(STAGE_SEED + 1)
    for i, card in enumerate(cards):
        kind = "self" if i % 3 == 0 else "third_party"
        nominator = card.full_name if kind == "self" else f"Заявитель {i + 1}"
        phone = _phone(rng)
        contact = msgspec.json.encode({"full_name": nominator, "phone": phone})
        await conn.execute(
            INSERT_NOMINATION,
            {"full_name": card.full_name, "region": card.region, "sphere": card.sphere, "gender": card.gender,
             "birth_year": card.birth_year},
            card.story, [msgspec.structs.asdict(a) for a in card.achievements], kind,
            sealer.seal(contact, context=NOMINATION_CONTACT), _h(f"demo-nominator-{phone}"), _h(f"demo-ip-{i}")[:32],
            {"processing": True, "nominee_will_be_asked": kind == "third_party",
             "text_version": CONSENT_TEXT_VERSION, "at": (now - timedelta(hours=3 * i + 1)).isoformat()},
            i % 2 == 0, now - timedelta(hours=3 * i + 1))
    return len(cards)


async def install_stages(pool: asyncpg.Pool, r: aioredis.Redis, *, staff: DemoStaff,
                         contact_public_key: bytes | None, taken: frozenset[str],
                         now: datetime | None = None) -> dict[str, Any]:
    """Create (once) the stage cards, nominations, the draft and the closed campaign; see the module."""
    from admin_service.auth.context import Staff
    from admin_service.services import campaigns as campaigns_service

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    status = "existing"
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            closed = await conn.fetchrow(FIND_CAMPAIGN, CLOSED_SLUG)
            if closed is None:
                status = "created"
                total = sum(STAGES.values()) + NOMINATIONS + CLOSED_SIZE
                cards = generate_candidates(total, seed=STAGE_SEED, taken=taken)
                stage_cards = cards[:sum(STAGES.values())]
                nominated_cards = cards[len(stage_cards):len(stage_cards) + NOMINATIONS]
                ballot_cards = cards[len(stage_cards) + NOMINATIONS:]
                async with conn.transaction():
                    ids = await _insert_stage_cards(conn, stage_cards)
                    draft_id = await conn.fetchval(INSERT_CAMPAIGN, DRAFT_SLUG, DRAFT_TITLE, now + timedelta(days=60),
                                                   now + timedelta(days=83), VOTES_PER_VOTER, 100, False)
                    await conn.execute(INSERT_BALLOT, draft_id, ids["shortlisted"][:DRAFT_BALLOT])
                    ballot = await candidates.insert_many(conn, card_rows(ballot_cards), status="shortlisted")
                    await candidates.record_transitions(conn, [
                        (cid, before, after, REASON, ACTOR)
                        for cid in ballot for before, after in zip((None, *LIFECYCLE[:-1]), LIFECYCLE, strict=True)])
                    opens, closes = now - timedelta(days=12), now - timedelta(hours=2)
                    closed_id = await conn.fetchval(INSERT_CAMPAIGN, CLOSED_SLUG, CLOSED_TITLE, opens, closes,
                                                    VOTES_PER_VOTER, CLOSED_SEATS, True)
                    await conn.execute(INSERT_BALLOT, closed_id, ballot)
                    await campaigns.mark_published(conn, campaign_id=closed_id)
                    await candidates.record_on_ballot(conn, campaign_id=closed_id, reason=REASON, actor=ACTOR)
                    start = int(opens.timestamp() * 1000)
                    votes = ordinary_votes(ballot, start_ms=start, span_ms=int((closes - opens).total_seconds() * 1000)
                                           - 3_600_000, seed=STAGE_SEED)
                    # The cluster votes for three people from the lower half, on the fifth night.
                    votes += cluster_votes(ballot[-3:], at_ms=start + (4 * 24 + 22) * 3600 * 1000, seed=STAGE_SEED)
                    await write_votes(conn, closed_id, votes, STAGE_SEED)
                    if contact_public_key is not None:
                        await _nominations(conn, nominated_cards, contact_public_key, now)
                closed = await conn.fetchrow(FIND_CAMPAIGN, CLOSED_SLUG)
            if closed["state"] == "published":  # created now, or an interrupted run: drained, reconciled, closed
                for projection in await campaigns.projections(conn, campaign_id=closed["id"]):
                    await project(r, projection)
                await reconcile_tally(conn, r, closed["id"])
                wg = next(email for role, email in STAFF if role == "working_group")
                actor = Staff(id=staff.first("working_group"), email=wg, roles=frozenset({"working_group"}))
                await campaigns_service.close(pool, r, campaign_id=closed["id"], actor=actor)
            else:
                for projection in await campaigns.projections(conn, campaign_id=closed["id"]):
                    await project(r, projection)
                if closed["state"] == "closed":
                    await reconcile_tally(conn, r, closed["id"])
            summary = await conn.fetchrow(STAGE_SUMMARY, CLOSED_SLUG, DRAFT_SLUG)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return {"status": status, **dict(summary)}


STAGE_SUMMARY = """
SELECT (SELECT id FROM campaigns WHERE slug = $2) AS draft_id,
       (SELECT id FROM campaigns WHERE slug = $1) AS closed_id,
       (SELECT state FROM campaigns WHERE slug = $1) AS closed_state,
       (SELECT count(*) FROM votes v JOIN campaigns c ON c.id = v.campaign_id WHERE c.slug = $1) AS closed_votes,
       (SELECT count(*) FROM nominations WHERE status = 'received') AS nominations_waiting
"""
