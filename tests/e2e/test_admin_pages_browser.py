"""Every staff page in a real browser, on the demo data: headless Chromium (Debian's, driven by Playwright)
against the admin service as a real process, on a database of its own loaded by the demo loader (a 210-person
open ballot, a draft, a closed campaign with a suspicious cluster, a finalised one, cards at every stage,
nominations in triage).

``test_every_staff_page_on_a_phone_and_a_desktop``: each page in Kazakh, Russian and English at 390x844 and
1366x900, signed in as a member of staff holding every role (so that every form is on the page): a
screenshot of each (artifacts/admin/, printed at the end of the run), no horizontal page scroll at 390 px
(``document.documentElement.scrollWidth`` <= 390: wide tables scroll inside their own box), axe-core in the
page with no serious or critical violation (every page at both sizes, in one of the three languages by
turns), no console error (nothing broke the Content-Security-Policy), no 5xx.

``test_long_lists_page_search_and_sort_without_javascript``: the open campaign's ballot and results a page
at a time, searched, filtered by region with counts, sorted by votes, with JavaScript off.

``test_keyboard_focus_is_visible``: Tab through the sign-in page and the candidate list; every focused
element draws an outline.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from admin_service.services.users import create_user
from devtools.demo import DEMO_SIZE, DEMO_SLUG, PAST_SLUG, load_demo
from devtools.demo_stages import CLOSED_SLUG, DRAFT_SLUG
from devtools.ports import free_port
from shared.infra import create_pool, create_redis
from tests.e2e.browser import (
    ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, answers, axe_violations_async, fresh_dir, needs_axe, needs_browser,
)
from tests.e2e.conftest import Spawner, wait_for
from tests.integration.admin.conftest import CHEAP, env_on_own_database

try:
    from playwright.async_api import Browser, async_playwright
    from playwright.async_api import Page as AsyncPage
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine (needs_browser skips)
    pass

pytestmark = [pytest.mark.e2e, needs_browser]

SHOTS = ARTIFACTS / "admin"
PASSWORD = "Staff-Steppe-2026!"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LANGS = ("kk", "ru", "en")


@dataclass
class Stack:
    admin: str
    email: str
    ids: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
async def stack(env: dict[str, str], server_url: str, redis_url: str) -> AsyncIterator[Stack]:
    async with env_on_own_database(env, server_url) as own:
        r = create_redis(redis_url, timeout_s=5.0)
        try:
            await r.flushdb()
            public = own["CONTACT_PUBLIC_KEY"]
            await load_demo(own["DATABASE_URL"], redis_url,
                            contact_public_key=base64.urlsafe_b64decode(public + "=" * (-len(public) % 4)))
        finally:
            await r.aclose()
        pool = await create_pool(own["DATABASE_URL"], min_size=1, max_size=2)
        try:
            email = f"all-roles-{uuid.uuid4().hex[:6]}@100faces.kz"
            await create_user(pool, email=email, password=PASSWORD, actor=None, passwords=CHEAP,
                              roles=["admin", "secretariat", "expert", "working_group", "auditor"])
            slugs = {row["slug"]: row["id"] for row in await pool.fetch("SELECT slug, id FROM campaigns")}
            card = {row["status"]: row["id"] for row in await pool.fetch(
                "SELECT DISTINCT ON (status) status, id FROM candidates ORDER BY status, id")}
        finally:
            await pool.close()
        spawner = Spawner(own)
        port = free_port()
        proc = spawner("-m", "admin_service", "serve", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_for(lambda: answers(f"{url}/health/live"), 30, "the admin service")
            except AssertionError:
                proc.kill()
                raise AssertionError("admin service did not start:\n" + (proc.stdout.read() or "")[-3000:]) from None
            yield Stack(admin=url, email=email, ids={"campaign": slugs, "card": card})
        finally:
            spawner.stop_all()


def pages(stack: Stack) -> list[tuple[str, str]]:
    """(name, path) of every staff page, with the demo's records."""
    c, k = stack.ids["campaign"], stack.ids["card"]
    return [
        ("candidates", "/candidates"),
        ("candidate-new", "/candidates/new"),
        ("card-under-verification", f"/candidates/{k['under_verification']}"),
        ("card-under-review", f"/candidates/{k['under_review']}"),
        ("card-on-ballot", f"/candidates/{k['on_ballot']}"),
        ("nominations", "/nominations"),
        ("campaigns", "/campaigns"),
        ("campaign-new", "/campaigns/new"),
        ("campaign-draft-builder", f"/campaigns/{c[DRAFT_SLUG]}"),
        ("campaign-open", f"/campaigns/{c[DEMO_SLUG]}"),
        ("results-open", f"/campaigns/{c[DEMO_SLUG]}/results"),
        ("results-closed", f"/campaigns/{c[CLOSED_SLUG]}/results"),
        ("results-finalised", f"/campaigns/{c[PAST_SLUG]}/results"),
        ("fraud-closed", f"/campaigns/{c[CLOSED_SLUG]}/fraud"),
        ("audit", "/audit"),
        ("users", "/users"),
        ("account", "/account"),
    ]


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/candidates")


