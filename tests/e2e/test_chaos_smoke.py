"""``make chaos`` end to end, short: every fault once or a few times (3 flusher kills, Postgres down 1 s, a Redis
kill -9 and restart on its AOF, Redis frozen 5 s) under a light vote load, then the drain and the comparison.
The last stdout line is the JSON report and the targets hold: nothing acknowledged is lost or counted twice,
Redis and Postgres reconcile, and no request waited more than 2 s while a store was down.

Runs ``python -m loadtests.chaos`` as ``make chaos`` would; it starts its own Postgres (initdb) and redis-server
on free loopback ports, so it needs the PostgreSQL server binaries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.servers import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
FREEZE_S = 5  # Redis frozen (SIGSTOP) this long


@pytest.mark.e2e
@pytest.mark.alone
@pytest.mark.timeout(200)
@pytest.mark.skipif(PostgresServer.bindir() is None, reason="PostgreSQL server binaries (initdb, pg_ctl) not found")
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_chaos_short_run_meets_the_targets() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.chaos", "--flusher-kills", "3", "--redis-stop", str(FREEZE_S),
         "--postgres-down", "1", "--settle", "1.5", "--rate", "60", "--concurrency", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=190,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert {"acknowledged", "lost", "duplicated", "reconcile_ok", "max_unavailable_response_s"} <= set(report)
    assert report["acknowledged"] > 100, report
    assert report["lost"] == 0 and report["duplicated"] == 0, report
    assert report["reconcile_ok"] is True, proc.stderr[-3000:]
    assert report["internal_errors"] == 0, proc.stderr[-3000:]
    # No request waits for a store: at most 2 s. A service that hung on the frozen Redis would take the whole
    # FREEZE_S. On a machine so busy that answers are slow with every store up (baseline), the scheduler's delay
    # is allowed on top, never enough to hide a hang.
    slack = max(0.0, report["baseline_max_response_s"] - 1.0)
    assert report["max_unavailable_response_s"] <= min(2.0 + slack, FREEZE_S - 1.0), report
    assert report["undrained"] == 0 and report["stored"] >= report["acknowledged"], report
    faults = {f["name"]: f for f in report["faults"]}
    assert {"flusher_kill9", "postgres_restart", "redis_restart", "redis_unresponsive"} <= set(faults)
    assert report["flusher_starts"] == 4
    # Redis frozen for 3 s: the service said 503 (quickly) rather than nothing at all.
    assert faults["redis_unresponsive"]["statuses"].get("503", 0) > 0, faults["redis_unresponsive"]
    assert faults["redis_unresponsive"]["statuses"].get("0", 0) == 0, faults["redis_unresponsive"]
    assert proc.returncode == 0, proc.stderr[-3000:]
