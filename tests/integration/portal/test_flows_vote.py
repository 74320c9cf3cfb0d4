"""Voting from the portal's pages: through the same ballot box as the JSON vote; the outcome shown once on the
page the voter came from, receipt included; every refusal explained; CSRF on every form."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from shared.infra import create_redis
from tests.factories import make_campaign
from tests.integration.portal.flows import citizen_browser, csrf_of, post_form, same_origin, sign_in
from tests.integration.voting.conftest import RedisProxy, settings_with
from voting_service.app import create_app
from voting_service.portal.controllers import PAGES

PHONE = "+77015550301"


@pytest.fixture
async def b(settings, pool, voting_pool, voting_redis, portal_app, redis):
    async with citizen_browser(settings, voting_pool, voting_redis, portal_app) as c:
        yield c


async def slug_of(pool, campaign_id: int) -> str:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT slug FROM campaigns WHERE id = $1", campaign_id)


async def vote(b, slug: str, candidate_id, *, back: str | None = None, lang: str = "kk"):
    """Press a vote button on the ballot: post, follow the 303, return (post answer, page shown after)."""
    ballot = f"/campaigns/{slug}?lang={lang}"
    r = await post_form(b, f"/campaigns/{slug}/vote", {"candidate_id": str(candidate_id),
                                                        "back": back or f"/campaigns/{slug}"}, page=ballot)
    shown = await b.get(r.headers["location"].split("#")[0]) if r.status_code == 303 else r
    return r, shown


async def test_three_votes_accepted_then_the_fourth_refused(b, pool, redis):
    camp = await make_campaign(pool, redis, candidates=4, k=3)
    slug = await slug_of(pool, camp.id)
    await sign_in(b, PHONE, next_path=f"/campaigns/{slug}")
    receipts = []
    for n, cid in enumerate(camp.candidate_ids[:3]):
        r, page = await vote(b, slug, cid)
        assert r.status_code == 303 and r.headers["location"] == f"/campaigns/{slug}#outcome"
        assert page.headers["cache-control"] == "no-store"              # personal: never cached
        assert "үшін дауысыңыз қабылданды" in page.text and 'role="status"' in page.text
        left = 2 - n
        assert (f"Сізде тағы {left} дауыс бар." if left else "Сіз барлық дауысыңызды бердіңіз.") in page.text
        receipt = page.text.split('<code class="receipt">')[1].split("</code>")[0]
        assert receipt.startswith(f"{camp.id}.") and f'href="/receipts/{receipt}"' in page.text
        receipts.append(receipt)
        again = await b.get(f"/campaigns/{slug}")  # shown once
        assert 'id="outcome"' not in again.text
    assert await redis.xlen(f"v:{{{camp.id}:0}}:s") == 3 or len(set(receipts)) == 3
    r, page = await vote(b, slug, camp.candidate_ids[3])
    assert "барлық 3 дауысыңызды бердіңіз" in page.text and 'role="alert"' in page.text
    r, page = await vote(b, slug, camp.candidate_ids[0], lang="ru")
    assert "Вы уже голосовали за" in page.text
    mine = await b.get("/my-votes")
    assert all(rc in mine.text for rc in receipts)
    check = await b.get(f"/receipts/{receipts[0]}?lang=kk")
    assert check.status_code == 200 and ("Қабылданды" in check.text or "Тіркелді" in check.text)
    assert str(camp.candidate_ids[0]) not in check.text.replace(receipts[0], "")  # never the candidate
    assert 'id="proof"' in check.text                                                  # issue 11's place


async def test_a_signed_in_voter_votes_from_the_second_page_of_a_long_ballot_and_comes_back_to_it(b, pool, redis):
    camp = await make_campaign(pool, redis, candidates=60, k=3)
    slug = await slug_of(pool, camp.id)
    await sign_in(b, PHONE)
    page = await b.get(f"/campaigns/{slug}?page=2&lang=en")
    assert page.headers["cache-control"] == "no-store" and "Votes left: 3 of 3." in page.text
    assert f'name="back" value="/campaigns/{slug}?page=2&amp;lang=en"' in page.text
    assert f'value="{camp.candidate_ids[55]}"' in page.text and f'value="{camp.candidate_ids[5]}"' not in page.text
    r, shown = await vote(b, slug, camp.candidate_ids[55], back=f"/campaigns/{slug}?page=2")
    assert r.headers["location"] == f"/campaigns/{slug}?page=2#outcome"
    assert 'id="outcome"' in shown.text and "51–60" in shown.text and "data-chosen=" in shown.text
    # The script that marks the chosen buttons comes with the personal block only (anonymous pages have none).
    assert len(re.findall(r'<script src="/static/portal\.[0-9a-f]+\.js" defer></script>', shown.text)) == 1


async def test_vote_from_the_candidate_page_comes_back_to_it(b, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    slug = await slug_of(pool, camp.id)
    await sign_in(b, PHONE)
    cand = f"/campaigns/{slug}/candidates/{camp.candidate_ids[1]}"
    r, page = await vote(b, slug, camp.candidate_ids[1], back=f"{cand}?lang=en")
    assert r.headers["location"] == f"{cand}?lang=en#outcome"
    assert "Your vote for" in page.text and "You voted for this person." in page.text
    r, _ = await vote(b, slug, camp.candidate_ids[0], back="https://evil.example/")
    assert r.headers["location"] == f"/campaigns/{slug}#outcome"   # back only to this campaign's pages


async def test_not_signed_in_goes_to_sign_in_and_back(b, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    slug = await slug_of(pool, camp.id)
    page = await b.get(f"/campaigns/{slug}")
    assert 'method="get" action="/signin"' in page.text and "csrf_token" not in page.text  # cached, anonymous
    token = csrf_of((await b.get("/signin")).text)
    r = await b.post(f"/campaigns/{slug}/vote", data={"csrf_token": token, "candidate_id": str(camp.candidate_ids[0])},
                     headers=same_origin(b))
    assert r.status_code == 303 and r.headers["location"] == f"/signin?next=/campaigns/{slug}"
    page = await b.get(r.headers["location"])
    assert "Кіру мерзімі өтіп кетті" in page.text
    r = await sign_in(b, PHONE, next_path=f"/campaigns/{slug}")
    assert r.headers["location"] == f"/campaigns/{slug}"


async def test_candidate_not_on_ballot_and_closed_campaign(b, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    other = await make_campaign(pool, redis, candidates=1, k=1)
    slug = await slug_of(pool, camp.id)
    await sign_in(b, PHONE)
    _, page = await vote(b, slug, other.candidate_ids[0], lang="en")
    assert "This person is not on the ballot of this campaign." in page.text
    later = await make_campaign(pool, redis, candidates=2, k=2, opens_in=dt.timedelta(hours=2))
    later_slug = await slug_of(pool, later.id)
    await asyncio.sleep(0.25)  # the directory's cache (CAMPAIGN_CACHE_S=0.2 in tests) sees the new campaign
    page = await b.get("/signin?again=1&lang=ru")
    r = await b.post(f"/campaigns/{later_slug}/vote", data={"csrf_token": csrf_of(page.text),
                                                             "candidate_id": str(later.candidate_ids[0])},
                     headers=same_origin(b))
    assert r.status_code == 403 and "Голосование сейчас не идёт" in r.text and 'role="alert"' in r.text


async def test_rate_limited_vote_says_how_long_to_wait(env, pool, voting_pool, voting_redis, redis):
    tight = settings_with(env, VOTE_LIMIT_VOTER="1", VOTE_LIMIT_VOTER_WINDOW_S="30")
    async with citizen_browser(tight, voting_pool, voting_redis, create_app(tight)) as b:
        camp = await make_campaign(pool, redis, candidates=3, k=3)
        slug = await slug_of(pool, camp.id)
        await sign_in(b, PHONE)
        await vote(b, slug, camp.candidate_ids[0])
        _, page = await vote(b, slug, camp.candidate_ids[1], lang="en")
        assert "Too many votes in a short time. Wait" in page.text and " s and try again" in page.text


async def test_store_outage_is_service_busy_nothing_lost(settings, env, pool, voting_pool, redis, redis_url,
                                                         portal_app):
    proxy = await RedisProxy(redis_url).start()
    try:
        via = create_redis(proxy.url(int(redis_url.rsplit("/", 1)[1])), timeout_s=0.3)
        quick = settings_with(env, REDIS_TIMEOUT_S="0.3")
        async with citizen_browser(quick, voting_pool, via, create_app(quick)) as b:
            camp = await make_campaign(pool, redis, candidates=2, k=2)
            slug = await slug_of(pool, camp.id)
            await sign_in(b, PHONE)
            page = await b.get(f"/campaigns/{slug}?lang=en")
            token = csrf_of(page.text)
            proxy.cut("hang")
            r = await b.post(f"/campaigns/{slug}/vote", data={"csrf_token": token, "candidate_id":
                                                              str(camp.candidate_ids[0])}, headers=same_origin(b))
            assert r.status_code == 303
            proxy.cut("pass")
            shown = await b.get(f"/campaigns/{slug}?lang=en")
            assert "The service is busy right now. Nothing is lost" in shown.text
        await via.aclose()
    finally:
        await proxy.close()


# --- CSRF ------------------------------------------------------------------------------------------------

async def test_vote_without_the_token_or_from_another_site_is_not_cast(b, pool, redis, voting_redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    slug = await slug_of(pool, camp.id)
    await sign_in(b, PHONE)
    page = await b.get(f"/campaigns/{slug}?lang=en")
    token = csrf_of(page.text)
    path, cand = f"/campaigns/{slug}/vote", str(camp.candidate_ids[0])
    attempts = [
        ({"candidate_id": cand}, same_origin(b)),                                    # no token
        ({"candidate_id": cand, "csrf_token": token[:-2] + "AA"}, same_origin(b)),   # wrong token
        ({"candidate_id": cand, "csrf_token": token}, {"Origin": "https://evil.example"}),
        ({"candidate_id": cand, "csrf_token": token}, {"Origin": "null"}),
        ({"candidate_id": cand, "csrf_token": token}, {"Sec-Fetch-Site": "cross-site"}),
    ]
    for data, headers in attempts:
        r = await b.post(path, data=data, headers=headers)
        assert r.status_code == 303, (data, headers)
        shown = await b.get(f"/campaigns/{slug}?lang=en")
        assert "For your safety the vote was not sent" in shown.text, (data, headers)
    assert await redis.exists(f"v:{{{camp.id}:0}}:s") == 0 or await redis.xlen(f"v:{{{camp.id}:0}}:s") == 0
    r = await b.post(path, data={"candidate_id": cand, "csrf_token": token}, headers=same_origin(b))
    assert "Your vote for" in (await b.get(f"/campaigns/{slug}?lang=en")).text


@pytest.mark.parametrize("path", ["/signin", "/signin/code", "/signin/resend", "/signout", "/nominate"])
async def test_every_other_form_refuses_a_post_without_the_token_or_from_another_site(b, path):
    await sign_in(b, PHONE)
    mine = await b.get("/my-votes")
    assert mine.status_code == 200, (mine.status_code, mine.headers, mine.text[-3000:])
    token = csrf_of(mine.text)
    for data, headers in (({}, same_origin(b)), ({"csrf_token": token}, {"Origin": "https://evil.example"}),
                          ({"csrf_token": "x" * 24}, same_origin(b))):
        r = await b.post(path, data={"phone": PHONE, "code": "123456", **data}, headers=headers)
        assert r.status_code == 403, (path, data, headers, r.status_code)
    assert (await b.get("/my-votes")).status_code == 200  # still signed in: the sign-out was refused


def test_every_portal_post_route_is_covered_by_a_csrf_test(portal_app):
    """A new form route must join the CSRF tests above (the set below is what they cover)."""
    posts = {route.path for route in portal_app.routes if "POST" in getattr(route, "methods", ())
             and not route.path.startswith("/api/")}
    assert posts == {"/signin", "/signin/code", "/signin/resend", "/signout", "/nominate",
                     "/campaigns/{slug:str}/vote"}, posts


async def test_the_privacy_page_names_every_cookie_a_citizen_is_given(b, pool, redis):
    """Sign in, vote, check a receipt, switch the language, sign out: every cookie set on the way is named on
    /privacy in each language, with its life."""
    seen: set[str] = set()

    async def note(response):
        for header in response.headers.get_list("set-cookie"):
            seen.add(header.split("=", 1)[0].strip())

    b.event_hooks["response"].append(note)
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    slug = await slug_of(pool, camp.id)
    await b.get(f"/campaigns/{slug}?lang=ru")
    await sign_in(b, PHONE)
    _, shown = await vote(b, slug, camp.candidate_ids[0])
    await b.get("/my-votes")
    await post_form(b, "/signout", {}, page="/my-votes")
    assert {"faces_lang", "faces_voter", "faces_csrf", "faces_signin", "faces_notice", "faces_receipts"} <= seen
    for lang, lives in (("en", ("365 days", "15 minutes", "5 minutes", "2 minutes", "30 days",
                                "until you close the browser")),
                        ("ru", ("365 дн.", "15 мин.", "30 дн.")), ("kk", ("365 күн", "15 минут", "30 күн"))):
        page = await b.get(f"/privacy?lang={lang}")
        for name in seen:
            assert f"<code>{name}</code>" in page.text, (lang, name)
        for life in lives:
            assert life in page.text, (lang, life)