# The document's width and, when it is wider than the window, what sticks out (wide tables scroll inside their
# own box, .table-wrap).
PAGE_WIDTH = """() => {
      const width = document.documentElement.clientWidth, scroll = document.documentElement.scrollWidth;
      const wide = [];
      if (scroll > width) {
        for (const el of document.body.querySelectorAll('*')) {
          const r = el.getBoundingClientRect();
          if (r.right > width + 1 && r.width > 0 && !el.closest('.table-wrap')) {
            wide.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ?
                      '.' + el.className.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
          }
          if (wide.length >= 8) break;
        }
      }
      return {scrollWidth: scroll, clientWidth: width, elements: wide};
    }"""


# The survey's (size, language) rounds, this many at a time: each is a browser context of its own (its own page,
# signed in), so that one page renders while another waits for the server, is screenshotted or runs axe. Three
# keeps the sign-ins at once under the throttle's per-(account, address) limit (5) and the machine's two cores
# busy without starving the rest of the suite.
AT_ONCE = 3


@needs_axe
@pytest.mark.timeout(900)
async def test_every_staff_page_on_a_phone_and_a_desktop(stack: Stack, record_property) -> None:
    started = time.monotonic()
    fresh_dir(SHOTS, "*.png")
    problems: list[str] = []
    survey = pages(stack)
    slots = asyncio.Semaphore(AT_ONCE)

    async def one_round(browser: Browser, size: str, viewport: dict[str, int], lang: str) -> int:
        """The sign-in page, then every staff page, in ``lang`` at ``size``; returns the screenshots taken."""
        async with slots:
            context = await browser.new_context(base_url=stack.admin, viewport=viewport, locale="ru-RU")
            page = await context.new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
            page.on("response", lambda resp: problems.append(f"{resp.status} {resp.url}")
                    if resp.status >= 500 else None)
            await page.goto(f"/login?lang={lang}")
            await page.screenshot(path=str(SHOTS / f"{size}-{lang}-login.png"), full_page=True)
            shots = 1
            await check(page, f"{size} {lang} login", viewport, problems)
            await sign_in_async(page, stack.email)
            for n, (name, path) in enumerate(survey):
                where = f"{size} {lang} {name} ({path})"
                resp = await page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
                assert resp is not None and resp.status == 200, (where, resp and resp.status)
                assert await page.locator("html").get_attribute("lang") == lang, where
                await page.screenshot(path=str(SHOTS / f"{size}-{lang}-{name}.png"), full_page=True)
                shots += 1
                # axe once per page and size, the language taking turns (the markup is the same in the three;
                # the widths are measured in every one)
                await check(page, where, viewport, problems, axe=LANGS[n % len(LANGS)] == lang)
            await page.click("[data-testid=logout]")
            await page.wait_for_url("**/login")
            await context.close()
            return shots

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            shots = sum(await asyncio.gather(*(one_round(browser, size, viewport, lang)
                                               for size, viewport in VIEWPORTS.items() for lang in LANGS)))
        finally:
            await browser.close()
    record_property("artifacts", f"admin screenshots: {shots} in {SHOTS}")
    assert not problems, "\n".join(problems)
    assert shots == len(VIEWPORTS) * len(LANGS) * (len(survey) + 1)
    assert time.monotonic() - started < 800


async def sign_in_async(page: AsyncPage, email: str) -> None:
    await page.goto("/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/candidates")


