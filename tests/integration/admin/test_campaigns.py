"""Campaigns: draft, ballot of shortlisted candidates, publication into the voting service (after commit),
closing, results (raw / invalidated / valid) and the ballot's composition against the population."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest

from tests.integration.admin.helpers import campaign_body, counts, create_candidate, problem, shortlisted, status_of
from tests.integration.voting.conftest import app_client, cast, mint_token

URL = "/api/v1/campaigns"


async def new_campaign(wg, **changes) -> dict:
    r = await wg.post(URL, json=campaign_body(**changes))
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_a_draft(staff, pool):
    wg = await staff("working_group")
    body = campaign_body(seats=102)
    r = await wg.post(URL, json=body)
    assert r.status_code == 201
    c = r.json()
    assert c["state"] == "draft" and c["status"] == "draft" and c["slug"] == body["slug"]
    assert c["title"] == body["title"] and c["seats"] == 102 and c["votes_per_voter"] == 3 and c["ballot_size"] == 0
    assert isinstance(c["id"], str)
    r = await wg.post(URL, json=campaign_body(slug=body["slug"]))
    problem(r, 409, "conflict")
    b = campaign_body()
    del b["seats"], b["live_results"]
    r = await wg.post(URL, json=b)
    assert r.status_code == 201 and r.json()["seats"] == 100 and r.json()["live_results"] is False
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'campaign.create' AND entity_id = $1",
                               c["id"]) == 1


def _bad_bodies() -> dict[str, dict]:
    now = dt.datetime.now(dt.UTC)
    return {
        "closes before opens": campaign_body(opens_at=(now + dt.timedelta(days=2)).isoformat(),
                                             closes_at=(now + dt.timedelta(days=1)).isoformat()),
        "closes at opens": campaign_body(opens_at=(now + dt.timedelta(days=1)).isoformat(),
                                         closes_at=(now + dt.timedelta(days=1)).isoformat()),
        "closes in the past": campaign_body(opens_at=(now - dt.timedelta(days=3)).isoformat(),
                                            closes_at=(now - dt.timedelta(days=1)).isoformat()),
        "naive time": campaign_body(opens_at="2030-01-01T00:00:00", closes_at="2030-01-02T00:00:00"),
        "not a time": campaign_body(opens_at="tomorrow"),
        "too long": campaign_body(closes_at=(now + dt.timedelta(days=800)).isoformat()),
        "bad slug": campaign_body(slug="Season 2026"),
        "no title lang": campaign_body(title={"ru": "Тест", "en": "Test"}),
        "blank title": campaign_body(title={"kk": " ", "ru": "Тест", "en": "Test"}),
        "k zero": campaign_body(votes_per_voter=0),
        "k too many": campaign_body(votes_per_voter=51),
        "seats zero": campaign_body(seats=0),
        "live results not bool": campaign_body(live_results="maybe"),
        "unknown field": campaign_body(state="published"),
    }


@pytest.mark.parametrize("case", list(_bad_bodies()))
async def test_bad_campaigns_are_4xx_and_store_nothing(staff, pool, case):
    wg = await staff("working_group")
    before = await pool.fetchval("SELECT count(*) FROM campaigns")
    problem(await wg.post(URL, json=_bad_bodies()[case]), (400, 422), "invalid_request")
    assert await pool.fetchval("SELECT count(*) FROM campaigns") == before


async def test_ballot_takes_shortlisted_candidates_only(staff, pool):
    wg, sec = await staff("working_group"), await staff("secretariat")
    camp = await new_campaign(wg)
    good = await shortlisted(pool, 3)
    nominated = (await create_candidate(sec))["id"]
    url = f"{URL}/{camp['id']}/ballot"
    r = await wg.put(url, json={"candidate_ids": [good[0], nominated, "987654321098", good[1]]})
    body = problem(r, 409, "invalid_transition")
    assert body["candidates"] == [nominated, "987654321098"]
    assert (await wg.get(f"{URL}/{camp['id']}")).json()["ballot"] == []
    problem(await wg.put(url, json={"candidate_ids": [good[0], good[0]]}), 422, "invalid_request")
    problem(await wg.put(url, json={"candidate_ids": ["x"]}), (400, 422), "invalid_request")
    problem(await wg.put(url, json={"candidate_ids": [0]}), (400, 422), "invalid_request")
    problem(await wg.put(url, json={"ids": good}), (400, 422), "invalid_request")
    r = await wg.put(url, json={"candidate_ids": [good[2], good[0], int(good[1])]})
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["ballot"]] == [good[2], good[0], good[1]]
    assert [c["position"] for c in r.json()["ballot"]] == [1, 2, 3] and r.json()["ballot_size"] == 3
    r = await wg.put(url, json={"candidate_ids": good[:2]})
    assert [c["id"] for c in r.json()["ballot"]] == good[:2]
    problem(await wg.put(f"{URL}/987654321098/ballot", json={"candidate_ids": good}), 404, "not_found")
    for role in ("secretariat", "expert", "auditor", "admin"):
        c = await staff(role)
        problem(await c.put(url, json={"candidate_ids": good}), 403, "forbidden")


async def test_publish_serves_the_ballot_and_close_stops_the_votes(staff, settings, pool, redis):
    wg = await staff("working_group")
    camp = await new_campaign(wg)
    cid = camp["id"]
    problem(await wg.post(f"{URL}/{cid}/publish"), 409, "conflict")  # empty ballot
    problem(await wg.post(f"{URL}/{cid}/close"), 409, "conflict")  # not published
    ids = await shortlisted(pool, 4)
    assert (await wg.put(f"{URL}/{cid}/ballot", json={"candidate_ids": ids})).status_code == 200
    before = [await counts(pool, i) for i in ids]

    async with app_client(settings, pool, redis) as voting:
        assert (await voting.get(f"/api/v1/campaigns/{cid}/candidates")).status_code == 404  # drafts are private
        started = time.monotonic()
        r = await wg.post(f"{URL}/{cid}/publish")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "published" and r.json()["status"] == "open" and r.json()["projected"] is True
        while True:
            r = await voting.get(f"/api/v1/campaigns/{cid}/candidates")
            if r.status_code == 200:
                break
            assert time.monotonic() - started < 2.0, r.text
            await asyncio.sleep(0.05)
        assert [c["id"] for c in r.json()] == ids
        token = mint_token(settings, f"+7701{uuid.uuid4().int % 10**7:07d}")
        vote = await cast(voting, cid, ids[1], token)
        assert vote.status_code == 201, vote.text

        for i, (h, a) in zip(ids, before, strict=True):
            assert await status_of(pool, i) == "on_ballot"
            assert await counts(pool, i) == (h + 1, a + 1)
        last = await pool.fetchrow("SELECT from_status, to_status, actor_id FROM candidate_transitions "
                                   "WHERE candidate_id = $1 ORDER BY id DESC LIMIT 1", int(ids[0]))
        assert tuple(last) == ("shortlisted", "on_ballot", int(wg.user["id"]))
        problem(await wg.post(f"{URL}/{cid}/publish"), 409, "conflict")
        problem(await wg.put(f"{URL}/{cid}/ballot", json={"candidate_ids": ids[:1]}), 409, "conflict")

        r = await wg.post(f"{URL}/{cid}/close")
        assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["closed_at"]
        await asyncio.sleep(settings.campaign_cache_s + 0.1)
        late = await cast(voting, cid, ids[2], token)
        assert late.status_code == 403 and late.json()["code"] == "campaign_closed"
        problem(await wg.post(f"{URL}/{cid}/close"), 409, "conflict")
    actions = [r["action"] for r in await pool.fetch(
        "SELECT action FROM audit_log WHERE entity_type = 'campaign' AND entity_id = $1 ORDER BY id", cid)]
    assert actions == ["campaign.create", "campaign.ballot", "campaign.publish", "campaign.close"]


async def test_a_candidate_published_elsewhere_blocks_publication(staff, pool):
    wg = await staff("working_group")
    ids = await shortlisted(pool, 2)
    first, second = await new_campaign(wg), await new_campaign(wg)
    for camp in (first, second):
        assert (await wg.put(f"{URL}/{camp['id']}/ballot", json={"candidate_ids": ids})).status_code == 200
    assert (await wg.post(f"{URL}/{first['id']}/publish")).status_code == 200
    body = problem(await wg.post(f"{URL}/{second['id']}/publish"), 409, "invalid_transition")
    assert body["candidates"] == ids
    assert (await wg.get(f"{URL}/{second['id']}")).json()["state"] == "draft"


async def test_results_count_raw_invalidated_and_valid(staff, pool, redis):
    wg = await staff("working_group")
    camp = await new_campaign(wg)
    ids = await shortlisted(pool, 3)
    await wg.put(f"{URL}/{camp['id']}/ballot", json={"candidate_ids": ids})
    await wg.post(f"{URL}/{camp['id']}/publish")
    now = dt.datetime.now(dt.UTC)
    rows = [(int(camp["id"]), uuid.uuid4().hex, int(cand), f"voter{i}", now, now if invalid else None)
            for i, (cand, invalid) in enumerate([(ids[0], False), (ids[0], False), (ids[0], True),
                                                 (ids[1], False), (ids[1], True), (ids[1], True)])]
    await pool.executemany("INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, cast_at, invalidated_at, "
                           "invalidation_reason) VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6::timestamptz IS NULL "
                           "THEN NULL ELSE 'test' END)", rows)
    auditor = await staff("auditor")
    r = await auditor.get(f"{URL}/{camp['id']}/results")
    assert r.status_code == 200
    body = r.json()
    got = {c["candidate_id"]: (c["raw"], c["invalidated"], c["valid"]) for c in body["candidates"]}
    assert got == {ids[0]: (3, 1, 2), ids[1]: (3, 2, 1), ids[2]: (0, 0, 0)}
    assert [c["candidate_id"] for c in body["candidates"]] == [ids[0], ids[1], ids[2]]
    assert body["totals"] == {"raw": 6, "invalidated": 3, "valid": 3}
    assert all(c["accepted"] == 0 for c in body["candidates"])  # nothing went through Redis in this test
    problem(await auditor.get(f"{URL}/987654321098/results"), 404, "not_found")


async def test_composition_against_population_shares(staff, pool):
    wg = await staff("working_group")
    camp = await new_campaign(wg)
    ids = await shortlisted(pool, 6, regions=("KZ-75", "KZ-75", "KZ-62"), spheres=("healthcare",))
    await wg.put(f"{URL}/{camp['id']}/ballot", json={"candidate_ids": ids})
    r = await (await staff("expert")).get(f"{URL}/{camp['id']}/composition")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 6
    regions = {row["code"]: row for row in body["region"]}
    assert len(regions) == 20 and regions["KZ-75"]["count"] == 4 and regions["KZ-62"]["count"] == 2
    assert abs(sum(row["population_share"] for row in body["region"]) - 1) < 0.01
    assert regions["KZ-75"]["share"] == round(4 / 6, 4) and regions["KZ-75"]["expected"] > 0
    assert regions["KZ-62"]["difference"] > 0 > regions["KZ-61"]["difference"]
    spheres = {row["code"]: row["count"] for row in body["sphere"]}
    assert spheres["healthcare"] == 6 and sum(spheres.values()) == 6 and len(spheres) == 7
    gender = {row["code"]: row for row in body["gender"]}
    assert gender["female"]["count"] == 3 and 0.5 < gender["female"]["population_share"] < 0.52
    ethnicity = {row["code"]: row["count"] for row in body["ethnicity"]}
    assert ethnicity["kazakh"] == 4 and ethnicity["undeclared"] == 2


async def test_everybody_reads_campaigns(staff):
    wg = await staff("working_group")
    camp = await new_campaign(wg)
    for role in ("admin", "secretariat", "expert", "working_group", "auditor"):
        c = await staff(role)
        listing = await c.get(URL)
        assert listing.status_code == 200 and any(x["id"] == camp["id"] for x in listing.json())
        one = await c.get(f"{URL}/{camp['id']}")
        assert one.status_code == 200 and one.json()["slug"] == camp["slug"]
    for raw in ("0", "abc", "99999999999999999999999"):
        problem(await wg.get(f"{URL}/{raw}"), 404, "not_found")
    for role in ("secretariat", "expert", "auditor", "admin"):
        c = await staff(role)
        problem(await c.post(URL, json=campaign_body()), 403, "forbidden")
        problem(await c.post(f"{URL}/{camp['id']}/publish"), 403, "forbidden")
        problem(await c.post(f"{URL}/{camp['id']}/close"), 403, "forbidden")


async def test_publication_survives_a_redis_outage_after_commit(staff, pool):
    """The database decides; if Redis fails after the commit the answer says so and the flusher's
    periodic re-projection (shared.votestore.projection) repairs it."""
    from admin_service.auth.context import Staff
    from admin_service.services import campaigns as service
    from shared.infra import create_redis

    wg = await staff("working_group")
    actor = Staff(id=int(wg.user["id"]), email=wg.user["email"], roles=frozenset({"working_group"}))
    camp = await new_campaign(wg)
    ids = await shortlisted(pool, 2)
    await service.set_ballot(pool, campaign_id=int(camp["id"]), candidate_ids=ids, actor=actor)
    dead = create_redis("redis://127.0.0.1:1/0", timeout_s=0.3)
    try:
        out = await service.publish(pool, dead, campaign_id=int(camp["id"]), actor=actor)
        assert out["state"] == "published" and out["projected"] is False
        assert [await status_of(pool, i) for i in ids] == ["on_ballot", "on_ballot"]
        results = await service.results(pool, campaign_id=int(camp["id"]), redis=dead)
        assert all("accepted" not in c for c in results["candidates"])
    finally:
        await dead.aclose()
