"""Lighthouse on the portal: ``python -m loadtests.lighthouse [--url http://host:port] [--runs 3] [--keep DIR]``
(``make lighthouse``).

The home page, the ballot of the first campaign the home page links to, and the page of the first candidate
on that ballot, each audited by Lighthouse 12 (tests/browser/package.json, installed by
scripts/ensure_test_tools.sh) in its default mobile emulation (a mid-range phone, simulated slow 4G and a 4x
slower CPU) in Debian's headless Chromium (``CHROME_PATH``), categories accessibility, performance and best
practices. Without ``--url`` it stands up its own stack first: a scratch database with the migrations and the
demo data (``devtools.demo``), a Redis database (``--redis-db``, flushed), and the voting service configured
as production (granian, ``APP_ENV=production``); everything is stopped and dropped at the end.

Prints one line per page with the three scores and, for each score under its target, the audits that cost
points with Lighthouse's own titles and the elements concerned; the last stdout line is one JSON object.
Exit code 0 when every page meets the targets (accessibility 100, performance >= 95, best practices >= 95),
1 when one does not, 2 when Lighthouse or Chromium is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE_CLI = ROOT / "tests" / "browser" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = os.environ.get("CHROME_PATH") or os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As tests/e2e/test_admin_browser.py starts it: no sandbox as root, nothing that phones home on this closed network.
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync")
CATEGORIES = ("accessibility", "performance", "best-practices")
TARGETS = {"accessibility": 100, "performance": 95, "best-practices": 95}
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
           "speed-index")


class ToolMissing(RuntimeError):
    pass


# --- reading a report --------------------------------------------------------------------------------------

@dataclass
class Finding:
    """An audit that cost points: Lighthouse's id, title, score (0..1), its display value and a few elements."""

    category: str
    id: str
    title: str
    score: float
    display: str = ""
    items: list[str] = field(default_factory=list)

    def line(self) -> str:
        extra = f" ({self.display})" if self.display else ""
        where = f" — {'; '.join(self.items)}" if self.items else ""
        return f"[{self.category}] {self.title}{extra}: score {round(self.score * 100)}{where}"


@dataclass
class PageResult:
    name: str
    url: str
    scores: dict[str, int | None]
    metrics: dict[str, str]
    findings: list[Finding]
    warnings: list[str]
    error: str | None = None
    benchmark_index: float | None = None  # Lighthouse's measure of this machine's CPU (a fast desktop: ~1500+)

    def misses(self) -> dict[str, int | None]:
        """The categories under their target (a missing score is a miss)."""
        return {c: s for c, s in self.scores.items() if s is None or s < TARGETS[c]}

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "scores": self.scores, "metrics": self.metrics,
                "misses": self.misses(), "findings": [f.line() for f in self.findings], "warnings": self.warnings,
                "error": self.error, "benchmark_index": self.benchmark_index}


def _item_label(item: dict[str, Any]) -> str | None:
    node = item.get("node") if isinstance(item.get("node"), dict) else None
    if node:
        label = node.get("selector") or node.get("snippet") or node.get("nodeLabel")
        explanation = (node.get("explanation") or "").split("\n")[-1].strip()
        return f"{label}: {explanation}" if explanation and label else label
    location = item.get("sourceLocation") if isinstance(item.get("sourceLocation"), dict) else {}
    if item.get("description") and location.get("url"):  # console errors: what and where
        return f"{item['description']} ({location['url']})"
    for key in ("url", "description", "source", "label"):
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and value.get("url"):
            return str(value["url"])
    return None


def _items(audit: dict[str, Any], most: int = 4) -> list[str]:
    details = audit.get("details") or {}
    found: list[str] = []
    for item in details.get("items") or []:
        if not isinstance(item, dict):
            continue
        label = _item_label(item)
        for sub in ((item.get("subItems") or {}).get("items") or []) if label is None else []:
            label = _item_label(sub) if isinstance(sub, dict) else None
            if label:
                break
        if label and label not in found:
            found.append(label[:200])
        if len(found) == most:
            break
    return found


