"""Issue 12: layered limits in keys of their own, adaptive proof of work, the SMS budget and its breaker.

Against real Redis and Postgres, through the app (the vote through its fast path, as served)."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from prometheus_client import REGISTRY

from shared.votestore import keys
from tests.factories import make_campaign
from tests.integration.voting.conftest import (
    app_client,
    assert_problem,
    bearer,
    cast,
    mint_token,
    outbox_code,
    settings_with,
    sign_in,
    solve,
)
from voting_service.services.challenge import Challenges
from voting_service.services.guard import challenges_of

OTP = "/api/v1/auth/otp"
VERIFY = "/api/v1/auth/otp/verify"
OUTBOX = "/api/v1/dev/sms-outbox"
PROXY = "203.0.113.0/24"      # the test client's address is 203.0.113.7: a trusted proxy when asked
EASY = {"CHALLENGE_BASE_MAXNUMBER": "1000", "CHALLENGE_MAX_MAXNUMBER": "64000"}  # quick to solve in a test


def pow_header(solution: str) -> dict[str, str]:
    return {"X-Challenge-Solution": solution}


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def vote_from(c, camp, n: int, s, *, candidate: int = 0, headers: dict | None = None, phone_base: int = 0):
    token = mint_token(s, f"+7701{phone_base + n:07d}")
    return await c.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(camp.candidate_ids[candidate])},
                        headers={**bearer(token), **(headers or {})})


# --- limits that span shards live in keys of their own ------------------------------------------------------

@pytest.mark.parametrize("shards", [1, 16])
async def test_sixteen_shards_give_one_address_the_budget_of_one(env, pool, redis, shards):
    """Voters spread over every shard, all from one address: the address gets VOTE_LIMIT_IP, not 16 times it
    (before issue 12 the counter lived under each shard's hash tag)."""
    s = settings_with(env, VOTE_LIMIT_IP="6", LIMIT_HARD_FACTOR="1", VOTE_LIMIT_VOTER="0")
    camp = await make_campaign(pool, redis, candidates=2, k=2, shards=shards)
    async with app_client(s, pool, redis) as c:
        codes = [(await vote_from(c, camp, n, s)).status_code for n in range(40)]
    assert codes.count(201) == 6 and set(codes) == {201, 429}
    if shards == 16:  # the 6 accepted voters really were in different shards
        used = {keys.voter_route(v, 16, 1024)[0] for v in [_voter(s, n) for n in range(6)]}
        assert len(used) > 1
    # one counter for the address, under the network's own hash tag, none under a shard's
    assert [k async for k in redis.scan_iter("{c*:rl:ip:*")] == []
    assert [k async for k in redis.scan_iter("rl:{n:203.0.113.0/24}:vote:a:*")]


def _voter(s, n: int) -> str:
    from shared.crypto import pseudonym
    return pseudonym(s.secrets.pseudonym_key, "voter", f"+7701{n:07d}")


@pytest.mark.parametrize("shards", [1, 16])
async def test_sixteen_shards_give_one_network_the_budget_of_one(env, pool, redis, shards):
    """A farm rotating addresses inside one /24 (behind a trusted proxy here, to name them) under 16 shards."""
    s = settings_with(env, VOTE_LIMIT_NET="5", LIMIT_HARD_FACTOR="1", VOTE_LIMIT_VOTER="0", TRUSTED_PROXIES=PROXY)
    camp = await make_campaign(pool, redis, candidates=2, k=2, shards=shards)
    async with app_client(s, pool, redis) as c:
        codes = [(await vote_from(c, camp, n, s, headers={"X-Forwarded-For": f"198.51.100.{n + 1}"})).status_code
                 for n in range(30)]
    assert codes.count(201) == 5


async def test_concurrent_votes_from_one_address_hold_the_cap_over_sixteen_shards(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_IP="10", LIMIT_HARD_FACTOR="1", VOTE_LIMIT_VOTER="0")
    camp = await make_campaign(pool, redis, candidates=2, k=2, shards=16)
    async with app_client(s, pool, redis) as c:
        results = await asyncio.gather(*(vote_from(c, camp, n, s) for n in range(60)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 10 and codes.count(429) == 50
    tally = 0
    for shard in range(16):
        tally += int((await redis.hget(keys.ShardKeys.of(camp.id, shard).tally, str(camp.candidate_ids[0]))) or 0)
    assert tally == 10  # nothing half-done: every refused vote left no trace in any shard


async def test_an_ipv6_farm_rotating_its_64s_meets_the_48(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_WIDE="4", LIMIT_HARD_FACTOR="1", VOTE_LIMIT_VOTER="0", TRUSTED_PROXIES=PROXY)
    camp = await make_campaign(pool, redis, candidates=2, k=2, shards=16)
    async with app_client(s, pool, redis) as c:
        codes = [(await vote_from(c, camp, n, s, headers={"X-Forwarded-For": f"2001:db8:7:{n:x}::1"})).status_code
                 for n in range(10)]
        assert codes.count(201) == 4
        # another /48 is another site
        assert (await vote_from(c, camp, 99, s, headers={"X-Forwarded-For": "2001:db8:8::1"})).status_code == 201


# --- carrier-grade NAT: a challenge before a refusal --------------------------------------------------------

async def test_a_shared_address_escalates_to_a_challenge_before_it_refuses(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_IP="3", LIMIT_HARD_FACTOR="3", VOTE_LIMIT_VOTER="0", **EASY)
    camp = await make_campaign(pool, redis, candidates=2, k=2, shards=16)
    before = counter("challenges_solved_total", route="vote")
    async with app_client(s, pool, redis) as c:
        for n in range(3):  # honest people behind one address
            assert (await vote_from(c, camp, n, s)).status_code == 201
        r = await vote_from(c, camp, 3, s)
        body = assert_problem(r, 428, "challenge_required")
        ch = body["challenge"]
        assert set(ch) == {"algorithm", "challenge", "salt", "maxnumber", "signature"}
        assert ch["algorithm"] == "SHA-256" and "expires=" in ch["salt"] and "r=vote" in ch["salt"]
        # The same voter, with the solution: counted.
        r = await vote_from(c, camp, 3, s, headers=pow_header(solve(ch)))
        assert r.status_code == 201, r.text
        # Up to the hard limit (3 x 3 attempts; the 428 counted too) each further vote needs its own solution...
        n = 4
        while True:
            r = await vote_from(c, camp, n, s)
            if r.status_code == 429:
                break
            ch = assert_problem(r, 428, "challenge_required")["challenge"]
            r = await vote_from(c, camp, n, s, headers=pow_header(solve(ch)))
            if r.status_code == 429:
                break
            assert r.status_code == 201, r.text
            n += 1
        # ...and past it, a refusal even with a good solution.
        assert_problem(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1
    assert counter("challenges_solved_total", route="vote") > before


async def test_ordinary_voters_never_see_a_challenge(env, pool, redis):
    """Default settings: a family signing in one after another on the home Wi-Fi, each voting k times."""
    s = settings_with(env)
    camp = await make_campaign(pool, redis, candidates=5, k=3, shards=16)
    async with app_client(s, pool, redis) as c:
        for person in range(4):
            token = await sign_in(c, f"+770155500{person:02d}")
            for cand in camp.candidate_ids[:3]:
                r = await cast(c, camp.id, cand, token)
                assert r.status_code == 201, r.text


# --- the solution: stateless, single-use, fresh, for this route ---------------------------------------------

async def _challenged_vote(c, camp, s):
    for n in range(2):
        assert (await vote_from(c, camp, n, s)).status_code == 201
    return assert_problem(await vote_from(c, camp, 50, s), 428, "challenge_required")["challenge"]


async def test_a_replayed_solution_is_refused(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_IP="2", VOTE_LIMIT_VOTER="0", **EASY)
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    async with app_client(s, pool, redis) as c:
        good = solve(await _challenged_vote(c, camp, s))
        assert (await vote_from(c, camp, 50, s, headers=pow_header(good))).status_code == 201
        r = await vote_from(c, camp, 51, s, headers=pow_header(good))
        assert_problem(r, 403, "challenge_failed")
        assert "already used" in r.json()["detail"]
    assert await redis.ttl(next(iter([k async for k in redis.scan_iter("rl:{pow}:*")]))) > 0


async def test_a_stale_solution_is_refused(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_IP="2", VOTE_LIMIT_VOTER="0", **EASY)
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    # A challenge signed with the service's own key whose expiry has passed.
    expired = Challenges(key=s.secrets.pseudonym_key, redis=redis, ttl_s=-5, base=1000, ceiling=1000).issue("vote")
    async with app_client(s, pool, redis) as c:
        await _challenged_vote(c, camp, s)
        r = await vote_from(c, camp, 50, s, headers=pow_header(solve(expired)))
        assert_problem(r, 403, "challenge_failed")
        assert "expired" in r.json()["detail"]


async def test_a_solution_for_another_route_or_forged_is_refused(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_IP="2", VOTE_LIMIT_VOTER="0", **EASY)
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    other_route = challenges_of(s, redis)
    other_route.base = other_route.ceiling = 1000
    foreign = Challenges(key=b"another key" * 3, redis=redis, ttl_s=60, base=1000, ceiling=1000)
    async with app_client(s, pool, redis) as c:
        ch = await _challenged_vote(c, camp, s)
        for bad in (solve(other_route.issue("otp")), solve(foreign.issue("vote"))):
            assert_problem(await vote_from(c, camp, 50, s, headers=pow_header(bad)), 403, "challenge_failed")
        wrong = json.loads(base64.b64decode(solve(ch)))
        wrong["number"] += 1
        bad = base64.b64encode(json.dumps(wrong).encode()).decode()
        assert_problem(await vote_from(c, camp, 50, s, headers=pow_header(bad)), 403, "challenge_failed")
        # the right one still works: failures spend nothing
        assert (await vote_from(c, camp, 50, s, headers=pow_header(solve(ch)))).status_code == 201


GARBAGE = ["", " ", "x", "!!!!", "e30=", "bnVsbA==", "WzFd", "dHJ1ZQ==", base64.b64encode(b"\xff\xfe").decode(),
           base64.b64encode(b'{"algorithm":"SHA-256","challenge":1,"number":"1","salt":[],"signature":{}}').decode(),
           base64.b64encode(b'{"algorithm":"MD5","challenge":"a","number":1,"salt":"s","signature":"x"}').decode(),
           base64.b64encode(b'{"algorithm":"SHA-256","challenge":"a","number":-1,"salt":"s","signature":"x"}').decode(),
           base64.b64encode(b'{"algorithm":"SHA-256","challenge":"a","number":1e400,"salt":"s","signature":"x"}')
           .decode(),
           base64.b64encode(b'{"algorithm":"SHA-256","challenge":"a","number":1,'
                            b'"salt":"?expires=9999999999&expires=1&r=vote","signature":"x"}').decode(),
           base64.b64encode(b"[" * 5000).decode()[:2000], "A" * 5000]


@pytest.mark.parametrize("route", ["vote", "otp", "verify", "nomination"])
async def test_garbage_solution_headers_are_403_never_500(env, pool, redis, route):
    from tests.integration.voting.test_nominations_api import nomination
    s = settings_with(env, VOTE_LIMIT_VOTER="0", **EASY)
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    async with app_client(s, pool, redis) as c:
        for n, junk in enumerate(GARBAGE):
            headers = pow_header(junk)
            if route == "vote":
                r = await vote_from(c, camp, n, s, headers=headers)
            elif route == "otp":
                r = await c.post(OTP, json={"phone": f"+7702000{n:04d}"}, headers=headers)
            elif route == "verify":
                r = await c.post(VERIFY, json={"phone": f"+7702000{n:04d}", "code": "123456"}, headers=headers)
            else:
                r = await c.post("/api/v1/nominations", json=nomination(), headers=headers)
            assert_problem(r, 403, "challenge_failed")
        # two lines of the header: the first is read (the vote's fast path hands such a request to Litestar)
        r = await c.post(OTP, json={"phone": "+77020009999"},
                         headers=[("X-Challenge-Solution", "a"), ("X-Challenge-Solution", "b")])
        assert_problem(r, 403, "challenge_failed")
    assert [k async for k in redis.scan_iter("rl:{pow}:*")] == []  # nothing spent


# --- difficulty rises with risk ---------------------------------------------------------------------------

async def test_difficulty_rises_with_the_address_risk(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_IP="2", VOTE_LIMIT_VOTER="0", CHALLENGE_BASE_MAXNUMBER="1000",
                      CHALLENGE_MAX_MAXNUMBER="1000000")
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    seen = []
    async with app_client(s, pool, redis) as c:
        for n in range(12):
            r = await vote_from(c, camp, n, s)
            if r.status_code == 428:
                seen.append(r.json()["challenge"]["maxnumber"])
    # attempts 3..12 over a soft limit of 2: 150 %..600 % -> 1x, 2x (from 200 %), 4x (from 400 %)
    assert seen[0] == 1000 and seen == sorted(seen) and seen[-1] == 4000 and 2000 in seen


async def test_codes_to_one_phone_past_the_free_ones_need_proof_of_work_that_grows(env, pool, redis):
    """A third party asking codes for someone else's phone: the first are free, then each costs more CPU."""
    s = settings_with(env, OTP_RESEND_S="1", OTP_FREE_PER_PHONE_HOUR="1", OTP_MAX_PER_PHONE_HOUR="4", **EASY)
    phone = "+77014440000"
    async with app_client(s, pool, redis) as c:
        assert (await c.post(OTP, json={"phone": phone})).status_code == 202
        difficulties = []
        for _ in range(3):
            await asyncio.sleep(1.05)
            r = await c.post(OTP, json={"phone": phone})
            ch = assert_problem(r, 428, "challenge_required")["challenge"]
            assert "r=otp" in ch["salt"]
            difficulties.append(ch["maxnumber"])
            r = await c.post(OTP, json={"phone": phone}, headers=pow_header(solve(ch)))
            assert r.status_code == 202, r.text
        assert difficulties == sorted(difficulties) and difficulties[-1] > difficulties[0]
        await asyncio.sleep(1.05)
        assert_problem(await c.post(OTP, json={"phone": phone}), 429, "rate_limited")  # the hourly cap: 4
        assert len((await c.get(OUTBOX, params={"phone": phone})).json()) == 4


async def test_code_checks_escalate_per_address(env, pool, redis):
    s = settings_with(env, VERIFY_MAX_PER_IP_HOUR="2", **EASY)
    async with app_client(s, pool, redis) as c:
        await c.post(OTP, json={"phone": "+77014441111"})
        code = await outbox_code(c, "+77014441111")
        for _ in range(2):
            assert_problem(await c.post(VERIFY, json={"phone": "+77014441111", "code": "000000" if code != "000000"
                                                      else "111111"}), 401, "invalid_code")
        ch = assert_problem(await c.post(VERIFY, json={"phone": "+77014441111", "code": code}), 428,
                            "challenge_required")["challenge"]
        r = await c.post(VERIFY, json={"phone": "+77014441111", "code": code}, headers=pow_header(solve(ch)))
        assert r.status_code == 200, r.text


async def test_walking_a_block_of_numbers_makes_its_further_codes_cost_work(env, pool, redis):
    """A SIM farm or a script asking codes for +7 701 555 00 00, 00 01, 00 02...: each from a new network, so no
    address layer sees it; the block of 100 numbers does (signin_risk.py). Past a run of 3 every further code of
    the block needs proof of work, harder as the run grows; a number of another block stays free."""
    s = settings_with(env, TRUSTED_PROXIES=PROXY, **EASY)
    async with app_client(s, pool, redis) as c:
        def ask(phone: str, n: int, solution: str | None = None):
            headers = {"X-Forwarded-For": f"198.51.{n}.1", **(pow_header(solution) if solution else {})}
            return c.post(OTP, json={"phone": phone}, headers=headers)

        for n in range(4):  # a run of 4 is recorded; no one was asked for work
            assert (await ask(f"+770155500{n:02d}", n)).status_code == 202
        difficulties = []
        for n in range(4, 9):
            ch = assert_problem(await ask(f"+770155500{n:02d}", n), 428, "challenge_required")["challenge"]
            assert "r=otp" in ch["salt"]
            difficulties.append(ch["maxnumber"])
            r = await ask(f"+770155500{n:02d}", n, solve(ch))
            assert r.status_code == 202, r.text
            assert len((await c.get(OUTBOX, params={"phone": f"+770155500{n:02d}"})).json()) == 1
        assert difficulties == sorted(difficulties) and difficulties[-1] > difficulties[0]
        assert (await ask("+77015550200", 30)).status_code == 202  # another block (02xx): nothing unusual there


# --- the national SMS budget and its breaker -------------------------------------------------------------

async def _not_at_a_minute_boundary() -> None:
    if time.time() % 60 > 55:  # the budget is per clock minute: keep a test's sends within one
        await asyncio.sleep(61 - time.time() % 60)


async def test_the_sms_breaker_trips_stops_sending_and_says_so(env, pool, redis):
    s = settings_with(env, SMS_BUDGET_PER_MINUTE="3", SMS_CHALLENGE_PERCENT="100", SMS_BREAKER_COOLDOWN_S="30",
                      TRUSTED_PROXIES=PROXY)
    trips = counter("sms_breaker_trips_total")
    refused = counter("sms_budget_refusals_total")
    await _not_at_a_minute_boundary()
    async with app_client(s, pool, redis) as c:
        for n in range(3):  # three people, three networks
            r = await c.post(OTP, json={"phone": f"+7701666000{n}"}, headers={"X-Forwarded-For": f"198.51.{n}.1"})
            assert r.status_code == 202, r.text
        for n in range(3, 6):
            r = await c.post(OTP, json={"phone": f"+7701666000{n}"}, headers={"X-Forwarded-For": f"198.51.{n}.1"})
            body = assert_problem(r, 503, "unavailable")
            assert body["reason"] == "sms_budget"
            assert 1 <= int(r.headers["Retry-After"]) <= 30
            assert (await c.get(OUTBOX, params={"phone": f"+7701666000{n}"})).json() == []  # nothing sent
        # Verifying a code already sent still works: the breaker stops sending, not signing in.
        code = await outbox_code(c, "+77016660000")
        assert (await c.post(VERIFY, json={"phone": "+77016660000", "code": code})).status_code == 200
    assert counter("sms_breaker_trips_total") == trips + 1
    assert counter("sms_budget_refusals_total") == refused + 3
    assert 0 < await redis.ttl(keys.SMS_BREAKER) <= 30


async def test_an_attack_on_the_sms_budget_makes_every_code_cost_work(env, pool, redis):
    """Past SMS_CHALLENGE_PERCENT of the minute's budget everyone solves a challenge (global risk)."""
    s = settings_with(env, SMS_BUDGET_PER_MINUTE="10", SMS_CHALLENGE_PERCENT="20", TRUSTED_PROXIES=PROXY, **EASY)
    await _not_at_a_minute_boundary()
    async with app_client(s, pool, redis) as c:
        for n in range(2):
            r = await c.post(OTP, json={"phone": f"+7701777000{n}"}, headers={"X-Forwarded-For": f"198.51.{n}.1"})
            assert r.status_code == 202, r.text
        fresh = {"X-Forwarded-For": "192.0.2.200"}  # a new person on a new network
        ch = assert_problem(await c.post(OTP, json={"phone": "+77017770009"}, headers=fresh), 428,
                            "challenge_required")["challenge"]
        r = await c.post(OTP, json={"phone": "+77017770009"}, headers={**fresh, **pow_header(solve(ch))})
        assert r.status_code == 202, r.text


def test_metrics_of_challenges_exist_at_zero_for_every_route(voting_app):
    for route in ("otp", "verify", "vote", "nomination"):
        assert REGISTRY.get_sample_value("challenges_issued_total", {"route": route}) is not None
        assert REGISTRY.get_sample_value("challenges_solved_total", {"route": route}) is not None
        assert REGISTRY.get_sample_value("challenges_failed_total", {"route": route, "reason": "replayed"}) is not None


async def test_an_easy_solution_collected_early_does_not_pass_at_a_much_higher_risk(env, pool, redis):
    """A farm collecting challenges while just over its soft limit, to solve them cheaply and use them later."""
    s = settings_with(env, VOTE_LIMIT_IP="2", VOTE_LIMIT_VOTER="0", CHALLENGE_BASE_MAXNUMBER="1000",
                      CHALLENGE_MAX_MAXNUMBER="64000")
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    async with app_client(s, pool, redis) as c:
        for n in range(2):
            assert (await vote_from(c, camp, n, s)).status_code == 201
        early = assert_problem(await vote_from(c, camp, 2, s), 428, "challenge_required")["challenge"]
        assert early["maxnumber"] == 1000
        for n in range(3, 8):  # the risk rises: 8 attempts over a soft limit of 2 = 400 % -> 4000
            assert (await vote_from(c, camp, n, s)).status_code == 428
        r = await vote_from(c, camp, 9, s, headers=pow_header(solve(early)))
        harder = assert_problem(r, 428, "challenge_required")["challenge"]
        assert harder["maxnumber"] >= 4000
        assert (await vote_from(c, camp, 9, s, headers=pow_header(solve(harder)))).status_code == 201
