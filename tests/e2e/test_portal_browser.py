"""The public portal as a citizen meets it: headless Chromium (Debian's, driven by Playwright) against the voting
service, the flusher and the admin service running as real processes, started once for the module.

``test_a_citizen_votes_nominates_and_reads_the_final_100``: the home page in Kazakh, the switch to Russian
(remembered), the ballot filtered by region, sign-in with the code from the dev SMS outbox, three votes, the
fourth refused with its message, a receipt checked, a nomination sent and found in the admin triage queue; then
the working group closes and finalises the campaign through the admin API (the flusher drains it) and the final
100 page lists the winners with their stories.

Along the way: one vote cast by keyboard alone (Tab to the button, every focus visible, Enter), and the ballot
as a screen reader gets it (an article headed by each name, each vote button named with its candidate).

``test_every_portal_page_on_a_phone_and_a_desktop``: every page of the portal at 390x844 and 1366x900: a
screenshot of each (artifacts/portal/, printed at the end of the run), no horizontal scrolling at 390 px nor at
320 px (400 % zoom), axe-core in the page with no serious or critical violation, no console error (nothing
broke the Content-Security-Policy), no 5xx.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from admin_service.services.users import create_user
from devtools.campaigns import Campaign, publish_campaign
from devtools.demo import generate_candidates
from devtools.ports import free_port
from shared.infra import create_redis
from tests.e2e.browser import (
    ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, answers, axe_violations, axe_violations_async, fresh_dir, needs_axe,
    needs_browser, sideways_overflow, sideways_overflow_async,
)
from tests.e2e.conftest import Spawner, wait_for
from tests.http import http, ssl_context
from tests.integration.admin.conftest import CHEAP

try:
    from playwright.async_api import Browser as AsyncBrowser
    from playwright.async_api import Page as AsyncPage
    from playwright.async_api import async_playwright
    from playwright.async_api import expect as async_expect
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine (needs_browser skips)
    pass

pytestmark = [pytest.mark.e2e, needs_browser]

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "voting_service" / "portal" / "i18n"
SHOTS = ARTIFACTS / "portal"
PASSWORD = "Portal-Steppe-2026!"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
REFLOW = {"width": 320, "height": 640}  # a 1280-px window at 400 % zoom (WCAG 2.1 success criterion 1.4.10)
K, SEATS = 3, 3


def catalogue(lang: str) -> dict[str, str]:
    """The portal's interface strings in ``lang`` (every area file merged), as the service loads them."""
    merged: dict[str, str] = {}
    for path in sorted((CATALOGUES / lang).glob("*.json")):
        merged.update(json.loads(path.read_text("utf-8")))
    return merged


def phone_number() -> str:
    return f"+7701{random.randrange(10**7):07d}"


@dataclass
class Portal:
    voting: str
    admin: str
    users: dict[str, str]
    vote_campaign: Campaign  # voted in by the citizen test, then finalised by it
    open_campaign: Campaign  # stays open: the ballot pages of the page survey
    slugs: dict[int, str]
    cards: dict[int, Any]  # candidate id -> its demo card (name, region, story ...)
    shared: dict[str, Any] = field(default_factory=dict)  # what the citizen test leaves for the survey
    flusher: Any = None

    def flusher_log(self) -> str:
        """What the flusher said so far (it is stopped first, so that its pipe can be read to the end)."""
        if self.flusher is None or self.flusher.stdout is None:
            return ""
        self.flusher.terminate()
        try:
            return (self.flusher.communicate(timeout=10)[0] or "")[-3000:]
        except Exception as exc:  # noqa: BLE001 - a diagnostic only
            return f"(unreadable: {exc})"


# --- the servers, once for the module ----------------------------------------------------------------------

