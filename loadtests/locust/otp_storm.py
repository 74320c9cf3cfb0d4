"""OTP sign-in storm: many phones ask for a code and verify it at once (the minutes after a broadcast).

    locust -f loadtests/locust/otp_storm.py --headless --host http://127.0.0.1:8000 -u 100 -r 50 -t 30s
    python -m loadtests.locust otp_storm

Needs ``SMS_BACKEND=outbox`` (codes are read from GET /dev/sms-outbox). Each task is a new phone:
POST /auth/otp, GET the outbox, sometimes a wrong code first (401 ``invalid_code``: expected), then
POST /auth/otp/verify (200). Expected refusals, counted by outcome and not as failures:

- ``--resend-share`` (0.2) of phones ask again at once: 429 ``rate_limited`` (resend throttle) is expected,
  a 202 is a failure (throttle not enforced);
- ``--nat-share`` (0.15) of phones come from ONE shared address (a carrier NAT): once more than
  ``--otp-ip-limit`` (30, the service's OTP_MAX_PER_IP_HOUR) codes were asked from it, 429 ``rate_limited`` is
  expected; a 429 before that, or more than the limit of 202s from one address, is a failure.

Every other phone has an address of its own (X-Forwarded-For; the service must trust the load generator as a
proxy, see common.py). Fails above 1 % failures, p95 > 500 ms, p99 > 1 s, or when a limit was not enforced.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from locust import FastHttpUser, between, events, task  # noqa: E402

from loadtests.locust import common  # noqa: E402
from loadtests.locust.common import API, OUTCOMES, expect, headers  # noqa: E402


@events.init_command_line_parser.add_listener
def _options(parser):  # type: ignore[no-untyped-def]
    common.add_options(parser, fail_ratio=0.01, p95_ms=500, p99_ms=1000)
    parser.add_argument("--otp-ip-limit", type=int, default=30, env_var="LOCUST_OTP_IP_LIMIT",
                        help="the service's OTP_MAX_PER_IP_HOUR (default 30)")
    parser.add_argument("--nat-share", type=float, default=0.15, env_var="LOCUST_NAT_SHARE")
    parser.add_argument("--resend-share", type=float, default=0.2, env_var="LOCUST_RESEND_SHARE")
    parser.add_argument("--wrong-code-share", type=float, default=0.1, env_var="LOCUST_WRONG_CODE_SHARE")


common.install("otp_storm")

NAT_IP = common.random_ip()
SENT: Counter[str] = Counter()      # code requests sent per address (all of them, resends included)
GRANTED: Counter[str] = Counter()   # 202s per address


@common.add_check
def _limits(env):  # type: ignore[no-untyped-def]
    limit = env.parsed_options.otp_ip_limit
    over = {ip: n for ip, n in GRANTED.items() if n > limit}
    figures = {"otp": {"nat_address_requests": SENT[NAT_IP], "nat_address_granted": GRANTED[NAT_IP],
                       "addresses": len(SENT), "granted": sum(GRANTED.values()),
                       "signed_in": OUTCOMES["otp verify 200"],
                       "expected_rate_limited": sum(n for k, n in OUTCOMES.items()
                                                    if k.startswith("otp") and "rate_limited" in k)}}
    return figures, [f"{len(over)} address(es) got more than {limit} codes: {over}"] if over else []


class Phone(FastHttpUser):
    wait_time = between(0.05, 0.5)

    @task
    def sign_in(self) -> None:
        o = self.environment.parsed_options
        phone = common.new_phone()
        ip = NAT_IP if random.random() < o.nat_share else common.random_ip()
        if not self.request_code(phone, ip, "otp request"):
            return
        if random.random() < o.resend_share:
            self.request_code(phone, ip, "otp resend", resend=True)
        with self.client.get(f"{API}/dev/sms-outbox", params={"phone": phone}, headers=headers(ip, self.environment),
                             name="dev outbox", catch_response=True) as r:
            status, _ = expect(r, "dev outbox", {200: ()})
            try:
                code = r.json()[0]["code"]
            except Exception:  # noqa: BLE001
                r.failure("no code in the outbox (is SMS_BACKEND=outbox?)")
                return
        if random.random() < o.wrong_code_share:
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            with self.client.post(f"{API}/auth/otp/verify", json={"phone": phone, "code": wrong},
                                  headers=headers(ip, self.environment), name="otp verify wrong",
                                  catch_response=True) as r:
                expect(r, "otp verify wrong", {401: ("invalid_code",)})
        with self.client.post(f"{API}/auth/otp/verify", json={"phone": phone, "code": code},
                              headers=headers(ip, self.environment), name="otp verify", catch_response=True) as r:
            status, _ = expect(r, "otp verify", {200: ()})
            if status == 200 and not r.json().get("token"):
                r.failure("no token")

    def request_code(self, phone: str, ip: str, name: str, *, resend: bool = False) -> bool:
        limit = self.environment.parsed_options.otp_ip_limit
        SENT[ip] += 1

        def judge(status: int, code: str) -> str | None:
            if status == 202 and resend:
                return "resend within the throttle window was granted"
            if status == 429 and not resend and SENT[ip] <= limit:
                # The server counted at most SENT[ip] requests from this address: it is under the limit.
                return f"rate_limited after only {SENT[ip]} requests from this address (limit {limit})"
            return None

        allowed = {429: ("rate_limited",)} if resend else {202: (), 429: ("rate_limited",)}
        with self.client.post(f"{API}/auth/otp", json={"phone": phone}, headers=headers(ip, self.environment),
                              name=name, catch_response=True) as r:
            status, _ = expect(r, name, allowed, judge)
        if status == 202:
            GRANTED[ip] += 1
        return status == 202
