"""The throughput benchmark end to end, very short: it must run, count every answer and reconcile clean, and serve
the ballot page (the first 50) of its 200-candidate campaign to anonymous phone browsers (the page phase) and run the sign-in
path (the sign-in phase) without an error.

Runs ``python -m loadtests.bench`` as ``make bench`` would (1 s per phase, 8 connections: thousands of votes) on the servers
``DATABASE_URL`` / ``REDIS_URL`` name; the bench creates and drops its own database. Skipped without wrk.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.redis_dbs import redis_db

ROOT = Path(__file__).resolve().parents[2]
SMOKE_REDIS_DB = str(redis_db("BENCH"))  # not the bench's 12 nor the tests' 13/14


@pytest.mark.e2e
@pytest.mark.alone
@pytest.mark.timeout(180)
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
def test_bench_runs_and_reconciles() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.bench", "--duration", "1", "--warmup", "0", "--connections", "8",
         "--threads", "1", "--redis-db", SMOKE_REDIS_DB],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert report["errors"] == 0, proc.stderr[-3000:]
    assert report["votes_per_s"] > 0
    assert report["accepted_per_s"] > 0
    assert report["reconcile_clean"] is True, report["reconcile"]
    assert report["accepted_match_tally"] is True, report
    assert report["ceiling_rps"] > 0 and report["naive_votes_per_s"] > 0
    # the page phase: the real ballot page (its first page of 50), compressed for a browser that asks for gzip
    check = report["page_check"]
    assert check["status"] == 200 and check["content_type"].startswith("text/html"), check
    assert check["content_encoding"] in ("gzip", "br", "zstd"), check
    assert report["candidates"] == 200 and report["page_candidates_shown"] == 50, check
    assert report["page_errors"] == 0, (report["page_statuses"], report["page_socket_errors"])
    assert report["page_rps"] > 0 and report["page_p99_ms"] > 0
    assert set(report["page_encodings"]) == {check["content_encoding"]}, report["page_encodings"]
    assert report["page_ratio_vs_ceiling"] == round(report["page_rps"] / report["ceiling_rps"], 3)
    assert report["page_latency_rps"] > 0 and 0 < report["page_latency_p50_ms"] <= report["page_latency_p99_ms"]
    assert report["page_latency_ratio_vs_ceiling"] == round(report["page_latency_rps"] / report["ceiling_rps"], 3)
    # the sign-in phase (issue 12): code requests and checks, against the ceiling's sign-in routes in the same run
    assert report["signin_errors"] == 0, report["signin_statuses"]
    assert set(report["signin_statuses"]) <= {"202", "401"} and report["signin_statuses"].get("202"), report
    assert report["signin_rps"] > 0 and report["signin_ceiling_rps"] > 0 and report["signin_ceiling_errors"] == 0
    assert report["signin_ratio_vs_ceiling"] == round(report["signin_rps"] / report["signin_ceiling_rps"], 3)
    assert proc.returncode == 0, proc.stderr[-3000:]