@pytest.fixture(scope="module")
async def portal(env: dict[str, str], pool, redis_url: str) -> AsyncIterator[Portal]:
    tag = uuid.uuid4().hex[:6]
    users = {role: f"portal-{role.replace('_', '-')}-{tag}@100faces.kz" for role in ("secretariat", "working_group")}
    for role, email in users.items():
        await create_user(pool, email=email, password=PASSWORD, roles=[role], actor=None, passwords=CHEAP)
    r = create_redis(redis_url, timeout_s=5.0)
    try:
        # The test Redis database as every test starts with it (tests/conftest.py ``redis``): empty. What earlier
        # tests left there (votes with made-up addresses in a stream) is not the flusher's to drain here.
        await r.flushdb()
        # Two ballots of invented people (every region at least once), stories in Russian: 20 to vote on, and
        # 120 on the one that stays open, so the page survey sees a ballot in pages (50 a page).
        seed = random.randrange(10**6)
        vote_cards, open_cards = generate_candidates(20, seed=seed), generate_candidates(120, seed=seed + 1)
        voted = await publish_campaign(pool, r, k=K, seats=SEATS, cards=vote_cards, slug_prefix="portal")
        still_open = await publish_campaign(pool, r, k=K, seats=SEATS, cards=open_cards, slug_prefix="portal")
    finally:
        await r.aclose()
    async with pool.acquire() as conn:
        slugs = {row["id"]: row["slug"] for row in await conn.fetch(
            "SELECT id, slug FROM campaigns WHERE id = ANY($1::bigint[])", [voted.id, still_open.id])}
    cards = {**dict(zip(voted.candidate_ids, vote_cards)), **dict(zip(still_open.candidate_ids, open_cards))}

    spawner = Spawner(env)
    voting_port, admin_port = free_port(), free_port()
    quiet = {"OTP_MAX_PER_IP_HOUR": "1000"}
    procs = [
        spawner("-m", "voting_service", "serve", "--port", str(voting_port), "--workers", "1", extra_env=quiet),
        spawner("-m", "admin_service", "serve", "--port", str(admin_port)),
        spawner("-m", "voting_service", "flusher",
                extra_env={"FLUSHER_METRICS_PORT": str(free_port()), "FLUSHER_METRICS_HOST": "127.0.0.1"}),
    ]
    voting, admin = f"http://127.0.0.1:{voting_port}", f"http://127.0.0.1:{admin_port}"
    try:
        await asyncio.to_thread(wait_for, lambda: answers(f"{voting}/health/ready"), 40, "the voting service")
        await asyncio.to_thread(wait_for, lambda: answers(f"{admin}/health/live"), 40, "the admin service")
    except AssertionError:
        for p in procs:
            p.kill()
        spawner.stop_all()
        raise AssertionError("services did not start:\n" + "\n".join((p.stdout.read() or "")[-3000:]
                                                                      for p in procs if p.stdout)) from None
    try:
        yield Portal(voting, admin, users, voted, still_open, slugs, cards, flusher=procs[2])
    finally:
        spawner.stop_all()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Chromium through Playwright's sync API, for one test: while it is open its event loop counts as running in
    this thread, so the page survey (async API, in pytest-asyncio's loop) could not run beside a module-wide one."""
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Watch:
    """What goes wrong in a page that a test would not see: console errors (a Content-Security-Policy violation
    is one), uncaught script errors, any 5xx, and a 4xx for anything but the page itself (a missing stylesheet,
    script, photo or icon; a 404 page asked for on purpose is not a problem)."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"script: {e}"))
        page.on("response", self._response)

    def _console(self, m: Any) -> None:
        # "Failed to load resource" repeats a status the response handler judges, with the URL
        if m.type == "error" and not m.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {m.text}")

    def _response(self, r: Any) -> None:
        if r.status >= 500 or (r.status >= 400 and r.request.resource_type != "document"):
            self.problems.append(f"{r.status} {r.request.resource_type} {r.url}")


def new_page(browser: Browser, portal: Portal, *, locale: str = "kk-KZ", viewport: str = "phone"
             ) -> tuple[BrowserContext, Page, Watch]:
    context = browser.new_context(base_url=portal.voting, viewport=VIEWPORTS[viewport], locale=locale,
                                  device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, Watch(page)


def outbox_code(portal: Portal, phone: str) -> str:
    messages = http().get(f"{portal.voting}/api/v1/dev/sms-outbox", params={"phone": phone}, timeout=5.0).json()
    assert messages, f"no SMS to {phone} in the outbox"
    return messages[0]["code"]


def sign_in_on_page(page: Page, portal: Portal, phone: str) -> None:
    """On the phone form: the number, then the code from the outbox; the portal sends us back to ``next``."""
    page.fill("#phone", phone)
    page.locator("main form[action='/signin'] button[type=submit]").click()
    page.wait_for_url("**/signin/code**")
    page.fill("#code", outbox_code(portal, phone))
    page.locator("main form[action='/signin/code'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/signin" not in url)


class Admin:
    """The admin service's JSON API as one staff member (session cookie + CSRF header)."""

    def __init__(self, portal: Portal, role: str) -> None:
        self.client = httpx.Client(base_url=portal.admin, timeout=60.0, verify=ssl_context())
        r = self.client.post("/api/v1/session", json={"email": portal.users[role], "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.client.headers["X-CSRF-Token"] = r.json()["csrf_token"]

    def __enter__(self) -> httpx.Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


# --- the citizen -------------------------------------------------------------------------------------------

@pytest.mark.timeout(240)
def test_a_citizen_votes_nominates_and_reads_the_final_100(portal: Portal, browser: Browser) -> None:
    started = time.monotonic()
    camp, slug = portal.vote_campaign, portal.slugs[portal.vote_campaign.id]
    ru = catalogue("ru")
    context, page, watch = new_page(browser, portal)

    # --- Kazakh by default; Russian one tap away, and remembered ------------------------------------------------
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.locator("link[rel=alternate][hreflang=ru]")).to_have_count(1)
    page.locator("header a[hreflang=ru]").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.goto("/")  # no ?lang: the cookie remembers
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    # --- the ballot, filtered by region --------------------------------------------------------------------------
    page.locator(f"main a[href='/campaigns/{slug}']").first.click()
    page.wait_for_url(f"**/campaigns/{slug}")
    expect(page.locator("article.cand")).to_have_count(len(camp.candidate_ids))
    region = portal.cards[camp.candidate_ids[0]].region
    in_region = [c for c in camp.candidate_ids if portal.cards[c].region == region]
    page.select_option("#f-region", region)
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(rf"region={region}"))
    expect(page.locator("article.cand")).to_have_count(len(in_region))
    for article in page.locator("article.cand").all():
        expect(article).to_have_attribute("data-region", region)

    # --- sign in from a vote button (the anonymous ballot sends the voter to the phone form and back) ------------
    page.locator(f"button.vote[value='{in_region[0]}']").click()
    page.wait_for_url("**/signin**")
    phone = phone_number()
    sign_in_on_page(page, portal, phone)
    page.wait_for_url(f"**/campaigns/{slug}**")
    expect(page.locator("#vote-form[method=post]")).to_have_count(1)

    # --- three votes, each answered with its receipt; the fourth refused with its message ------------------------
    page.goto(f"/campaigns/{slug}")
    screen_reader_view_of_the_ballot(page, [portal.cards[c].full_name for c in camp.candidate_ids], ru)
    chosen = camp.candidate_ids[:K]
    receipts = []
    for n, cid in enumerate(chosen, start=1):
        if n == K:  # the last one by keyboard alone: Tab to the button (focus visible on the way), Enter
            tab_to(page, f"button.vote[value='{cid}']")
            page.keyboard.press("Enter")
        else:
            page.locator(f"button.vote[value='{cid}']").click()
        outcome = page.locator("#outcome[role=status]")
        expect(outcome).to_contain_text(ru["vote.accepted"].format(name=portal.cards[cid].full_name))
        receipts.append(outcome.locator("code.receipt").inner_text().strip())
        left = K - n
        expect(page.locator(".votes-left")).to_have_text(
            ru["vote.left_of"].format(n=left, k=K) if left else ru["vote.votes_used_up"])
    assert len(set(receipts)) == K and all(receipts)
    fourth = camp.candidate_ids[K]
    page.locator(f"button.vote[value='{fourth}']").click()
    expect(page.locator("#outcome[role=alert]")).to_have_text(ru["vote.refused.vote_limit_reached"].format(k=K))
    for cid in chosen:  # whom the voter chose, on the ballot
        expect(page.locator(".you")).to_contain_text(portal.cards[cid].full_name)

    # --- a receipt checked -----------------------------------------------------------------------------------------
    page.goto("/receipts")
    page.fill("#r", receipts[0])
    page.locator("main form[action='/receipts'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/receipts/.+"))
    expect(page.locator("main")).to_contain_text(receipts[0])
    portal.shared["receipt"] = receipts[0]
    portal.shared["phone"] = phone

    # --- the working group closes and finalises; the final 100 lists the winners with their stories ---------------
    with Admin(portal, "working_group") as admin:
        r = admin.post(f"/api/v1/campaigns/{camp.id}/close")
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        while True:  # the flusher drains the campaign's streams; until then finalisation answers not_ready
            r = admin.post(f"/api/v1/campaigns/{camp.id}/finalise", json={})  # the default policy: top votes
            if r.status_code != 409 or r.json().get("reason") != "not_drained" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert r.status_code == 200, f"{r.text}\nflusher: {portal.flusher_log()}"
        seats = [str(s["candidate_id"]) for s in r.json()["seats"]]
    assert sorted(seats) == sorted(str(c) for c in chosen)  # the only candidates with a vote
    page.goto(f"/campaigns/{slug}/final")
    gallery = page.locator("main article.cand")
    expect(gallery).to_have_count(SEATS)
    for cid in chosen:
        card = page.locator("main article.cand", has_text=portal.cards[cid].full_name)
        expect(card).to_have_count(1)
        expect(card).to_contain_text(portal.cards[cid].story[:40])
    page.locator(f"main article.cand a[href='/campaigns/{slug}/candidates/{chosen[0]}']").first.click()
    expect(page.locator("main")).to_contain_text(portal.cards[chosen[0]].story)
    # --- a nomination, found in the admin triage queue ------------------------------------------------------------
    nominee = f"Айгерим Сапарова {uuid.uuid4().hex[:4]}"
    reference = nominate(page, nominee, phone)
    portal.shared["nomination_ref"] = reference
    with Admin(portal, "secretariat") as admin:
        queue = admin.get("/api/v1/nominations", params={"status": "received"}).json()["items"]
    found = [n for n in queue if nominee in json.dumps(n, ensure_ascii=False)]
    assert len(found) == 1, f"{nominee} not in the triage queue: {queue}"
    assert found[0].get("reference", reference) == reference

    context.close()
    assert not watch.problems, watch.problems
    assert time.monotonic() - started < 120


