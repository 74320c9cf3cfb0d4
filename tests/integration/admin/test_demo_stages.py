"""The demo shows every stage of the staff workflow (devtools/demo_stages.py) and its cards agree with their
history: loaded into a fresh database and Redis db 14, then read back through the admin service's own code.

Every lifecycle status has cards; every card past a stage has the paperwork the lifecycle rules require
(a confirmed verification for verified and beyond, reviews for recommended and beyond, recommend / against
agreeing with the conclusion); nominations wait in triage with contacts the admin service can open; a draft,
an open, a closed and a finalised campaign; the closed one finalises as it is (drained, reconciled), after
the fraud review flags the cluster from one /24; the demo staff can sign in only when given a password, and
never in production.
"""

from __future__ import annotations

import asyncpg
import pytest
import redis.asyncio as aioredis

from admin_service.auth.context import Staff
from admin_service.services import finalise, fraud, lifecycle
from admin_service.services.tree_head import TreeHeadSigner
from shared.crypto import NOMINATION_CONTACT, ContactOpener, new_contact_keypair
from shared.infra import create_pool
from shared.votestore import keys
from devtools import demo_stages
from devtools.demo import DEMO_SLUG, PAST_SLUG, load_demo
from devtools.demo_stages import (CLOSED_SIZE, CLOSED_SLUG, CLUSTER_NET, DRAFT_BALLOT, DRAFT_SLUG, NOMINATIONS,
                                  PATHS, STAFF, STAGES)

STATUSES = ("nominated", "under_verification", "verified", "rejected", "under_review", "recommended",
            "not_recommended", "shortlisted", "declined", "on_ballot", "finalist", "not_selected")
PAPERWORK = """
SELECT c.id, c.status,
       count(*) FILTER (WHERE v.status = 'confirmed')   AS confirmed,
       count(*) FILTER (WHERE v.status = 'refuted')     AS refuted,
       count(*) FILTER (WHERE v.status = 'sent')        AS sent,
       (SELECT count(*) FROM expert_reviews r WHERE r.candidate_id = c.id AND r.recommend)     AS yes,
       (SELECT count(*) FROM expert_reviews r WHERE r.candidate_id = c.id AND NOT r.recommend) AS no
FROM candidates c LEFT JOIN verification_requests v ON v.candidate_id = c.id
GROUP BY c.id, c.status
"""


def test_every_stage_path_follows_the_lifecycle_rules() -> None:
    """The transitions the loader records are the ones staff could make (publication and finalisation
    aside), and every status of the schema is reached by some demo card."""
    for status, path in PATHS.items():
        assert path[0] == "nominated" and path[-1] == status
        for before, after in zip(path, path[1:]):
            assert (before, after) in lifecycle.TRANSITIONS, (before, after)
    assert set(PATHS) | {"on_ballot", "finalist", "not_selected"} == set(STATUSES)


@pytest.fixture
async def loaded(fresh_database_url: str, demo_redis: tuple[str, aioredis.Redis]):
    redis_url, r = demo_redis
    private, public = new_contact_keypair()
    result = await load_demo(fresh_database_url, redis_url, contact_public_key=public)
    pool = await create_pool(fresh_database_url, min_size=1, max_size=4)
    try:
        yield result, pool, r, private
    finally:
        await pool.close()


async def test_every_lifecycle_stage_has_cards_with_the_paperwork_it_requires(loaded) -> None:
    result, pool, _, _ = loaded
    rows = await pool.fetch(PAPERWORK)
    by_status: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    assert set(by_status) == set(STATUSES), set(STATUSES) - set(by_status)
    for status, n in STAGES.items():
        assert len(by_status[status]) >= n
    for row in rows:
        s = row["status"]
        if s in demo_stages.VERIFIED:
            assert row["confirmed"] >= 1 and row["refuted"] == 0, dict(row)
        if s == "rejected":
            assert row["refuted"] >= 1 and row["confirmed"] == 0, dict(row)
        if s == "under_verification":
            assert row["sent"] >= 1, dict(row)
        if s in demo_stages.RECOMMENDED:  # recommended and everything after it: reviews recommending the card
            assert row["yes"] >= 2 and row["no"] == 0, dict(row)
        if s == "not_recommended":
            assert row["no"] >= 1 and row["yes"] == 0, dict(row)
        if s == "under_review":
            assert row["yes"] + row["no"] >= 1, dict(row)
        if s in ("nominated", "under_verification", "verified", "rejected"):
            assert row["yes"] + row["no"] == 0, dict(row)
    assert result["stages"]["paperwork"]["reviews"] > 0


