"""GET /api/v1/campaigns[/{id}[/candidates|/results]]: what citizens may see of campaigns, ballots and tallies."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from shared.texts import localized_texts
from tests.factories import make_campaign
from tests.integration.voting.conftest import assert_problem, cast, mint_token

CAMPAIGN_FIELDS = {"id", "slug", "title", "status", "opens_at", "closes_at", "votes_per_voter", "seats",
                   "live_results"}
BALLOT_FIELDS = {"id", "full_name", "region", "sphere", "summary", "photo_url"}
SPHERES = {"public_political", "socio_economic", "education_science", "healthcare", "culture_sport",
           "military_law", "social"}
# Ids that are not a campaign: unknown, not a number, negative, fractional, non-ASCII digits, too long, zero.
BAD_IDS = ["987654321098", "abc", "-1", "1.5", "١٢", "9" * 19, "0", "1e3"]


def utc(text: str) -> dt.datetime:
    """An RFC 3339 UTC timestamp, parsed; fails on a naive or non-UTC one."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.utcoffset() == dt.timedelta(0), text
    return value


def by_id(items: list[dict], campaign_id: int) -> dict:
    (found,) = [c for c in items if c["id"] == str(campaign_id)]
    return found


# --- list ----------------------------------------------------------------------------------------------

async def test_list_shows_published_campaigns_with_contract_fields(client, pool, redis):
    camp = await make_campaign(pool, redis, k=3, live_results=True)
    r = await client.get("/api/v1/campaigns")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    item = by_id(r.json(), camp.id)
    assert CAMPAIGN_FIELDS <= item.keys()
    assert isinstance(item["id"], str)
    assert item["slug"].startswith("t-")
    assert item["title"] == {"kk": "Сынақ", "ru": "Тест", "en": "Test"}
    assert item["status"] == "open"
    assert item["votes_per_voter"] == 3
    assert item["seats"] == 100
    assert item["live_results"] is True
    assert utc(item["opens_at"]) < dt.datetime.now(dt.UTC) < utc(item["closes_at"])


async def test_list_omits_drafts(client, pool, redis):
    draft = await make_campaign(pool, redis, publish=False)
    published = await make_campaign(pool, redis)
    ids = {c["id"] for c in (await client.get("/api/v1/campaigns")).json()}
    assert str(published.id) in ids
    assert str(draft.id) not in ids


async def test_list_status_follows_the_clock(client, pool, redis):
    scheduled = await make_campaign(pool, redis, opens_in=dt.timedelta(hours=1))
    ended = await make_campaign(pool, redis, opens_in=dt.timedelta(hours=-2), lasts=dt.timedelta(hours=1))
    items = (await client.get("/api/v1/campaigns")).json()
    assert by_id(items, scheduled.id)["status"] == "scheduled"
    assert by_id(items, ended.id)["status"] == "closed"


# --- one campaign --------------------------------------------------------------------------------------