def tab_to(page: Page, selector: str, most: int = 400) -> None:
    """Press Tab until ``selector`` has the focus (it must be reachable by keyboard), checking that every
    focused control shows it (the portal's focus ring: an outline or a box shadow)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        state = page.evaluate("""(sel) => {
          const el = document.activeElement;
          if (!el || el === document.body) return {here: false, visible: true};
          const st = getComputedStyle(el);
          return {here: el.matches(sel), visible: (st.outlineStyle !== 'none' && st.outlineWidth !== '0px')
                  || st.boxShadow !== 'none', what: el.outerHTML.slice(0, 120)};
        }""", selector)
        assert state["visible"], f"focus not visible on {state['what']}"
        if state["here"]:
            return
    raise AssertionError(f"{selector} not reached with {most} presses of Tab")


def screen_reader_view_of_the_ballot(page: Page, names: list[str], words: dict[str, str]) -> None:
    """What a screen reader is given (the accessibility tree, not the markup): one article per candidate headed
    by the name, each vote button named with its candidate; the tree is kept next to the screenshots."""
    articles = page.get_by_role("article")
    expect(articles).to_have_count(len(names))
    for name in names:
        expect(page.get_by_role("heading", level=3, name=name, exact=True)).to_have_count(1)
        vote = f"{words['ballot.vote']} {words['ballot.vote_for'].format(name=name)}"
        expect(page.get_by_role("button", name=vote, exact=True)).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "ballot-screen-reader.yml").write_text(page.locator("main").aria_snapshot(), "utf-8")


def nominate(page: Page, nominee: str, phone: str) -> str:
    """The nomination form (signed in: the nominator's phone is the one the code confirmed), a third party, with
    both consents; returns the reference the portal gives."""
    page.goto("/nominate")
    page.check("#kind-third")
    page.fill("#full_name", nominee)
    page.select_option("#region", "KZ-75")
    page.select_option("#sphere", "healthcare")
    page.check("#gender-female")
    page.fill("#birth_year", "1984")
    page.fill("#story", "Сельский врач: двадцать лет принимает больных в ауле и открыла там первый фельдшерский пункт.")
    page.fill("#claim_0", "Первый фельдшерский пункт в ауле")
    page.fill("#url_0", "https://example.kz/feldsher")
    page.fill("#nominator_name", "Ерлан Тулегенов")
    page.fill("#nominator_phone", phone)
    page.check("#consent_processing")
    page.check("#consent_nominee")
    page.locator("main form[action='/nominate'] button[type=submit]").click()
    ref = page.locator("main .reference")
    ref.or_(page.locator("#error-summary, main .notice")).first.wait_for()
    assert ref.count() == 1, f"no reference on {page.url}: {page.locator('main').inner_text()[:1500]}"
    return ref.inner_text().strip()


# --- every page, two widths ----------------------------------------------------------------------------------

# The survey's pages, numbered in this order in the screenshots' names (as when one page visited them one after
# another); several browser contexts visit them at once (SURVEY_GROUPS).
def survey_names(portal: Portal) -> list[str]:
    return ["home", "home-ru", "home-en", "ballot", "ballot-ru", "ballot-en", "ballot-page-2-en", "ballot-page-3",
            "ballot-filtered", "ballot-search-empty", "candidate", "results", "rules", "privacy", "receipts",
            "receipt-unknown", *(["receipt"] if portal.shared.get("receipt") else []), "final", "final-results",
            "final-person", "not-found", "signin", "signin-error", "signin-code", "ballot-signed-in", "ballot-voted",
            "candidate-signed-in", "my-votes", "nominate", "nominate-errors",
            *(["nomination-status"] if portal.shared.get("nomination_ref") else [])]


@dataclass
class Survey:
    """One browser context of the page survey (async API): its page, what its ``Watch`` saw, what its checks
    found, and the screenshots' numbers (``survey_names``)."""

    page: AsyncPage
    watch: Watch
    numbers: dict[str, int]
    failures: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=lambda: {"screenshots": 0.0, "axe": 0.0})

    async def check(self, name: str) -> None:
        """The page as it is now: at 390 px no sideways scrolling, axe-core, a screenshot; at 1366 px a screenshot."""
        self.checked.append(name)
        number = self.numbers[name]
        # A full-page screenshot does not scroll, so lazy portraits below the first screen would show as grey
        # discs: load them first (the screenshots are for people to look at).
        await self.page.evaluate("() => Promise.all([...document.images].map(i => { i.loading = 'eager';"
                                 " return i.decode().catch(() => null); }))")
        for label, size in VIEWPORTS.items():
            await self.page.set_viewport_size(size)
            t0 = time.monotonic()
            await self.page.screenshot(path=str(SHOTS / f"{number:02d}-{name}-{size['width']}.png"), full_page=True)
            t1 = time.monotonic()
            self.timings["screenshots"] += t1 - t0
            if label != "phone":
                continue
            if wide := await sideways_overflow_async(self.page):
                self.failures.append(f"{name} ({self.page.url}): scrolls sideways at 390 px: {wide}")
            await self.page.set_viewport_size(REFLOW)  # WCAG 1.4.10: 1280 px at 400 % zoom
            if wide := await sideways_overflow_async(self.page):
                self.failures.append(f"{name} ({self.page.url}): scrolls sideways at 320 px (400 % zoom): {wide}")
            await self.page.set_viewport_size(size)
            for v in await axe_violations_async(self.page):
                self.failures.append(f"{name} ({self.page.url}): axe {v['impact']} {v['id']}: {v['help']} — "
                                     f"{v['nodes']}")
            self.timings["axe"] += time.monotonic() - t1
        await self.page.set_viewport_size(VIEWPORTS["phone"])

    async def visit(self, name: str, path: str) -> None:
        await self.page.goto(path)
        await self.check(name)