async def test_campaigns_at_every_state(loaded) -> None:
    result, pool, r, _ = loaded
    states = {row["slug"]: row["state"] for row in await pool.fetch("SELECT slug, state FROM campaigns")}
    assert states == {DEMO_SLUG: "published", PAST_SLUG: "finalised", DRAFT_SLUG: "draft", CLOSED_SLUG: "closed"}
    draft = await pool.fetch("SELECT k.status FROM ballot_entries b JOIN candidates k ON k.id = b.candidate_id "
                             "JOIN campaigns c ON c.id = b.campaign_id WHERE c.slug = $1", DRAFT_SLUG)
    assert len(draft) == DRAFT_BALLOT and {d["status"] for d in draft} == {"shortlisted"}
    # The open campaign has its first hour's votes, and Redis agrees with Postgres (nothing left to flush).
    open_id = result["campaign_id"]
    recorded = await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", open_id)
    tally = await r.hgetall(keys.ShardKeys.of(open_id, 0).tally)
    assert recorded > 0 and sum(int(v) for v in tally.values()) == recorded
    assert await r.xlen(keys.ShardKeys.of(open_id, 0).stream) == 0


async def test_nominations_wait_in_triage_with_contacts_staff_can_open(loaded) -> None:
    _, pool, _, private = loaded
    rows = await pool.fetch("SELECT nominee, nominator_sealed, status, reference FROM nominations")
    assert len(rows) == NOMINATIONS and {row["status"] for row in rows} == {"received"}
    opener = ContactOpener([private])
    for row in rows:
        assert b'"phone":"+7701' in opener.open(bytes(row["nominator_sealed"]), context=NOMINATION_CONTACT)
        assert row["reference"].startswith("NF-")


async def test_the_closed_campaign_shows_the_cluster_and_finalises_as_it_is(loaded) -> None:
    result, pool, r, _ = loaded
    cid = result["stages"]["closed_id"]
    flagged = await fraud.flags(pool, campaign_id=cid, kind="net")
    assert flagged["items"] and flagged["items"][0]["cluster_id"] == f"net:{CLUSTER_NET}", flagged["items"][:2]
    signals = {s["signal"] for s in flagged["items"][0]["signals"]}
    assert {"many_voters_one_network", "automated_clients", "fast_after_signin", "same_candidates"} <= signals, signals
    # the same votes seen as their client signature and their number block (the summaries the flusher keeps)
    for kind, signal in (("ua", "automated_clients"), ("blk", "sequential_numbers")):
        items = (await fraud.flags(pool, campaign_id=cid, kind=kind))["items"]
        assert any(signal in {s["signal"] for s in i["signals"]} for i in items), (kind, items[:2])
    # Drained and reconciled: the working group can finalise it now, without waiting for anything.
    wg = await pool.fetchrow("SELECT id, email FROM users WHERE email = $1",
                             next(e for role, e in STAFF if role == "working_group"))
    actor = Staff(id=wg["id"], email=wg["email"], roles=frozenset({"working_group"}))
    done = await finalise.finalise(pool, r, campaign_id=cid, actor=actor, signer=TreeHeadSigner(b"k" * 32))
    assert done["counted_votes"] == result["stages"]["closed_votes"]
    assert await pool.fetchval("SELECT count(*) FROM ballot_entries WHERE campaign_id = $1", cid) == CLOSED_SIZE


async def test_demo_staff_sign_in_only_with_a_password_and_never_in_production(loaded) -> None:
    _, pool, _, _ = loaded
    emails = [e for _, e in STAFF]
    rows = await pool.fetch("SELECT email, roles, active FROM users WHERE email = ANY($1::text[])", emails)
    assert {r["roles"][0] for r in rows} == {"admin", "secretariat", "expert", "working_group", "auditor"}
    assert not any(r["active"] for r in rows)  # loaded without a password: nobody can sign in
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="development or test"):
            await demo_stages.ensure_staff(conn, password="Demo-Steppe-2026!", app_env="production")
        assert not any(r["active"] for r in await conn.fetch(
            "SELECT active FROM users WHERE email = ANY($1::text[])", emails))
        staff = await demo_stages.ensure_staff(conn, password="Demo-Steppe-2026!", staff_key=b"s" * 32,
                                               app_env="development")
        active = await conn.fetch("SELECT u.email, u.active, t.confirmed_at IS NOT NULL AS totp FROM users u "
                                  "LEFT JOIN staff_totp t ON t.user_id = u.id WHERE u.email = ANY($1::text[])",
                                  emails)
    assert all(r["active"] for r in active)
    roles = dict((e, role) for role, e in STAFF)
    assert {r["email"] for r in active if r["totp"]} == {e for e, role in roles.items()
                                                        if role in ("admin", "working_group")}
    assert set(staff.totp) == {e for e, role in roles.items() if role in ("admin", "working_group")}
