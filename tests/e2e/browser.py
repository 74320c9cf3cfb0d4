"""What the browser tests share: Debian's Chromium driven by Playwright (never `playwright install`), the
launch flags for this closed network, axe-core from tests/browser/node_modules (scripts/ensure_test_tools.sh
installs it), a check that a page does not scroll sideways, and screenshots kept under artifacts/."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.http import http

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As root without a sandbox; nothing that phones home (the machine's network is closed: those requests fail loudly).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
AXE_JS = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"

try:
    from playwright.async_api import Page as AsyncPage
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

needs_browser = pytest.mark.skipif(
    sync_playwright is None or not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)),
    reason=f"needs the playwright package and Chromium at {CHROMIUM} (scripts/ensure_test_tools.sh installs it)",
)
needs_axe = pytest.mark.skipif(
    not AXE_JS.exists(),
    reason=f"needs axe-core at {AXE_JS} (npm; scripts/ensure_test_tools.sh installs it, `make test` runs that)",
)


def answers(url: str) -> bool:
    try:
        return http().get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


# axe.run in the page, reduced to what a report needs: rule, impact, help, the first few elements.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + (n.failureSummary ? ' :: ' +
      n.failureSummary.replace(/\\s+/g, ' ').slice(0, 240) : ''))
  }));
}"""


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text() + "\n;0"  # a script, evaluated for its effect (``window.axe``), not its value


# Loads axe into the page when it is not there yet: evaluated through DevTools, which the page's
# Content-Security-Policy does not block (a <script> tag would be). Only into the pages that run it: an init
# script put axe's 550 KB into every page of a survey, most of which never ran it.
_AXE_LOADED = "() => typeof window.axe !== 'undefined'"


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now, of the given impacts."""
    if not page.evaluate(_AXE_LOADED):
        page.evaluate(_axe_source())
    return [v for v in page.evaluate(AXE_RUN) if v["impact"] in impacts]


async def axe_violations_async(page: AsyncPage, impacts: tuple[str, ...] = ("serious", "critical")
                               ) -> list[dict[str, Any]]:
    """``axe_violations`` for Playwright's async API (the surveys that drive several pages at once)."""
    if not await page.evaluate(_AXE_LOADED):
        await page.evaluate(_axe_source())
    return [v for v in await page.evaluate(AXE_RUN) if v["impact"] in impacts]


# What sticks out past the window's right edge: null when the page does not scroll horizontally.
SIDEWAYS_OVERFLOW = """() => {
      const root = document.scrollingElement || document.documentElement;
      const width = document.documentElement.clientWidth;
      if (root.scrollWidth <= width) return null;
      const wide = [];
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > width + 1 && r.width > 0) {
          wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                    (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
                    ' right=' + Math.round(r.right));
        }
        if (wide.length >= 8) break;
      }
      return {scrollWidth: root.scrollWidth, clientWidth: width, elements: wide};
    }"""


def sideways_overflow(page: Page) -> dict[str, Any] | None:
    """None when the page does not scroll horizontally; else the widths and the widest elements past the edge."""
    return page.evaluate(SIDEWAYS_OVERFLOW)


async def sideways_overflow_async(page: AsyncPage) -> dict[str, Any] | None:
    """``sideways_overflow`` for Playwright's async API."""
    return await page.evaluate(SIDEWAYS_OVERFLOW)


def fresh_dir(path: Path, pattern: str) -> Path:
    """``path`` created, with this run's files only (the older ones matching ``pattern`` removed)."""
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob(pattern):
        old.unlink()
    return path