async def survey_first_pages(s: Survey, portal: Portal) -> None:
    """The home page in the three languages, the open ballot's first page in each, its second by its link."""
    open_slug = portal.slugs[portal.open_campaign.id]
    await s.visit("home", "/")
    await s.visit("home-ru", "/?lang=ru")
    await s.visit("home-en", "/?lang=en")
    await s.visit("ballot", f"/campaigns/{open_slug}?lang=kk")
    await async_expect(s.page.locator("article.cand")).to_have_count(50)
    await s.visit("ballot-ru", f"/campaigns/{open_slug}?lang=ru")
    await s.visit("ballot-en", f"/campaigns/{open_slug}?lang=en")
    await s.page.locator("nav.pages a[rel=next]").click()  # the next page by its link, as a visitor would
    await s.page.wait_for_url("**page=2**")
    await async_expect(s.page.locator("nav.pages a[aria-current=page]")).to_have_text("2")
    await s.check("ballot-page-2-en")


async def survey_ballot_and_texts(s: Survey, portal: Portal) -> None:
    """The ballot's last page, filtered, an empty search; a candidate, the results, the rules and privacy (kk)."""
    open_slug, first = portal.slugs[portal.open_campaign.id], portal.open_campaign.candidate_ids[0]
    await s.visit("ballot-page-3", f"/campaigns/{open_slug}?page=3&lang=kk")
    await async_expect(s.page.locator("article.cand")).to_have_count(20)
    await s.visit("ballot-filtered", f"/campaigns/{open_slug}?region={portal.cards[first].region}")
    await s.visit("ballot-search-empty", f"/campaigns/{open_slug}?q=zzzzzz")
    await s.visit("candidate", f"/campaigns/{open_slug}/candidates/{first}")
    await s.visit("results", f"/campaigns/{open_slug}/results")
    await s.visit("rules", "/rules")
    await s.visit("privacy", "/privacy")


