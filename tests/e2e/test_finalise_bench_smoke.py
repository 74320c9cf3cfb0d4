"""The finalisation benchmark end to end, very short (3,000 votes, 1 s of lookups per phase): it must finalise,
serve receipts with proofs that verify against the signed root, and report its figures. Skipped without wrk."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.redis_dbs import redis_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
@pytest.mark.alone
@pytest.mark.timeout(150)
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
def test_finalise_bench_runs_and_its_proofs_verify() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.finalise_bench", "--votes", "3000", "--invalid-every", "10",
         "--duration", "1", "--warmup", "0", "--connections", "8", "--sample", "2000",
         "--redis-db", str(redis_db("BENCH"))],
        cwd=ROOT, capture_output=True, text=True, timeout=140,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert report["counted_votes"] == report["tree_size"] == 3000 - 300
    assert report["finalise_ok"] is True and report["finalise_max_rss_mib"] > 0
    assert report["sample_verified"] == 50
    assert report["receipts_errors"] == 0 and report["receipts_rps"] > 0 and report["ceiling_rps"] > 0
    assert set(report["receipts_statuses"]) == {"200"}
    assert proc.returncode == 0, proc.stderr[-3000:]
