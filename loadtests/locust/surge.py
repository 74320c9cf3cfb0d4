"""Broadcast surge: the TV host says "vote now". Users ramp from 0 to ``--peak-users`` in ``--ramp-s`` (10 s),
hold ``--hold-s``, ramp down over ``--ramp-down-s``; citizens think only 0.2-1 s between steps.

    locust -f loadtests/locust/surge.py --headless --host http://127.0.0.1:8000 --peak-users 300 \
        --hold-s 30 --tokens-file tokens.txt
    python -m loadtests.locust surge             # against a stack it starts, with offline-minted tokens

The shape drives the user count (``-u``/``-r``/``-t`` are ignored). Sign-in as in ``steady`` (offline tokens
with ``--tokens-file``, else OTP through the dev outbox). Fails above 1 % failures, p95 > 1 s or p99 > 2 s.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from locust import LoadTestShape, between, events  # noqa: E402

from loadtests.locust import common  # noqa: E402
from loadtests.locust.voters import Voter  # noqa: E402


@events.init_command_line_parser.add_listener
def _options(parser):  # type: ignore[no-untyped-def]
    common.add_options(parser, fail_ratio=0.01, p95_ms=1000, p99_ms=2000)
    parser.add_argument("--peak-users", type=int, default=300, env_var="LOCUST_PEAK_USERS")
    parser.add_argument("--ramp-s", type=float, default=10.0, env_var="LOCUST_RAMP_S")
    parser.add_argument("--hold-s", type=float, default=30.0, env_var="LOCUST_HOLD_S")
    parser.add_argument("--ramp-down-s", type=float, default=10.0, env_var="LOCUST_RAMP_DOWN_S")
    parser.add_argument("--think-min", type=float, default=0.2, env_var="LOCUST_THINK_MIN")
    parser.add_argument("--think-max", type=float, default=1.0, env_var="LOCUST_THINK_MAX")


common.install("surge")


class SurgeVoter(Voter):
    def wait_time(self) -> float:
        o = self.environment.parsed_options
        return between(o.think_min, o.think_max)(self)


class BroadcastSurge(LoadTestShape):
    """0 -> peak in ramp_s, hold, peak -> 0 in ramp_down_s; then stop."""

    def tick(self):  # type: ignore[no-untyped-def]
        o = self.runner.environment.parsed_options
        t = self.get_run_time()
        peak = o.peak_users
        up, hold, down = o.ramp_s, o.hold_s, o.ramp_down_s
        if t < up:
            return max(1, math.ceil(peak * t / up)), max(1.0, peak / up)
        if t < up + hold:
            return peak, max(1.0, peak / up)
        if t < up + hold + down:
            left = max(1, math.ceil(peak * (1 - (t - up - hold) / down)))
            return left, max(1.0, peak / max(down, 0.1))
        return None
