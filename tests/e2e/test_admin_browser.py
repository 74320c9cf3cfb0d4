"""The admin UI in a real browser: headless Chromium (Debian's, driven by Playwright) against the admin service
and the voting service running as real processes.

Secretariat: sign in, intake a candidate, under_verification, a verification request answered confirmed,
verified, under_review. Expert: a motivated review, recommended. Working group: shortlisted, a campaign, the
ballot (ticking the box updates the composition through htmx), publish. The voting service then serves the
ballot. Along the way: no console errors (so nothing broke the Content-Security-Policy), the language switch,
and screenshots in artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from admin_service.services.users import create_user
from devtools.ports import free_port
from tests.e2e.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, answers, fresh_dir, needs_browser
from tests.e2e.conftest import wait_for
from tests.http import http
from tests.integration.admin.conftest import CHEAP

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine (needs_browser skips)
    pass

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "screenshots"
PASSWORD = "Browser-Steppe-2026!"


@pytest.fixture
async def users(pool) -> dict[str, str]:
    """One staff account per role, hashed at argon2's lowest cost (the ``create-user`` command and the production
    parameters have their own tests: test_fail_closed.py, test_passwords.py)."""
    tag = uuid.uuid4().hex[:6]
    users = {role: f"{role.replace('_', '-')}-{tag}@100faces.kz" for role in ("secretariat", "expert", "working_group")}
    for role, email in users.items():
        await create_user(pool, email=email, password=PASSWORD, roles=[role], actor=None, passwords=CHEAP)
    return users


@pytest.fixture
def services(users: dict[str, str], spawn: Callable[..., subprocess.Popen]) -> Iterator[dict[str, str]]:
    """Admin and voting services as real processes, and one staff account per role."""
    admin_port, voting_port = free_port(), free_port()
    admin = spawn("-m", "admin_service", "serve", "--port", str(admin_port))
    voting = spawn("-m", "voting_service", "serve", "--port", str(voting_port), "--workers", "1")
    admin_url, voting_url = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{voting_port}"
    try:
        wait_for(lambda: answers(f"{admin_url}/health/live"), 30, "the admin service")
        wait_for(lambda: answers(f"{voting_url}/health/live"), 30, "the voting service")
    except AssertionError:
        for p in (admin, voting):
            p.kill()
        raise AssertionError("services did not start:\n" + "\n".join((p.stdout.read() or "")[-3000:]
                                                                      for p in (admin, voting) if p.stdout))
    yield {"admin": admin_url, "voting": voting_url, **users}


class Shots:
    def __init__(self, page: Page) -> None:
        self.page, self.n = page, 0
        fresh_dir(SHOTS, "admin-*.png")  # this run's pictures only

    def __call__(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(SHOTS / f"admin-{self.n:02d}-{name}.png"), full_page=True)


def sign_in(page: Page, email: str) -> None:
    """On the sign-in page: fill the form; the service sends us on to the candidate list."""
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/candidates")


def sign_out(page: Page) -> None:
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login")


def move(page: Page, to: str, reason: str = "") -> None:
    page.select_option("#to", to)
    if reason:
        page.fill("#reason", reason)
    page.click("[data-testid=transition-submit]")
    expect(page.locator("[data-testid=candidate-status]")).to_have_attribute("data-status", to)


@needs_browser
@pytest.mark.timeout(180)
def test_candidate_to_published_ballot_in_a_browser(services: dict[str, str]) -> None:
    started = time.monotonic()
    name = f"Гульнара Абенова {uuid.uuid4().hex[:4]}"
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=services["admin"], viewport={"width": 1280, "height": 900},
                                      locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 or r.status == 404
                else None)
        page.on("dialog", lambda d: d.accept())  # "publish?" confirmation
        shot = Shots(page)

        # --- secretariat: intake and verification -------------------------------------------------------
        page.goto("/candidates")
        expect(page).to_have_url(f"{services['admin']}/login?next=%2Fcandidates")
        shot("login")
        sign_in(page, services["secretariat"])
        page.click("[data-testid=new-candidate]")
        page.fill("#full_name", name)
        page.select_option("#region", "KZ-61")
        page.select_option("#sphere", "healthcare")
        page.select_option("#gender", "female")
        page.fill("#birth_year", "1979")
        page.select_option("#ethnicity", "kazakh")
        page.select_option("#source_kind", "akimat")
        page.fill("#source_name", "Акимат Туркестанской области")
        page.fill("#summary", "Сельский врач, центр телемедицины")
        page.fill("#story", "Открыла первый в районе центр телемедицины и спасла сотни пациентов в отдалённых сёлах.")
        page.fill("#claim_0", "Центр телемедицины в Сарыагаше")
        page.fill("#evidence_0", "https://example.kz/telemed")
        shot("candidate-form")
        page.click("[data-testid=create-candidate]")
        expect(page.locator("[data-testid=candidate-name]")).to_have_text(name)
        candidate_id = page.url.split("/candidates/")[1].split("?")[0].split("#")[0]
        move(page, "under_verification")
        page.fill("#question", "Подтвердите, что кандидат работает в районной больнице")
        page.click("[data-testid=verification-submit]")
        expect(page.locator("[data-testid=outcome-form]")).to_have_count(1)
        page.select_option("[data-testid=outcome-form] select[name=outcome]", "confirmed")
        page.fill("[data-testid=outcome-form] input[name=notes]", "Письмо УВП № 15")
        page.click("[data-testid=outcome-submit]")
        expect(page.locator("[data-testid=outcome-form]")).to_have_count(0)
        move(page, "verified")
        move(page, "under_review")
        shot("card-under-review")
        sign_out(page)

        # --- expert: a motivated conclusion ----------------------------------------------------------------
        sign_in(page, services["expert"])
        page.fill("#q", name.split()[-1])  # the htmx search swaps only the results
        expect(page.locator("#results a", has_text=name)).to_have_count(1)
        shot("candidate-search")
        page.click(f"#results a:has-text('{name}')")
        page.check("[data-testid=review-form] input[name=recommend][value=yes]")
        page.fill("#motivation", "Яркая история успеха, факты подтверждены управлением внутренней политики.")
        page.click("[data-testid=review-submit]")
        expect(page.locator("[data-testid=review-summary]")).to_contain_text("1")
        move(page, "recommended", "Рекомендую: вклад в здравоохранение села подтверждён.")
        shot("card-recommended")
        sign_out(page)

        # --- working group: shortlist, campaign, ballot, publish ------------------------------------------
        sign_in(page, services["working_group"])
        seen = len(problems)
        page.goto("/audit")  # admin and auditor only
        expect(page.locator("h1")).to_contain_text("403")
        shot("forbidden")
        del problems[seen:]  # the browser logs the 403 we asked for
        page.goto(f"/candidates/{candidate_id}")
        move(page, "shortlisted")
        page.goto("/campaigns")
        page.click("[data-testid=new-campaign]")
        now = dt.datetime.now(dt.UTC)
        page.fill("#slug", f"browser-{uuid.uuid4().hex[:8]}")
        page.fill("#title_ru", "100 новых лиц — проверка")
        page.fill("#title_kk", "100 жаңа есім — тексеру")
        page.fill("#title_en", "100 New Faces — check")
        page.fill("#opens_at", (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("#closes_at", (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
        page.click("[data-testid=create-campaign]")
        expect(page.locator("[data-testid=campaign-state]")).to_have_attribute("data-state", "draft")
        campaign_id = page.locator("[data-testid=campaign-id]").inner_text().strip()
        page.check(f"#pick-{candidate_id}")
        # htmx posted the ticked boxes (with the CSRF header from app.js) and swapped the composition in
        expect(page.locator("#composition")).to_have_attribute("data-total", "1")
        shot("ballot-builder")
        page.click("[data-testid=save-ballot]")
        expect(page.locator("#composition")).to_have_attribute("data-total", "1")
        page.click("[data-testid=publish]")
        expect(page.locator("[data-testid=campaign-state]")).to_have_attribute("data-state", "published")
        shot("published")
        page.click("a[hreflang=kk]")
        expect(page.locator("html")).to_have_attribute("lang", "kk")
        shot("published-kk")
        page.goto(f"/candidates/{candidate_id}?lang=en")
        expect(page.locator("[data-testid=candidate-status]")).to_have_text("On the ballot")
        shot("card-on-ballot-en")
        browser.close()

    # --- the voting side serves the published ballot --------------------------------------------------------
    url = f"{services['voting']}/api/v1/campaigns/{campaign_id}/candidates"
    wait_for(lambda: answers(url), 5, "the voting service to serve the ballot")
    ballot = http().get(url, timeout=2.0).json()
    assert [(c["id"], c["full_name"]) for c in ballot] == [(candidate_id, name)]
    assert not problems, problems  # no CSP violations, no script errors
    assert time.monotonic() - started < 90