async def test_get_campaign(client, pool, redis):
    camp = await make_campaign(pool, redis, k=2, live_results=False)
    r = await client.get(f"/api/v1/campaigns/{camp.id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert CAMPAIGN_FIELDS <= body.keys()
    assert body["id"] == str(camp.id)
    assert body["votes_per_voter"] == 2
    assert body["live_results"] is False
    assert body["status"] == "open"


@pytest.mark.parametrize("raw", BAD_IDS)
async def test_get_campaign_unknown_or_malformed_id(client, raw):
    assert_problem(await client.get(f"/api/v1/campaigns/{raw}"), 404, "campaign_not_found")


async def test_get_draft_campaign_is_not_found(client, pool, redis):
    draft = await make_campaign(pool, redis, publish=False)
    assert_problem(await client.get(f"/api/v1/campaigns/{draft.id}"), 404, "campaign_not_found")


# --- ballot --------------------------------------------------------------------------------------------

async def test_candidates_on_the_ballot(client, pool, redis):
    camp = await make_campaign(pool, redis, candidates=4)
    r = await client.get(f"/api/v1/campaigns/{camp.id}/candidates")
    assert r.status_code == 200, r.text
    items = r.json()
    assert [c["id"] for c in items] == [str(i) for i in camp.candidate_ids]  # ballot order
    for c in items:
        assert BALLOT_FIELDS <= c.keys()
        assert c["full_name"].startswith("Кандидат ")
        assert c["region"].startswith("KZ-")
        assert c["sphere"] in SPHERES
        assert c["summary"] == "Краткое описание"
        assert c["photo_url"] is None or isinstance(c["photo_url"], str)
        assert c["text_lang"] == "ru" and c["texts"] == {} and c["story"] and c["achievements"] == []
        assert "birth_year" not in c and "source_name" not in c  # only the public card


async def test_candidates_carry_their_texts_in_every_language(client, pool, redis):
    """The portal renders candidate pages from this: the own language's columns and the others' ``texts``;
    shared/texts.py picks the visitor's language from the same shape."""
    camp = await make_campaign(pool, redis, candidates=2)
    first, second = camp.candidate_ids
    kk = {"summary": "Ауыл мұғалімі", "story": "Ауылда робототехника үйірмесін ашты.",
          "achievements": [{"claim": "Олимпиада жеңімпазы", "evidence_url": "https://example.kz/a"}]}
    async with pool.acquire() as conn:
        await conn.execute("UPDATE candidates SET achievements = $2, texts = $3 WHERE id = $1", first,
                           [{"claim": "Победитель олимпиады", "evidence_url": "https://example.kz/a"}], {"kk": kk})
        await conn.execute("UPDATE candidates SET text_lang = 'kk', summary = 'Қысқаша', story = 'Толық тарих', "
                           "texts = '{\"en\": {\"summary\": \"Short\", \"story\": \"Full story\"}}' "
                           "WHERE id = $1", second)
    await asyncio.sleep(0.25)  # the directory's cache (CAMPAIGN_CACHE_S=0.2 in tests)
    items = {c["id"]: c for c in (await client.get(f"/api/v1/campaigns/{camp.id}/candidates")).json()}
    a, b = items[str(first)], items[str(second)]
    assert a["text_lang"] == "ru" and a["texts"] == {"kk": kk}
    assert a["achievements"] == [{"claim": "Победитель олимпиады", "evidence_url": "https://example.kz/a"}]
    assert b["text_lang"] == "kk" and b["summary"] == "Қысқаша" and b["story"] == "Толық тарих"
    assert b["texts"] == {"en": {"summary": "Short", "story": "Full story", "achievements": []}}
    assert localized_texts(a, "kk").story == kk["story"]
    ru = localized_texts(b, "ru")
    assert (ru.lang, ru.summary, ru.is_fallback) == ("kk", "Қысқаша", True)  # no Russian: kk comes first
    assert localized_texts(b, "en").story == "Full story"


@pytest.mark.parametrize("raw", ["987654321098", "abc", "-5"])
async def test_candidates_unknown_campaign(client, raw):
    assert_problem(await client.get(f"/api/v1/campaigns/{raw}/candidates"), 404, "campaign_not_found")


async def test_candidates_of_a_draft_are_not_found(client, pool, redis):
    draft = await make_campaign(pool, redis, publish=False)
    assert_problem(await client.get(f"/api/v1/campaigns/{draft.id}/candidates"), 404, "campaign_not_found")


# --- results -------------------------------------------------------------------------------------------

async def test_results_shape_before_any_vote(client, pool, redis):
    camp = await make_campaign(pool, redis, candidates=3, live_results=True)
    r = await client.get(f"/api/v1/campaigns/{camp.id}/results")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["campaign_id"] == str(camp.id)
    assert body["status"] == "open"
    assert body["total_votes"] == 0
    assert sorted(c["candidate_id"] for c in body["candidates"]) == sorted(str(i) for i in camp.candidate_ids)
    assert all(c["votes"] == 0 for c in body["candidates"])
    assert abs(utc(body["as_of"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=30)


async def test_results_count_accepted_votes(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=3, k=2, live_results=True)
    a, b, c = camp.candidate_ids
    for n, choice in enumerate([(a, b), (a,), (a, c)]):
        token = mint_token(settings, f"+7701555000{n}")
        for cand in choice:
            assert (await cast(client, camp.id, cand, token)).status_code == 201
    await asyncio.sleep(settings.campaign_cache_s + 0.05)
    body = (await client.get(f"/api/v1/campaigns/{camp.id}/results")).json()
    assert body["total_votes"] == 5
    assert body["candidates"][0] == {"candidate_id": str(a), "votes": 3}  # most votes first
    assert {x["candidate_id"]: x["votes"] for x in body["candidates"]} == {str(a): 3, str(b): 1, str(c): 1}


async def test_results_hidden_while_live_results_off(client, pool, redis):
    camp = await make_campaign(pool, redis, live_results=False)
    assert_problem(await client.get(f"/api/v1/campaigns/{camp.id}/results"), 403, "results_hidden")


async def test_results_shown_once_finalised_even_without_live_results(client, pool, redis):
    camp = await make_campaign(pool, redis, live_results=False, opens_in=dt.timedelta(hours=-2),
                               lasts=dt.timedelta(hours=1))
    a, b, *_ = camp.candidate_ids
    counts = [{"rank": 1, "candidate_id": str(b), "raw": 5, "invalidated": 1, "valid": 4},
              {"rank": 2, "candidate_id": str(a), "raw": 3, "invalidated": 0, "valid": 3}]
    async with pool.acquire() as conn:  # what the admin service's finalisation writes (tests/integration/admin)
        await conn.execute(
            "INSERT INTO campaign_results (campaign_id, finalised_by, policy, seats, counts, digest, merkle_root, "
            "counted_votes, report) VALUES ($1, 'wg@100faces.kz', 'top_votes', $2, $3, repeat('a', 64), "
            "repeat('b', 64), 7, '{}')", camp.id, counts[:1], counts)
        await conn.execute("UPDATE campaigns SET state = 'finalised', finalised_at = now() WHERE id = $1", camp.id)
    r = await client.get(f"/api/v1/campaigns/{camp.id}/results")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "finalised" and body["finalised"] is True
    assert body["candidates"] == [{"candidate_id": str(b), "votes": 4}, {"candidate_id": str(a), "votes": 3}]
    assert (body["total_votes"], body["invalidated_votes"], body["seats"]) == (7, 1, [str(b)])


@pytest.mark.parametrize("raw", ["987654321098", "abc"])
async def test_results_unknown_campaign(client, raw):
    assert_problem(await client.get(f"/api/v1/campaigns/{raw}/results"), 404, "campaign_not_found")


async def test_results_of_a_draft_are_not_found(client, pool, redis):
    draft = await make_campaign(pool, redis, publish=False, live_results=True)
    assert_problem(await client.get(f"/api/v1/campaigns/{draft.id}/results"), 404, "campaign_not_found")