async def check(page: AsyncPage, where: str, viewport: dict[str, int], problems: list[str], *,
                axe: bool = True) -> None:
    width = await page.evaluate(PAGE_WIDTH)
    if width["scrollWidth"] > viewport["width"]:
        problems.append(f"{where}: the page is {width['scrollWidth']} px wide at {viewport['width']}: "
                        f"{width['elements']}")
    for v in await axe_violations_async(page) if axe else ():
        problems.append(f"{where}: axe {v['impact']} {v['id']}: {v['help']} {v['nodes']}")


@pytest.mark.timeout(300)
def test_long_lists_page_search_and_sort_without_javascript(stack: Stack) -> None:
    c = stack.ids["campaign"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=stack.admin, viewport=VIEWPORTS["desktop"], locale="en-GB",
                                          java_script_enabled=False)
            page = context.new_page()
            page.set_default_timeout(20_000)
            sign_in(page, stack.email)
            page.goto(f"/campaigns/{c[DEMO_SLUG]}?lang=en")
            count = page.locator("#ballot [data-testid=list-count]")
            assert count.get_attribute("data-total") == str(DEMO_SIZE)
            assert page.locator("[data-testid=ballot-list] tbody tr").count() == 50
            height = page.evaluate("document.documentElement.scrollHeight")
            assert height < 6000, height  # it was 10,000 px with all 210 at once
            page.click("#ballot [data-testid=list-pager] a[rel=next]")
            assert "page=2" in page.url
            assert page.locator("#ballot [data-testid=list-pager]").inner_text().startswith("← Previous")
            # Filter by region: the option says how many people it has, the list has that many.
            option = page.locator("#ballot-region option").nth(1)
            label, value = option.inner_text(), option.get_attribute("value")
            expected = int(re.search(r"\((\d+)\)$", label).group(1))
            page.select_option("#ballot-region", value)
            page.click("#ballot [data-testid=list-filters] button[type=submit]")
            assert f"region={value}" in page.url and "page=" not in page.url
            assert count.get_attribute("data-total") == str(expected)
            # Search by part of a name.
            name = page.locator("[data-testid=ballot-list] tbody td.name a").first.inner_text()
            page.goto(f"/campaigns/{c[DEMO_SLUG]}?q={name.split()[-1][:5]}")
            rows = page.locator("[data-testid=ballot-list] tbody td.name a").all_inner_texts()
            assert name in rows and all(name.split()[-1][:5].casefold() in r.casefold() for r in rows)

            # Results: by votes (most first) by default, the fewest first when asked, ranks kept.
            page.goto(f"/campaigns/{c[DEMO_SLUG]}/results?lang=en")
            assert page.evaluate("document.documentElement.scrollHeight") < 7000
            valid = [int(x) for x in page.locator("[data-testid=counts] tbody [data-testid=valid]").all_inner_texts()]
            assert len(valid) == 50 and valid == sorted(valid, reverse=True) and valid[0] > 0
            page.select_option("#counts-sort", "votes_asc")
            page.click("#counts [data-testid=list-filters] button[type=submit]")
            asc = [int(x) for x in page.locator("[data-testid=counts] tbody [data-testid=valid]").all_inner_texts()]
            assert asc == sorted(asc) and asc[0] <= valid[-1]
            ranks = [int(r) for r in page.locator("[data-testid=counts] tbody tr").evaluate_all(
                "rows => rows.map(r => r.dataset.rank)")]
            assert ranks[0] == DEMO_SIZE
            context.close()
        finally:
            browser.close()


@pytest.mark.timeout(300)
def test_keyboard_focus_is_visible(stack: Stack) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=stack.admin, viewport=VIEWPORTS["phone"], locale="ru-RU")
            page = context.new_page()
            page.goto("/login")
            seen = []
            for _ in range(6):
                page.keyboard.press("Tab")
                seen.append(page.evaluate("""() => {
                  const el = document.activeElement, s = getComputedStyle(el);
                  return {tag: el.tagName, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
                }"""))
            assert all(s["outline"] for s in seen if s["tag"] != "BODY"), seen
            sign_in(page, stack.email)
            for _ in range(12):
                page.keyboard.press("Tab")
                state = page.evaluate("""() => {
                  const el = document.activeElement, s = getComputedStyle(el);
                  return {tag: el.tagName, text: (el.textContent || el.name || '').trim().slice(0, 30),
                          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
                }""")
                assert state["outline"] or state["tag"] == "BODY", state
            context.close()
        finally:
            browser.close()