def read_report(report: dict[str, Any], *, name: str = "") -> PageResult:
    """The scores (0..100), the metrics and every weighted or failing audit under 1 from a Lighthouse JSON report."""
    cats = report.get("categories") or {}
    audits = report.get("audits") or {}
    scores: dict[str, int | None] = {}
    findings: list[Finding] = []
    for cat in CATEGORIES:
        c = cats.get(cat)
        score = c.get("score") if c else None
        scores[cat] = None if score is None else round(score * 100)
        for ref in (c or {}).get("auditRefs", []):
            a = audits.get(ref["id"]) or {}
            if a.get("scoreDisplayMode") in ("notApplicable", "manual", "informative", "error"):
                continue
            if a.get("score") is None or a["score"] >= 1:
                continue
            if cat == "performance" and ref.get("weight", 0) == 0 and a["score"] >= 0.9:
                continue  # an opportunity that passes Lighthouse's own bar
            findings.append(Finding(cat, ref["id"], a.get("title", ref["id"]), float(a["score"]),
                                    a.get("displayValue", ""), _items(a)))
    metrics = {m: audits[m].get("displayValue", "") for m in METRICS if m in audits}
    error = (report.get("runtimeError") or {}).get("message")
    return PageResult(name, report.get("finalDisplayedUrl") or report.get("finalUrl") or report.get("requestedUrl", ""),
                      scores, metrics, findings, list(report.get("runWarnings") or []), error,
                      (report.get("environment") or {}).get("benchmarkIndex"))


def median_run(results: list[PageResult]) -> PageResult:
    """Of several runs of one page, the one with the median performance score (Lighthouse's own advice: the
    performance score moves from run to run, the other two do not)."""
    ranked = sorted(results, key=lambda r: r.scores.get("performance") or 0)
    return ranked[(len(ranked) - 1) // 2]


# --- running Lighthouse --------------------------------------------------------------------------------------

def tools() -> tuple[str, str]:
    node = shutil.which("node")
    if node is None or not LIGHTHOUSE_CLI.exists():
        raise ToolMissing(f"Lighthouse is not installed ({LIGHTHOUSE_CLI} missing or no node): "
                          "bash scripts/ensure_test_tools.sh installs it")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        raise ToolMissing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROME_PATH)")
    return node, CHROMIUM


def run_lighthouse(url: str, out: Path, *, timeout_s: float = 180.0) -> dict[str, Any]:
    node, chromium = tools()
    cmd = [node, str(LIGHTHOUSE_CLI), url, "--output=json", f"--output-path={out}",
           f"--only-categories={','.join(CATEGORIES)}", "--form-factor=mobile", "--quiet",
           f"--chrome-flags={' '.join(CHROME_FLAGS)}"]
    env = {**os.environ, "CHROME_PATH": chromium}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"lighthouse failed on {url} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(out.read_text())


def discover(base: str, slug: str | None, candidate: str | None) -> dict[str, str]:
    """The three pages: the home page, the ballot (``slug`` or the first campaign the home page links to) and
    a candidate (``candidate`` or the first one the ballot links to)."""
    with httpx.Client(base_url=base, timeout=10.0, follow_redirects=True) as client:
        home = client.get("/")
        home.raise_for_status()
        if slug is None:
            found = re.search(r'href="/campaigns/([^/"?#]+)"', home.text)
            if not found:
                raise RuntimeError(f"the home page at {base}/ links to no campaign; give --slug")
            slug = found.group(1)
        if candidate is None:
            ballot = client.get(f"/campaigns/{slug}")
            ballot.raise_for_status()
            found = re.search(rf'href="/campaigns/{re.escape(slug)}/candidates/([^/"?#]+)"', ballot.text)
            if not found:
                raise RuntimeError(f"the ballot /campaigns/{slug} links to no candidate; give --candidate")
            candidate = found.group(1)
    return {"home": f"{base}/", "ballot": f"{base}/campaigns/{slug}",
            "candidate": f"{base}/campaigns/{slug}/candidates/{candidate}"}


def audit(pages: dict[str, str], *, runs: int, keep: Path) -> list[PageResult]:
    keep.mkdir(parents=True, exist_ok=True)
    results = []
    for name, url in pages.items():
        page_runs = []
        for n in range(runs):
            out = keep / f"lighthouse-{name}-{n + 1}.json"
            page_runs.append(read_report(run_lighthouse(url, out), name=name))
            log(f"{name} run {n + 1}/{runs}: {page_runs[-1].scores}")
        best = median_run(page_runs)
        if runs > 1:
            best.warnings.append("performance of the runs: "
                                 f"{[r.scores.get('performance') for r in page_runs]} "
                                 f"(median {statistics.median(r.scores.get('performance') or 0 for r in page_runs)})")
        results.append(best)
    return results


def log(msg: str) -> None:
    print(f"[lighthouse] {msg}", file=sys.stderr, flush=True)


