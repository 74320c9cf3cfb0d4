"""Errors: pages for browsers (404, and 503 "your vote was not lost"), problem documents for API clients; the
portal stays out of the OpenAPI document and out of the JSON API's way."""

from __future__ import annotations

import httpx

from shared.infra import create_redis
from tests.integration.portal.conftest import BROWSER
from tests.integration.portal.helpers import html, portal_campaign
from tests.integration.voting.conftest import RedisProxy, app_client, assert_problem


async def test_unknown_pages_are_a_404_page_for_browsers_and_problem_json_for_api_clients(browser):
    for lang, text in (("kk", "Бет табылмады"), ("ru", "Страница не найдена"), ("en", "Page not found")):
        body = html(await browser.get(f"/no/such/page?lang={lang}"), 404)
        assert f'<html lang="{lang}">' in body and text in body and 'href="/"' in body
    assert "Бет табылмады" in html(await browser.get("/campaigns/no-such-campaign"), 404)
    api = {"Accept": "application/json"}
    assert_problem(await browser.get("/no/such/page", headers=api), 404, "not_found")
    assert_problem(await browser.get("/campaigns/no-such-campaign", headers=api), 404, "campaign_not_found")
    # The API answers problem documents even to a browser.
    assert_problem(await browser.get("/api/v1/campaigns/987654321098"), 404, "campaign_not_found")
    assert_problem(await browser.get("/api/v1/nothing"), 404, "not_found")


async def test_store_outage_is_the_busy_page_for_browsers_and_503_problem_for_the_api(settings, pool, voting_pool,
                                                                                       redis, redis_url, portal_app):
    camp = await portal_campaign(pool, redis, live_results=True)
    proxy = await RedisProxy(redis_url).start()
    via_proxy = create_redis(proxy.url(int(redis_url.rsplit("/", 1)[1])), timeout_s=0.5)
    try:
        async with app_client(settings, voting_pool, via_proxy, app=portal_app) as c:
            proxy.cut("reset")
            r = await c.get(f"/campaigns/{camp.slug}/results?lang=en", headers=BROWSER)
            body = html(r, 503)
            assert "The service is busy right now" in body and "Your vote was not lost" in body
            assert r.headers["retry-after"] == "5" and r.headers["cache-control"] == "no-store"
            assert 'href="/receipts"' in body
            body = html(await c.get(f"/campaigns/{camp.slug}/results?lang=kk", headers=BROWSER), 503)
            assert "Дауысыңыз жоғалған жоқ" in body
            assert_problem(await c.get(f"/api/v1/campaigns/{camp.id}/results"), 503, "unavailable")
    finally:
        await via_proxy.aclose()
        await proxy.close()


async def test_portal_routes_are_not_in_the_openapi_document(browser):
    paths = (await browser.get("/schema/openapi.json", headers={"Accept": "application/json"})).json()["paths"]
    assert paths and all(p.startswith(("/api/", "/health", "/metrics")) for p in paths), sorted(paths)


async def test_pages_take_forms_not_json_and_the_api_keeps_json_only(browser, pool, redis):
    camp = await portal_campaign(pool, redis)
    # The API's JSON-only guard is unchanged.
    r = await browser.post("/api/v1/auth/otp", content=b"phone=%2B77010000001",
                           headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    assert_problem(r, 415, "unsupported_media_type")
    # A page refuses a JSON body (a form page is the only kind of POST it takes); GET pages ignore bodies.
    r = await browser.post(f"/campaigns/{camp.slug}", json={"x": 1})
    assert r.status_code in (405, 415)
    assert (await browser.get(f"/campaigns/{camp.slug}")).status_code == 200


async def test_api_clients_get_the_same_answers_as_before(browser, pool, redis):
    camp = await portal_campaign(pool, redis)
    r = await browser.get(f"/api/v1/campaigns/{camp.id}/candidates", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert [c["full_name"] for c in r.json()] == [camp.names[c] for c in camp.candidate_ids]
    assert "content-security-policy" not in r.headers  # API answers are as they were
    assert isinstance(httpx.Headers(r.headers), httpx.Headers)
