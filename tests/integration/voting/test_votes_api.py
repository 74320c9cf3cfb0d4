"""POST /campaigns/{id}/votes and GET /campaigns/{id}/my-votes: every status and error code of the contract."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import secrets
import time

import pytest

from shared.votestore import keys
from shared.crypto import VoterTokens
from shared.infra import create_redis
from shared.votestore.projection import project
from shared.repos import campaigns as campaigns_repo
from tests.factories import make_campaign
from tests.integration.voting.conftest import (
    app_client,
    assert_problem,
    bearer,
    cast,
    mint_token,
    RedisProxy,
    postgres_dump,
    redis_dump,
    settings_with,
    sign_in,
)
from tests.integration.voting.test_nominations_api import nomination
from voting_service.flusher import Flusher

PHONE = "+77015556677"


async def stream_len(redis, campaign_id: int) -> int:
    return await redis.xlen(keys.ShardKeys.of(campaign_id, 0).stream)


async def tally(redis, campaign_id: int) -> dict[str, int]:
    return {c: int(n) for c, n in (await redis.hgetall(keys.ShardKeys.of(campaign_id, 0).tally)).items()}


# --- accepted ------------------------------------------------------------------------------------------

async def test_vote_accepted(client, pool, redis):
    camp = await make_campaign(pool, redis, candidates=4, k=3)
    token = await sign_in(client, PHONE)
    cand = camp.candidate_ids[1]
    r = await cast(client, camp.id, cand, token)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["candidate_id"] == str(cand)
    assert body["votes_left"] == 2
    assert isinstance(body["receipt"], str) and body["receipt"].startswith(f"{camp.id}.")
    assert await stream_len(redis, camp.id) == 1
    assert await tally(redis, camp.id) == {str(cand): 1}


async def test_votes_left_counts_down_and_receipts_differ(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    token = mint_token(settings, PHONE)
    answers = [(await cast(client, camp.id, c, token)).json() for c in camp.candidate_ids]
    assert [a["votes_left"] for a in answers] == [2, 1, 0]
    assert len({a["receipt"] for a in answers}) == 3


# --- 401 invalid_token -----------------------------------------------------------------------------------

def _forged_tokens(settings) -> dict[str, dict[str, str]]:
    real = mint_token(settings, PHONE)
    kid, payload, mac = real.split(".")
    flipped = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    other_key = VoterTokens(secrets.token_bytes(32), 3600).issue("AAAAAAAAAAAAAAAA")[0]
    expired = mint_token(settings, PHONE, now=time.time() - settings.voter_token_ttl_s - 5)
    return {
        "missing": {},
        "empty bearer": {"Authorization": "Bearer "},
        "basic scheme": {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
        "no scheme": {"Authorization": real},
        "garbage": bearer("not-a-token"),
        "three dots": bearer(real + ".x"),
        "bad mac": bearer(f"{kid}.{payload}.{flipped}"),
        "unknown key id": bearer(f"zz.{payload}.{mac}"),
        "other key": bearer(other_key),
        "expired": bearer(expired),
        "huge": bearer("a" * 300 + "." + "b" * 30),
    }


@pytest.mark.parametrize("case", [
    "missing", "empty bearer", "basic scheme", "no scheme", "garbage", "three dots", "bad mac", "unknown key id",
    "other key", "expired", "huge",
])
async def test_vote_refused_without_a_valid_token(client, pool, redis, settings, case):
    camp = await make_campaign(pool, redis, candidates=2)
    headers = _forged_tokens(settings)[case]
    r = await client.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(camp.candidate_ids[0])},
                          headers=headers)
    assert_problem(r, 401, "invalid_token")
    assert r.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert await stream_len(redis, camp.id) == 0


# --- 404 ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["987654321098", "abc", "-1"])
async def test_vote_unknown_campaign(client, settings, raw):
    assert_problem(await cast(client, raw, 1, mint_token(settings)), 404, "campaign_not_found")


async def test_vote_in_draft_campaign(client, pool, redis, settings):
    draft = await make_campaign(pool, redis, publish=False)
    assert_problem(await cast(client, draft.id, draft.candidate_ids[0], mint_token(settings)), 404,
                   "campaign_not_found")


async def test_vote_candidate_not_on_ballot(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=2)
    other = await make_campaign(pool, redis, candidates=1)
    token = mint_token(settings)
    for cand in (987_654_321_098, other.candidate_ids[0], "abc", "0"):
        assert_problem(await cast(client, camp.id, cand, token), 404, "candidate_not_on_ballot")
    assert await stream_len(redis, camp.id) == 0
    assert await tally(redis, camp.id) == {}


# --- 403 campaign_closed -----------------------------------------------------------------------------------

@pytest.mark.parametrize("opens_in, lasts", [
    (dt.timedelta(hours=1), dt.timedelta(days=1)),     # not open yet
    (dt.timedelta(hours=-2), dt.timedelta(hours=1)),   # already over
], ids=["not-yet-open", "already-closed"])
async def test_vote_outside_the_window(client, pool, redis, settings, opens_in, lasts):
    camp = await make_campaign(pool, redis, opens_in=opens_in, lasts=lasts)
    assert_problem(await cast(client, camp.id, camp.candidate_ids[0], mint_token(settings)), 403,
                   "campaign_closed")
    assert await stream_len(redis, camp.id) == 0


async def test_vote_in_campaign_closed_by_staff(client, pool, redis, settings):
    camp = await make_campaign(pool, redis)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE campaigns SET state = 'closed', closed_at = now() WHERE id = $1", camp.id)
        (proj,) = await campaigns_repo.projections(conn, campaign_id=camp.id)
    await project(redis, proj)
    assert_problem(await cast(client, camp.id, camp.candidate_ids[0], mint_token(settings)), 403,
                   "campaign_closed")


# --- 409 ---------------------------------------------------------------------------------------------------

async def test_already_voted_does_not_use_up_the_cap(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    a, b, c = camp.candidate_ids
    token = mint_token(settings, PHONE)
    assert (await cast(client, camp.id, a, token)).json()["votes_left"] == 1
    again = assert_problem(await cast(client, camp.id, a, token), 409, "already_voted")
    assert again.get("votes_left", 1) == 1
    mine = (await client.get(f"/api/v1/campaigns/{camp.id}/my-votes", headers=bearer(token))).json()
    assert mine == {"candidate_ids": [str(a)], "votes_left": 1}
    r = await cast(client, camp.id, b, token)
    assert r.status_code == 201, r.text
    assert r.json()["votes_left"] == 0
    assert await tally(redis, camp.id) == {str(a): 1, str(b): 1}
    assert await stream_len(redis, camp.id) == 2
    assert c  # still on the ballot, but out of reach: see the next test


async def test_vote_limit_reached_after_k_distinct(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=4, k=3)
    token = mint_token(settings, PHONE)
    for cand in camp.candidate_ids[:3]:
        assert (await cast(client, camp.id, cand, token)).status_code == 201
    body = assert_problem(await cast(client, camp.id, camp.candidate_ids[3], token), 409, "vote_limit_reached")
    assert body.get("votes_left", 0) == 0
    # The vote the voter already has is still "already voted", not "limit reached".
    assert_problem(await cast(client, camp.id, camp.candidate_ids[0], token), 409, "already_voted")
    assert await stream_len(redis, camp.id) == 3
    assert str(camp.candidate_ids[3]) not in await tally(redis, camp.id)


async def test_caps_are_per_voter(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=2, k=1)
    cand = camp.candidate_ids[0]
    for n in range(3):
        assert (await cast(client, camp.id, cand, mint_token(settings, f"+7701444000{n}"))).status_code == 201
    assert await tally(redis, camp.id) == {str(cand): 3}


async def test_concurrent_votes_respect_the_cap(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=8, k=2)
    token = mint_token(settings, PHONE)
    answers = await asyncio.gather(*[cast(client, camp.id, c, token) for c in camp.candidate_ids])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201, 201] + [409] * 6, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"vote_limit_reached"}
    assert sorted(r.json()["votes_left"] for r in answers if r.status_code == 201) == [0, 1]
    assert await stream_len(redis, camp.id) == 2
    assert sum((await tally(redis, camp.id)).values()) == 2


# --- 429 rate_limited ----------------------------------------------------------------------------------------

async def test_vote_rate_limited_per_voter(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_VOTER="2")
    camp = await make_campaign(pool, redis, candidates=5, k=5)
    token = mint_token(s, PHONE)
    async with app_client(s, pool, redis) as c:
        for cand in camp.candidate_ids[:2]:
            assert (await cast(c, camp.id, cand, token)).status_code == 201
        r = await cast(c, camp.id, camp.candidate_ids[2], token)
        assert_problem(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= s.vote_limit_voter_window_s
        # Another voter is not throttled by this one.
        assert (await cast(c, camp.id, camp.candidate_ids[2], mint_token(s, "+77010000002"))).status_code == 201
    assert await stream_len(redis, camp.id) == 3


async def test_vote_rate_limited_per_ip(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_IP="2", LIMIT_HARD_FACTOR="1")  # no challenge band: refused at once
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    async with app_client(s, pool, redis) as c:
        for n in range(2):
            assert (await cast(c, camp.id, camp.candidate_ids[0], mint_token(s, f"+7701333000{n}"))).status_code == 201
        r = await cast(c, camp.id, camp.candidate_ids[0], mint_token(s, "+77013330009"))
        assert_problem(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1


# --- 503 unavailable -----------------------------------------------------------------------------------------

async def test_vote_store_down_is_503_fast(settings, pool):
    dead = create_redis("redis://127.0.0.1:1/0", timeout_s=0.5)
    try:
        async with app_client(settings, pool, dead) as c:
            started = time.perf_counter()
            r = await cast(c, 1, 1, mint_token(settings))
            elapsed = time.perf_counter() - started
            assert_problem(r, 503, "unavailable")
            assert elapsed < 2.0, f"took {elapsed:.2f} s"
            assert "Retry-After" in r.headers
            started = time.perf_counter()
            assert_problem(await c.get("/health/ready"), 503, "unavailable")
            assert time.perf_counter() - started < 2.0
            assert (await c.get("/health/live")).status_code == 200
    finally:
        await dead.aclose()


@pytest.mark.parametrize("mode", ["hang", "reset"])
async def test_vote_store_lost_mid_campaign_is_503_fast(env, pool, redis, redis_url, mode):
    """The hot path itself (route already cached, the vote script call fails): 503 within 2 s, nothing half-done."""
    s = settings_with(env, CAMPAIGN_CACHE_S="60")
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    proxy = await RedisProxy(redis_url).start()
    via_proxy = create_redis(proxy.url(int(redis_url.rsplit("/", 1)[1])), timeout_s=0.5)
    token = mint_token(s, PHONE)
    try:
        async with app_client(s, pool, via_proxy) as c:
            assert (await cast(c, camp.id, camp.candidate_ids[0], token)).status_code == 201
            proxy.cut(mode)
            started = time.perf_counter()
            r = await cast(c, camp.id, camp.candidate_ids[1], token)
            elapsed = time.perf_counter() - started
            assert_problem(r, 503, "unavailable")
            assert elapsed < 2.0, f"took {elapsed:.2f} s"
            assert_problem(await c.get("/health/ready"), 503, "unavailable")
    finally:
        await via_proxy.aclose()
        await proxy.close()
    # The refused vote never reached the store; the accepted one is whole.
    assert await stream_len(redis, camp.id) == 1
    assert await tally(redis, camp.id) == {str(camp.candidate_ids[0]): 1}


# --- my-votes ------------------------------------------------------------------------------------------------

async def test_my_votes(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    token = await sign_in(client, PHONE)
    url = f"/api/v1/campaigns/{camp.id}/my-votes"
    assert (await client.get(url, headers=bearer(token))).json() == {"candidate_ids": [], "votes_left": 3}
    a, b, _ = camp.candidate_ids
    await cast(client, camp.id, b, token)
    await cast(client, camp.id, a, token)
    r = await client.get(url, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json() == {"candidate_ids": [str(b), str(a)], "votes_left": 1}
    # Another voter sees only their own.
    other = (await client.get(url, headers=bearer(mint_token(settings, "+77010000003")))).json()
    assert other == {"candidate_ids": [], "votes_left": 3}


async def test_my_votes_lists_choices_only_after_a_recent_sign_in(client, pool, redis, settings):
    """Vote buying: a token older than MY_VOTES_FRESH_S (5 min) still votes and still sees votes_left, but
    can no longer show anyone whom the voter chose."""
    assert settings.my_votes_fresh_s == 300 and settings.voter_token_ttl_s == 15 * 60
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    url = f"/api/v1/campaigns/{camp.id}/my-votes"
    fresh = mint_token(settings, "+77010000007", now=time.time() - 240)
    stale = mint_token(settings, "+77010000007", now=time.time() - 360)  # same voter, signed in 6 min ago
    assert (await cast(client, camp.id, camp.candidate_ids[0], stale)).status_code == 201
    r = await client.get(url, headers=bearer(fresh))
    assert r.status_code == 200 and r.json() == {"candidate_ids": [str(camp.candidate_ids[0])], "votes_left": 2}
    r = await client.get(url, headers=bearer(stale))
    assert r.status_code == 200 and r.json() == {"votes_left": 2, "fresh_sign_in_needed": True}


async def test_a_token_lives_fifteen_minutes(client, pool, redis, settings):
    camp = await make_campaign(pool, redis)
    url = f"/api/v1/campaigns/{camp.id}/my-votes"
    assert (await client.get(url, headers=bearer(mint_token(settings, now=time.time() - 14 * 60)))).status_code == 200
    assert_problem(await client.get(url, headers=bearer(mint_token(settings, now=time.time() - 15 * 60 - 1))),
                   401, "invalid_token")


@pytest.mark.parametrize("case", ["missing", "garbage", "bad mac", "other key", "expired"])
async def test_my_votes_needs_a_valid_token(client, pool, redis, settings, case):
    camp = await make_campaign(pool, redis)
    r = await client.get(f"/api/v1/campaigns/{camp.id}/my-votes", headers=_forged_tokens(settings)[case])
    assert_problem(r, 401, "invalid_token")


async def test_my_votes_unknown_campaign(client, settings):
    assert_problem(await client.get("/api/v1/campaigns/987654321098/my-votes", headers=bearer(mint_token(settings))),
                   404, "campaign_not_found")


# --- privacy -------------------------------------------------------------------------------------------------

async def test_no_phone_number_at_rest(client, pool, redis, settings):
    """Invariant 6: after a sign-in, votes, a flush and a nomination, neither Redis nor Postgres holds the phone."""
    phone = "+77019876543"
    needles = ("7019876543", "701 987", "701-987", "987-65-43", "987 65 43")
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    token = await sign_in(client, "8 (701) 987-65-43")
    receipts = [(await cast(client, camp.id, c, token)).json()["receipt"] for c in camp.candidate_ids[:2]]
    assert_problem(await cast(client, camp.id, camp.candidate_ids[2], token), 409, "vote_limit_reached")
    assert (await client.get(f"/api/v1/campaigns/{camp.id}/my-votes", headers=bearer(token))).status_code == 200
    assert (await client.post("/api/v1/auth/otp", json={"phone": phone})).status_code == 429  # throttled resend
    r = await client.post("/api/v1/nominations", json=nomination(nominated_by__phone=phone))
    assert r.status_code == 202, r.text

    dump = await redis_dump(redis)
    assert "stream" in dump and "hash" in dump  # the dump really read the vote state
    for needle in needles:
        assert needle not in dump, f"{needle!r} in Redis"

    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    assert await f.drain_once() == 2
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT v::text AS row FROM votes v WHERE campaign_id = $1", camp.id)
    assert len(rows) == 2 and {r["row"].split(",")[1] for r in rows} == set(receipts)
    dump = await postgres_dump(pool) + "\n" + await redis_dump(redis)
    for needle in needles:
        assert needle not in dump, f"{needle!r} at rest"
    for digits in (phone[1:], "8" + phone[2:]):
        assert digits not in dump