def print_results(results: list[PageResult]) -> None:
    for r in results:
        scores = "  ".join(f"{c} {r.scores[c] if r.scores[c] is not None else '—'}" for c in CATEGORIES)
        print(f"{r.name:<10} {scores}   {r.url}")
        if r.metrics:
            print("           " + ", ".join(f"{k} {v}" for k, v in r.metrics.items()))
        if r.error:
            print(f"           ERROR: {r.error}")
        missed = r.misses()
        for f in r.findings:
            if f.category in missed:
                print(f"           {f.line()}")


# --- a stack of its own ------------------------------------------------------------------------------------

class Stack:
    """A scratch database with the demo data, a flushed Redis database, the voting service as production runs it."""

    def __init__(self, redis_db: int, workdir: Path) -> None:
        from loadtests import stack

        self.stack = stack
        server = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
        self.db = stack.ScratchDatabase(server)
        self.credentials = stack.ServiceCredentials()
        self.redis_url = stack.with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), f"/{redis_db}")
        self.workdir = workdir
        self.proc: Any = None

    async def start(self) -> str:
        import redis.asyncio as aioredis

        from devtools.demo import load_demo

        r = aioredis.Redis.from_url(self.redis_url)
        try:
            await r.flushdb()
        finally:
            await r.aclose()
        db_url = await self.db.create()
        demo = await load_demo(db_url, self.redis_url)
        log(f"database {self.db.name}: demo campaign {demo.get('slug')} {demo.get('status')}")
        service_urls = await self.credentials.create(db_url, self.redis_url)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")},
               **self.stack.production_env(database_url=db_url, redis_url=self.redis_url, service_urls=service_urls,
                                           token_key=secrets.token_bytes(32), pseudonym_key=secrets.token_bytes(32))}
        metrics = self.workdir / "prometheus"
        metrics.mkdir(exist_ok=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        port = self.stack.free_port()
        cmd = [sys.executable, "-m", "voting_service", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1"]
        self.proc = self.stack.Process("voting", cmd, env, self.workdir / "voting.log", port=port).start()
        self.stack.wait_ready(self.proc, f"http://127.0.0.1:{port}/health/ready")
        log(f"voting service on http://127.0.0.1:{port}")
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        import redis.asyncio as aioredis

        if self.proc is not None:
            self.proc.stop()
        await self.credentials.drop()
        await self.db.drop()
        r = aioredis.Redis.from_url(self.redis_url)
        try:
            await r.flushdb()
        finally:
            await r.aclose()


# --- the command -------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.lighthouse", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running portal (e.g. http://127.0.0.1:8000 after make run); default: start one")
    p.add_argument("--slug", help="the campaign whose ballot to audit (default: the first the home page links to)")
    p.add_argument("--candidate", help="the candidate id to audit (default: the first on the ballot)")
    p.add_argument("--only", choices=("home", "ballot", "candidate"), action="append",
                   help="audit only this page (repeatable; default all three)")
    p.add_argument("--runs", type=int, default=1, help="runs per page; the median performance run counts (default 1)")
    p.add_argument("--redis-db", type=int, default=int(os.environ.get("LIGHTHOUSE_REDIS_DB", "12")),
                   help="the Redis database of the stack it starts (flushed; default LIGHTHOUSE_REDIS_DB or 12)")
    p.add_argument("--keep", type=Path, default=None, help="keep the JSON reports here (default: a temporary folder)")
    return p.parse_args(argv)


async def amain(o: argparse.Namespace, workdir: Path) -> list[PageResult]:
    tools()
    own = None if o.url else Stack(o.redis_db, workdir)
    try:
        base = (o.url or await own.start()).rstrip("/")  # type: ignore[union-attr]
        pages = {name: url for name, url in discover(base, o.slug, o.candidate).items()
                 if not o.only or name in o.only}
        return await asyncio.to_thread(audit, pages, runs=max(1, o.runs), keep=o.keep or workdir)
    finally:
        if own is not None:
            await own.stop()


def main(argv: list[str] | None = None) -> int:
    o = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    try:
        results = asyncio.run(amain(o, workdir))
    except ToolMissing as exc:
        log(str(exc))
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_results(results)
    if o.keep:
        log(f"reports kept in {o.keep}")
    ok = all(not r.misses() and r.error is None for r in results)
    print(json.dumps({"targets": TARGETS, "met": ok, "pages": [r.as_dict() for r in results]}, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
