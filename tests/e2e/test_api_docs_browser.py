"""/schema in Chromium with every other host unreachable (as offline): Swagger UI renders the operations of both
services from the files the services serve themselves, and the page asks nothing of any other host."""

from __future__ import annotations

import pytest

from devtools.ports import free_port
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, answers, needs_browser, sync_playwright
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, needs_browser]


@pytest.mark.timeout(120)
def test_schema_viewers_render_offline(spawn):
    bases = {}
    for service in ("voting_service", "admin_service"):
        port = free_port()
        spawn("-m", service, "serve", "--port", str(port))
        bases[service] = f"http://127.0.0.1:{port}"
    for base in bases.values():
        wait_for(lambda base=base: answers(f"{base}/health/live"), 40, f"{base} to answer")
    elsewhere: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for service, base in bases.items():
                context = browser.new_context()
                context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                    "http://127.0.0.1:") else (elsewhere.append(route.request.url), route.abort())[1])
                page = context.new_page()
                page.goto(f"{base}/schema")
                page.wait_for_selector(".opblock", timeout=30_000)
                paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.dataset.path)")
                assert "/health/live" in paths, (service, paths[:10])
                assert (("/api/v1/campaigns/{campaign_id}/votes" in paths) if service == "voting_service"
                        else ("/api/v1/candidates" in paths)), (service, paths[:20])
                context.close()
        finally:
            browser.close()
    assert not elsewhere, f"the viewer asked other hosts: {elsewhere}"