async def survey_receipts_and_final(s: Survey, portal: Portal) -> None:
    """Receipts (the form, an unknown one, the citizen test's), the final 100 and its results, a 404 (kk)."""
    final_slug = portal.slugs[portal.vote_campaign.id]
    await s.visit("receipts", "/receipts")
    await s.visit("receipt-unknown", "/receipts/no-such-receipt")
    if portal.shared.get("receipt"):
        await s.visit("receipt", f"/receipts/{portal.shared['receipt']}")
    await s.visit("final", f"/campaigns/{final_slug}/final")
    await s.visit("final-results", f"/campaigns/{final_slug}/results")
    await s.visit("final-person", f"/campaigns/{final_slug}/candidates/{portal.vote_campaign.candidate_ids[0]}")
    await s.visit("not-found", "/no-such-page")


async def survey_signed_in(s: Survey, portal: Portal) -> None:
    """Sign-in: the phone form, its error, the code form; then the personal pages and the nomination form (kk)."""
    open_slug, first = portal.slugs[portal.open_campaign.id], portal.open_campaign.candidate_ids[0]
    page = s.page
    await s.visit("signin", f"/signin?next=/campaigns/{open_slug}")
    await page.fill("#phone", "12")
    await page.locator("main form[action='/signin'] button[type=submit]").click()
    await async_expect(page.locator("#error-summary")).to_be_visible()
    await s.check("signin-error")
    phone = phone_number()
    await page.fill("#phone", phone)
    await page.locator("main form[action='/signin'] button[type=submit]").click()
    await page.wait_for_url("**/signin/code**")
    await s.check("signin-code")
    await page.fill("#code", await asyncio.to_thread(outbox_code, portal, phone))
    await page.locator("main form[action='/signin/code'] button[type=submit]").click()
    await page.wait_for_url(f"**/campaigns/{open_slug}**")
    await s.check("ballot-signed-in")
    await page.locator(f"button.vote[value='{first}']").click()
    await async_expect(page.locator("#outcome")).to_be_visible()
    await s.check("ballot-voted")
    await async_expect(page.locator(f"button.vote[value='{first}']")).to_have_attribute("aria-pressed", "true")
    await s.visit("candidate-signed-in", f"/campaigns/{open_slug}/candidates/{first}")
    await s.visit("my-votes", "/my-votes")
    await s.visit("nominate", "/nominate")
    await page.locator("main form[action='/nominate'] button[type=submit]").click()
    await async_expect(page.locator("#error-summary")).to_be_visible()
    await s.check("nominate-errors")
    if portal.shared.get("nomination_ref"):
        await s.visit("nomination-status", f"/nominate/status?ref={portal.shared['nomination_ref']}")


