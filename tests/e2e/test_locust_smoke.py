"""The locust scenarios end to end, very short: each stands up a real stack and must pass its own verdict.

``python -m loadtests.locust <scenario>`` starts what the benchmark starts (a scratch database, a Redis
database flushed: TEST_LOCUST_REDIS_DB, else TEST_BENCH_REDIS_DB; a published campaign, the voting service
under granian on a free port, the flusher), runs the locustfile headless for two seconds, reconciles, tears everything down and prints the summary JSON as its
last stdout line. Two scenarios: ``steady`` (the real OTP sign-in through the dev outbox) and ``bots`` (whose
refused votes must show, and whose accepted votes must stay within tokens x k). ``alone`` (make test's second
phase): with two seconds to run, a machine busy with the other tests can leave its users without a request sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.redis_dbs import redis_db

ROOT = Path(__file__).resolve().parents[2]
# The bench smoke's database (the two never run at once): not one another suite on the same server uses.
REDIS_DB = str(redis_db("LOCUST"))


def run_scenario(*args: str, timeout: float = 50) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run([sys.executable, "-m", "loadtests.locust", *args, "--own-stack", "--redis-db", REDIS_DB],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc.returncode, json.loads(lines[-1]), proc.stderr[-3000:]


@pytest.mark.e2e
@pytest.mark.alone
@pytest.mark.timeout(120)
def test_steady_and_bots_scenarios_pass_against_a_real_stack() -> None:
    rc, s, err = run_scenario("steady", "-u", "8", "-r", "8", "-t", "2s", "--sign-in", "outbox",
                              "--think-min", "0.05", "--think-max", "0.2")
    assert rc == 0, (s.get("reasons"), err)
    assert s["passed"] is True and s["sign_in"] == "outbox"
    assert s["outcomes"].get("otp verify 200", 0) > 0, s["outcomes"]
    assert s["outcomes"].get("vote 201", 0) > 0, s["outcomes"]
    assert s["reconcile_clean"] is True, s["reconcile"]

    rc, s, err = run_scenario("bots", "-u", "6", "-r", "6", "-t", "2s", "--bot-tokens", "3")
    assert rc == 0, (s.get("reasons"), err)
    bots = s["bots"]
    assert bots["tokens"] == 3
    assert bots["refused"] > 0, bots
    assert any(code.startswith(("401", "404", "409", "429")) for code in bots["refused_by_code"]), bots
    assert bots["accepted"] <= bots["cap"] == 3 * bots["k"], bots
    assert not bots["wrongly_accepted"], bots
    assert s["reconcile_clean"] is True, s["reconcile"]
