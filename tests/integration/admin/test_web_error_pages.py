"""Error pages of the staff app: a browser gets a page in the reader's language with the navigation (signed in)
or a sign-in link (not), with the right status; API clients keep problem+json (issue 14, item 4)."""

from __future__ import annotations

import pytest

from tests.integration.admin.helpers import problem
from tests.integration.admin.test_web_pages import html, signed_in  # noqa: F401 - the fixture

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"Accept": "application/json"}
NOT_FOUND = {"ru": "Не найдено", "kk": "Табылмады", "en": "Not found"}


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
async def test_unknown_urls_are_a_page_with_the_navigation_for_signed_in_browsers(signed_in, lang):
    c = await signed_in("secretariat")
    for path in ("/no/such/page", "/candidates/999999999999/nothing", "/campaigns/1/results/nothing"):
        body = html(await c.get(f"{path}?lang={lang}", headers=BROWSER), 404)
        assert f'<html lang="{lang}">' in body and NOT_FOUND[lang] in body, body
        assert 'href="/nominations"' in body and c.user["email"] in body  # the navigation of the role
        assert "application/problem+json" not in body and '"code"' not in body
    body = html(await c.get(f"/candidates/999999999999?lang={lang}", headers=BROWSER), 404)  # a missing record
    assert NOT_FOUND[lang] in body and 'href="/nominations"' in body
    # A form's action asked for with GET: 405, still a page.
    body = html(await c.get(f"/campaigns/1/publish?lang={lang}", headers=BROWSER), 405)
    assert f'<html lang="{lang}">' in body and 'href="/candidates"' in body


async def test_unknown_urls_offer_the_sign_in_page_without_a_session(anon):
    body = html(await anon.get("/no/such/page?lang=kk", headers=BROWSER), 404)
    assert '<html lang="kk">' in body and "Табылмады" in body and 'href="/login"' in body
    assert 'href="/nominations"' not in body
    body = html(await anon.get("/no/such/page", headers={**BROWSER, "Cookie": "faces_admin_lang=en"}), 404)
    assert "Not found" in body and "Sign in" in body


async def test_api_clients_keep_problem_documents(signed_in, anon):
    c = await signed_in("secretariat")
    for client in (c, anon):
        problem(await client.get("/no/such/page", headers=API), 404, "not_found")
        problem(await client.get("/no/such/page"), 404, "not_found")  # no Accept: not a browser
        # The API, the probes and the static files answer problem documents even to a browser.
        for path in ("/api/v1/nothing", "/static/nothing.css", "/api-docs/nothing.js", "/health/nothing"):
            r = await client.get(path, headers=BROWSER)
            assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json"), path
    problem(await c.get("/api/v1/candidates/999999999999", headers=BROWSER), 404, "not_found")
    problem(await anon.get("/api/v1/candidates/1", headers=BROWSER), 401, "not_authenticated")