# Each its own browser context (a visitor of its own: cookies, language, session), all four at once.
SURVEY_GROUPS = (survey_first_pages, survey_ballot_and_texts, survey_receipts_and_final, survey_signed_in)


@needs_axe
@pytest.mark.timeout(240)
async def test_every_portal_page_on_a_phone_and_a_desktop(portal: Portal, record_property: Any) -> None:
    fresh_dir(SHOTS, "*.png")
    record_property("artifacts", f"portal screenshots (390x844 and 1366x900): {SHOTS}")
    names = survey_names(portal)
    numbers = {name: n for n, name in enumerate(names, start=1)}

    async def run(browser: AsyncBrowser, group: Any) -> Survey:
        context = await browser.new_context(base_url=portal.voting, viewport=VIEWPORTS["phone"], locale="kk-KZ",
                                            device_scale_factor=1)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        s = Survey(page, Watch(page), numbers)
        await group(s, portal)
        await context.close()
        return s

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            surveys = await asyncio.gather(*(run(browser, group) for group in SURVEY_GROUPS))
        finally:
            await browser.close()
    checked = [name for s in surveys for name in s.checked]
    timings = {k: round(sum(s.timings[k] for s in surveys), 1) for k in ("screenshots", "axe")}
    print(f"{len(checked)} pages; seconds spent (over the contexts): {timings}")
    assert sorted(checked) == sorted(names), "every page of the survey checked once"
    failures = [f for s in surveys for f in s.failures]
    assert not failures, "\n".join(failures)
    problems = [p for s in surveys for p in s.watch.problems]
    assert not problems, problems


@needs_axe
def test_the_page_checks_catch_what_they_look_for(browser: Browser) -> None:
    """The survey's checks on a page made to fail them: an image without text, a field without a label, grey
    on white, and a box wider than a phone."""
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    page = context.new_page()
    page.set_content('<!doctype html><html lang="en"><head><title>bad</title></head><body><main>'
                     '<h1>Bad</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                     '<input type="text"><p style="color:#ccc;background:#fff">faint</p>'
                     '<div style="width:600px">wide</div></main></body></html>')
    found = {v["id"] for v in axe_violations(page)}
    wide = sideways_overflow(page)
    context.close()
    assert {"image-alt", "label", "color-contrast"} <= found, found
    assert wide is not None and wide["scrollWidth"] >= 600 and any(e.startswith("div") for e in wide["elements"])
