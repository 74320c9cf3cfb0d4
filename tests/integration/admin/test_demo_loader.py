"""The demo loader against a fresh database and Redis db 14: what it creates, idempotence, re-projection."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import subprocess
import sys

import asyncpg
import redis.asyncio as aioredis

from shared import reference
from shared.infra import create_pool
from shared.settings import Settings
from shared.texts import localized_texts
from shared.votestore import keys
from tests.integration.voting.conftest import app_client
from voting_service.app import create_app
from voting_service.state import Services
from devtools.demo import (ACTOR, DEMO_SIZE, DEMO_SLUG, FRAUD_NET, LIFECYCLE, PAST_SEATS, PAST_SIZE, PAST_SLUG,
                           VOTES_PER_VOTER, load_demo)
from devtools.demo_stages import CLOSED_SIZE, DRAFT_BALLOT, PATHS, STAGES

STAGE_CARDS = sum(STAGES.values())
STAGE_TRANSITIONS = sum(n * len(PATHS[status]) for status, n in STAGES.items())

COUNTS = """
SELECT (SELECT count(*) FROM candidates)                               AS candidates,
       (SELECT count(*) FROM candidates WHERE status = 'on_ballot')    AS on_ballot,
       (SELECT count(*) FROM candidates WHERE status = 'finalist')     AS finalists,
       (SELECT count(DISTINCT region) FROM candidates)                 AS regions,
       (SELECT count(DISTINCT sphere) FROM candidates)                 AS spheres,
       (SELECT count(*) FROM campaigns)                                AS campaigns,
       (SELECT count(*) FROM ballot_entries)                           AS ballot,
       (SELECT count(*) FROM candidate_transitions)                    AS transitions,
       (SELECT count(*) FROM candidate_transitions WHERE actor <> $1)  AS foreign_transitions
