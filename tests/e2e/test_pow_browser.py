"""The proof-of-work page in a real browser (issue 12): headless Chromium against the voting service as a real
process, set so that every code request needs proof of work (``OTP_FREE_PER_PHONE_HOUR=0``). The phone form's
post answers the challenge page; static/pow.js starts the Web Worker (static/pow-worker.js, WebCrypto on
loopback), which finds the number; the form is sent again by itself and the code page follows. Nothing breaks
the Content-Security-Policy (the worker is same-origin), no console error. With JavaScript off, the page says
what to do instead."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from devtools.ports import free_port
from tests.e2e.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, answers, needs_browser
from tests.e2e.conftest import wait_for

SHOTS = ARTIFACTS / "portal"  # with the portal survey's screenshots

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine (needs_browser skips)
    pass

pytestmark = [pytest.mark.e2e, needs_browser]

PHONE = "+77015559901"


async def test_the_challenge_page_solves_in_a_worker_and_signs_in(spawn):
    port = free_port()
    spawn("-m", "voting_service", "serve", "--port", str(port), "--workers", "1",
          extra_env={"OTP_FREE_PER_PHONE_HOUR": "0", "CHALLENGE_BASE_MAXNUMBER": "20000"})
    base = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(wait_for, lambda: answers(f"{base}/health/ready"), 40, "the voting service")
    await asyncio.to_thread(_in_browser, base)
    outbox = httpx.get(f"{base}/api/v1/dev/sms-outbox", params={"phone": PHONE}, timeout=5).json()
    assert len(outbox) == 1  # one code: the one the solved challenge paid for


def _in_browser(base: str) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            problems: list[str] = []
            context = browser.new_context(base_url=base, locale="en-GB")
            page = context.new_page()
            page.set_default_timeout(20_000)
            # ("Failed to load resource" is the browser repeating the page's own 428, which is on purpose)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and not m.text.startswith(
                "Failed to load resource") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto("/signin?lang=en")
            page.fill("#phone", PHONE)
            page.locator("main form[action='/signin'] button[type=submit]").click()
            page.wait_for_url("**/signin/code**")  # through the challenge page, solved and re-sent by itself
            assert "Enter the code from the SMS" in page.content()
            assert problems == [], problems
            context.close()
            # Without JavaScript: the page explains instead of spinning.
            context = browser.new_context(base_url=base, locale="en-GB", java_script_enabled=False)
            page = context.new_page()
            page.goto("/signin?lang=en")
            page.fill("#phone", "+77015559902")
            page.locator("main form[action='/signin'] button[type=submit]").click()
            page.wait_for_load_state()
            text = page.content()
            assert "One moment: a quick check" in text and "turn JavaScript on for this site" in text
            context.close()
            # The page in each language and width, kept with the portal's screenshots (no JavaScript: it stays put).
            SHOTS.mkdir(parents=True, exist_ok=True)
            for n, (lang, title) in enumerate((("kk", "Бір сәт"), ("ru", "Минуту"), ("en", "One moment"))):
                for size, (w, h) in (("phone", (390, 844)), ("desktop", (1366, 900))):
                    context = browser.new_context(base_url=base, java_script_enabled=False,
                                                  viewport={"width": w, "height": h})
                    page = context.new_page()
                    page.goto(f"/signin?lang={lang}")
                    page.fill("#phone", f"+7701{n}{1 if size == 'phone' else 2}44440")  # new numbers, other blocks
                    page.locator("main form[action='/signin'] button[type=submit]").click()
                    page.wait_for_load_state()
                    assert page.locator("html").get_attribute("lang") == lang and title in page.content()
                    assert page.evaluate("document.documentElement.scrollWidth") <= w
                    page.screenshot(path=str(SHOTS / f"{size}-{lang}-challenge.png"), full_page=True)
                    context.close()
        finally:
            browser.close()
