"""Steady voting: citizens arrive, sign in, think 1-3 s between steps, cast up to k votes, check them.

    locust -f loadtests/locust/steady.py --headless --host http://127.0.0.1:8000 -u 100 -r 20 -t 60s
    python -m loadtests.locust steady            # the same against a stack it starts (see __main__.py)

Sign-in: with ``--tokens-file`` each citizen takes the next offline-minted token; without it each signs in
through the real OTP flow (POST /auth/otp, the code from GET /dev/sms-outbox, POST /auth/otp/verify), which
needs ``SMS_BACKEND=outbox`` on the service. Fails (exit 1) above 1 % failures, p95 > 500 ms or p99 > 1 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from locust import between, events  # noqa: E402

from loadtests.locust import common  # noqa: E402
from loadtests.locust.voters import Voter  # noqa: E402


@events.init_command_line_parser.add_listener
def _options(parser):  # type: ignore[no-untyped-def]
    common.add_options(parser, fail_ratio=0.01, p95_ms=500, p99_ms=1000)
    parser.add_argument("--think-min", type=float, default=1.0, env_var="LOCUST_THINK_MIN",
                        help="citizen think time between steps, lower bound (s)")
    parser.add_argument("--think-max", type=float, default=3.0, env_var="LOCUST_THINK_MAX",
                        help="citizen think time between steps, upper bound (s)")


common.install("steady")


class SteadyVoter(Voter):
    def wait_time(self) -> float:
        o = self.environment.parsed_options
        return between(o.think_min, o.think_max)(self)
