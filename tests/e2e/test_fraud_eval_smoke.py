"""``make fraud-eval``, small: the labelled traffic goes through the real services (granian, the flusher, the SMS
gateway of the harness), the last line is the JSON report with every attack's recall, the organic false
positive and challenged rates, and the targets hold (recall >= 0.95, challenged <= 1 %; false positives <= 2 % in
this compressed run, the 0.5 % target is `make fraud-eval`'s).

Runs ``python -m loadtests.fraud_eval`` on the servers ``DATABASE_URL`` / ``REDIS_URL`` name; the harness creates
and drops its own database. Its timing is compressed: on a machine too busy to keep the schedule
(``schedule_lag_s`` in the report) the burst and speed signals blur, and the test says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.fraud_traffic import ATTACKS
from tests.redis_dbs import redis_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
@pytest.mark.alone
@pytest.mark.timeout(600)
def test_fraud_eval_runs_and_meets_the_targets() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.fraud_eval", "--organic", "600", "--duration", "90",
         "--redis-db", str(redis_db("BENCH"))],
        cwd=ROOT, capture_output=True, text=True, timeout=580,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(report) >= {f"recall_{a}" for a in ATTACKS} | {"organic_false_positive_rate", "organic_challenged_rate"}
    assert report["client_errors"] == 0 and report["organic_voted"] >= 0.98 * report["organic_voters"], report
    assert all(report[f"votes_{a}"] > 0 for a in ATTACKS), report
    context = (f"(the machine was {report['schedule_lag_s']} s late on the schedule; the paid burst reached the "
               f"service over {report['paid_burst_spread_s']} s) {report}")
    assert all(report[f"recall_{a}"] >= 0.95 for a in ATTACKS), context
    # Issue 12's target is 0.5 %, met by `make fraud-eval` (1 200 voters over 240 s: 0 - 0.08 %, docs/fraud.md).
    # This smoke compresses the crowd into 90 s to keep the suite short, and what is left then is the paid burst's
    # window: the organic votes for its candidate in the same seconds, a share that grows as the crowd's time
    # shrinks (~2 % at 40 s whatever the detector, ~0.3 % at 180 s). Bounded here at 2 %: a detector that flags
    # organic clusters or widens windows again goes far past it.
    assert report["organic_false_positive_rate"] <= 0.02, context
    assert report["organic_challenged_rate"] <= 0.01, context
    assert report["review_ms"] < 1000, context