"""


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return dict(await conn.fetchrow(COUNTS, ACTOR))
    finally:
        await conn.close()


async def assert_projected(r: aioredis.Redis, campaign_id: int) -> None:
    meta = await r.hgetall(keys.campaign_meta(campaign_id))
    assert meta["k"] == str(VOTES_PER_VOTER)
    assert meta["state"] == "published"
    assert meta["shards"] == "1"
    assert meta["live_results"] == "1"
    shard = keys.ShardKeys.of(campaign_id, 0)
    assert await r.scard(shard.ballot) == DEMO_SIZE
    assert await r.hget(shard.cfg, "k") == str(VOTES_PER_VOTER)
    assert await r.sismember(keys.STREAM_REGISTRY, keys.stream_member(campaign_id, 0))
    groups = await r.xinfo_groups(shard.stream)
    assert [g["name"] for g in groups] == [keys.STREAM_GROUP]


async def test_load_twice_creates_once_and_projects_again(fresh_database_url: str,
                                                          demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, r = demo_redis
    first = await load_demo(fresh_database_url, redis_url)
    assert first["status"] == "created"
    assert first["slug"] == DEMO_SLUG
    assert first["candidates_created"] == DEMO_SIZE
    assert first["ballot"] == DEMO_SIZE
    campaign_id = first["campaign_id"]
    after_first = await counts(fresh_database_url)
    assert after_first == {
        "candidates": DEMO_SIZE + PAST_SIZE + STAGE_CARDS + CLOSED_SIZE, "on_ballot": DEMO_SIZE + CLOSED_SIZE,
        "finalists": PAST_SEATS, "regions": len(reference.region_codes()),
        "spheres": len(reference.sphere_codes()), "campaigns": 4,
        "ballot": DEMO_SIZE + PAST_SIZE + CLOSED_SIZE + DRAFT_BALLOT,
        # nominated ... shortlisted, then on_ballot at publication (and finalist / not_selected at finalisation);
        # the stage cards along their own paths
        "transitions": (DEMO_SIZE + CLOSED_SIZE) * (len(LIFECYCLE) + 1) + PAST_SIZE * (len(LIFECYCLE) + 2)
                       + STAGE_TRANSITIONS,
        "foreign_transitions": 0,
    }
    assert first["stages"]["status"] == "created" and first["stages"]["closed_state"] == "closed"
    assert first["stages"]["nominations_waiting"] == 0  # no contact key given: no sealed nominator
    assert first["past"]["status"] == "created" and first["past"]["state"] == "finalised"
    await assert_projected(r, campaign_id)

    conn = await asyncpg.connect(fresh_database_url)
    try:
        campaign = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign_id)
        history = await conn.fetch(
            "SELECT from_status, to_status FROM candidate_transitions WHERE candidate_id = "
            "(SELECT candidate_id FROM ballot_entries WHERE campaign_id = $1 AND position = 1) ORDER BY at, id",
            campaign_id)
        positions = await conn.fetch("SELECT position FROM ballot_entries WHERE campaign_id = $1 ORDER BY 1",
                                     campaign_id)
    finally:
        await conn.close()
    assert campaign["state"] == "published" and campaign["published_at"] is not None
    assert campaign["votes_per_voter"] == 3 and campaign["seats"] == 100
    assert campaign["live_results"] is True and campaign["shards"] == 1
    assert set(json.loads(campaign["title"])) == {"kk", "ru", "en"}  # plain connection: jsonb as text
    assert campaign["opens_at"] < campaign["published_at"] < campaign["closes_at"]
    assert [p["position"] for p in positions] == list(range(1, DEMO_SIZE + 1))
    path = [h["to_status"] for h in history]
    assert path == [*LIFECYCLE, "on_ballot"]
    assert history[0]["from_status"] is None

    # Second run: nothing new in Postgres, the same campaign, projected again after Redis lost everything.
    await r.flushdb()
    second = await load_demo(fresh_database_url, redis_url)
    assert second["status"] == "existing"
    assert second["campaign_id"] == campaign_id
    assert second["candidates_created"] == 0
    assert second["past"]["status"] == "existing" and second["past"]["invalidated_now"] == 0
    assert second["stages"]["status"] == "existing" and second["stages"]["paperwork"] == {"verifications": 0,
                                                                                         "reviews": 0}
    assert await counts(fresh_database_url) == after_first
    await assert_projected(r, campaign_id)
    meta = await r.hgetall(keys.campaign_meta(second["past"]["campaign_id"]))
    assert meta["state"] == "finalised"  # projected again too: votes for it are refused as closed


async def test_concurrent_loaders_create_one_campaign(fresh_database_url: str,
                                                      demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, _ = demo_redis
    results = await asyncio.gather(load_demo(fresh_database_url, redis_url), load_demo(fresh_database_url, redis_url))
    assert sorted(res["status"] for res in results) == ["created", "existing"]
    assert sorted(res["past"]["status"] for res in results) == ["created", "existing"]
    found = await counts(fresh_database_url)
    assert (found["candidates"], found["campaigns"], found["finalists"]) == (
        DEMO_SIZE + PAST_SIZE + STAGE_CARDS + CLOSED_SIZE, 4, PAST_SEATS)


async def test_closed_demo_campaign_is_left_alone(fresh_database_url: str,
                                                  demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, r = demo_redis
    created = await load_demo(fresh_database_url, redis_url)
    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.execute("UPDATE campaigns SET opens_at = now() - interval '40 days', "
                           "closes_at = now() - interval '10 days' WHERE id = $1", created["campaign_id"])
    finally:
        await conn.close()
    await r.flushdb()
    again = await load_demo(fresh_database_url, redis_url)
    assert again["status"] == "closed"
    assert again["campaign_id"] == created["campaign_id"]
    assert "closed" in again["message"]
    assert await r.exists(keys.campaign_meta(created["campaign_id"])) == 0  # untouched, not re-projected
    assert (await counts(fresh_database_url))["campaigns"] == 4  # the open one (closed now), past, draft, closed


async def test_command_line(fresh_database_url: str, demo_redis: tuple[str, aioredis.Redis]) -> None:
    redis_url, r = demo_redis
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "REDIS_URL": redis_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devtools.demo", env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["status"] == "created"
    assert await r.exists(keys.campaign_meta(result["campaign_id"])) == 1



async def test_the_past_campaign_is_finalised_with_valid_counts_and_texts(
        fresh_database_url: str, demo_redis: tuple[str, aioredis.Redis], settings: Settings) -> None:
    """The finalised past season: votes as the flusher writes them, the SIM-farm cluster invalidated by the
    fraud review, the result frozen by the real finalisation; the public results are its valid counts and the
    final list carries stories in Kazakh and Russian."""
    redis_url, r = demo_redis
    result = await load_demo(fresh_database_url, redis_url)
    past = result["past"]
    assert (past["slug"], past["state"], past["ballot"], past["finalists"]) == (PAST_SLUG, "finalised", PAST_SIZE,
                                                                             PAST_SEATS)
    assert past["invalidated"] == past["invalidated_now"] == 180 and past["votes"] > 5000
    conn = await asyncpg.connect(fresh_database_url)
    try:
        snap = await conn.fetchrow("SELECT * FROM campaign_results WHERE campaign_id = $1", past["campaign_id"])
        seats, ranked = json.loads(snap["seats"]), json.loads(snap["counts"])
        assert len(seats) == PAST_SEATS and snap["counted_votes"] == past["votes"] - 180
        assert sum(c["valid"] for c in ranked) == snap["counted_votes"]
        fraud = await conn.fetch("SELECT DISTINCT v.candidate_id, k.status FROM votes v JOIN candidates k "
                                 "ON k.id = v.candidate_id WHERE v.campaign_id = $1 AND v.ip_net = $2::cidr",
                                 past["campaign_id"], FRAUD_NET)
        assert len(fraud) == 3 and {f["status"] for f in fraud} == {"not_selected"}  # the farm did not help
        raw_rank = sorted(ranked, key=lambda c: (-c["raw"], int(c["candidate_id"])))
        assert {int(c["candidate_id"]) for c in raw_rank[:PAST_SEATS]} & {f["candidate_id"] for f in fraud}
        camp = await conn.fetchrow("SELECT state, opens_at, closes_at FROM campaigns WHERE id = $1",
                                   past["campaign_id"])
        assert camp["state"] == "finalised" and camp["closes_at"].year == 2025
        langs = await conn.fetch("SELECT text_lang, texts FROM candidates k JOIN ballot_entries b "
                                 "ON b.candidate_id = k.id WHERE b.campaign_id = $1", past["campaign_id"])
        for row in langs:
            have = {row["text_lang"], *json.loads(row["texts"])}
            assert {"kk", "ru"} <= have, have
    finally:
        await conn.close()

    # Through the voting service: the public results of the past campaign are the frozen valid counts, and the
    # final list has the finalists with their stories (the session's voting settings; this test's stores).
    pool = await create_pool(fresh_database_url, min_size=1, max_size=2)
    services = Services.build(settings, pool, r)
    try:
        public = await services.results.live(past["campaign_id"])
        assert public["finalised"] is True and public["total_votes"] == past["votes"] - 180
        assert public["candidates"] == [{"candidate_id": c["candidate_id"], "votes": c["valid"]} for c in ranked]
        final = await services.results.final(past["campaign_id"])
        assert len(final["finalists"]) == PAST_SEATS
        assert all(f["story"] for f in final["finalists"])
        assert sum(f["text_lang"] == "kk" or "kk" in f["texts"] for f in final["finalists"]) == PAST_SEATS
        assert sum(len(v) for v in final["by_region"].values()) == PAST_SEATS
        assert final["composition"]["total"] == PAST_SEATS
        # The portal's final-100 page of the demo: every finalist with the start of their story (Kazakh when
        # there is one), grouped by region, and the list's composition against the population.
        async with app_client(settings, pool, r, app=create_app(settings)) as c:
            c.headers["Accept"] = "text/html"
            page = await c.get(f"/campaigns/{PAST_SLUG}/final?lang=kk")
            assert page.status_code == 200, page.text[:2000]
            names = re.findall(r'<article class="cand">.*?<h3><a href="[^"]+">([^<]+)</a></h3>', page.text, re.S)
            assert sorted(names) == sorted(html.escape(f["full_name"], quote=False) for f in final["finalists"])
            for f in final["finalists"]:
                story = localized_texts(f, "kk").story
                assert html.escape(" ".join(story.split())[:60], quote=False) in page.text
            assert page.text.count('<table class="composition">') == 2 and "Әйелдер" in page.text
            for code in final["by_region"]:
                assert f'<h2 id="r-{code}">' in page.text
    finally:
        await services.close()
        await pool.close()
