"""What every locust scenario shares: options, the campaign, voter sign-in, expected outcomes, the verdict.

Imported only from locustfiles (it imports locust, which monkey-patches the process with gevent).

- **Options** (locust command line, or ``LOCUST_<NAME>`` environment variables): ``--campaign-id``
  (default: the first open campaign ``GET /campaigns`` lists), ``--tokens-file`` (offline-minted voter
  tokens, one per line; without it voters sign in through the real OTP flow and the dev SMS outbox),
  ``--max-fail-ratio``, ``--max-p95-ms``, ``--max-p99-ms`` (the thresholds; each scenario has its own
  defaults), ``--summary-file`` (also write the summary JSON there), ``--no-xff``.
- **Client addresses.** Each simulated person sends ``X-Forwarded-For: <address>``; a service that trusts
  the load generator as a proxy (``TRUSTED_PROXIES=127.0.0.1/32``, as the runner's stack does) sees one
  address per person, so the per-IP and per-/24 limits apply as in the field. Behind no trusted proxy the
  header is ignored and every user shares the load generator's address (the limits then bite early).
- **Expected refusals.** A request whose status and problem ``code`` the scenario expects (a 409
  ``already_voted`` for a deliberate repeat, a 429 where a limit says so) is a *success* in locust's
  statistics and is counted by outcome; anything else is a failure.
- **Verdict.** On ``quitting``: fail (exit 1) when the failure ratio or p95/p99 exceed the thresholds,
  when nothing was sent, or when a scenario check fails; pass (exit 0) otherwise, unless the scenario
  code itself raised (then locust's ``--exit-code-on-error`` applies). The one-line summary
  (``SUMMARY {json}``) is printed at exit, after locust's own tables.
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import gevent.lock
import requests
from locust import events
from locust.env import Environment

from loadtests.stack import BROWSER_UA, spread_phone

API = "/api/v1"
log = logging.getLogger("loadtests.locust")

MOBILE_CODES = (700, 701, 702, 705, 707, 708, 747, 771, 775, 776, 777, 778)


# --- options ----------------------------------------------------------------------------------------

def add_options(parser: Any, *, fail_ratio: float, p95_ms: float, p99_ms: float) -> None:
    g = parser.add_argument_group("100 New Faces scenario")
    g.add_argument("--campaign-id", default="", env_var="LOCUST_CAMPAIGN_ID",
                   help="campaign to vote in (default: the first open one GET /campaigns lists)")
    g.add_argument("--tokens-file", default="", env_var="LOCUST_TOKENS_FILE",
                   help="offline-minted voter tokens, one per line (default: sign in by OTP via the dev outbox)")
    g.add_argument("--max-fail-ratio", type=float, default=fail_ratio, env_var="LOCUST_MAX_FAIL_RATIO",
                   help=f"fail the run above this failure ratio (default {fail_ratio})")
    g.add_argument("--max-p95-ms", type=float, default=p95_ms, env_var="LOCUST_MAX_P95_MS",
                   help=f"fail the run when the p95 of all requests is above this (default {p95_ms:g} ms)")
    g.add_argument("--max-p99-ms", type=float, default=p99_ms, env_var="LOCUST_MAX_P99_MS",
                   help=f"fail the run when the p99 of all requests is above this (default {p99_ms:g} ms)")
    g.add_argument("--summary-file", default="", env_var="LOCUST_SUMMARY_FILE",
                   help="also write the summary JSON to this file")
    g.add_argument("--no-xff", action="store_true", default=False, env_var="LOCUST_NO_XFF",
                   help="do not send X-Forwarded-For (every user is the load generator's address)")


def opts(env: Environment) -> Any:
    return env.parsed_options


# --- the campaign -----------------------------------------------------------------------------------

@dataclass
class CampaignInfo:
    id: str = ""
    k: int = 3
    candidate_ids: list[str] = field(default_factory=list)
    live_results: bool = True


CAMPAIGN = CampaignInfo()


def load_campaign(env: Environment) -> CampaignInfo:
    """Read the campaign and its ballot over HTTP once, before any user starts."""
    host = (env.host or "").rstrip("/")
    wanted = opts(env).campaign_id
    with requests.Session() as s:
        campaigns = s.get(f"{host}{API}/campaigns", timeout=10).json()
        if wanted:
            found = [c for c in campaigns if str(c["id"]) == str(wanted)]
            camp = found[0] if found else s.get(f"{host}{API}/campaigns/{wanted}", timeout=10).json()
        else:
            open_ = [c for c in campaigns if c.get("status") == "open"]
            if not open_:
                raise RuntimeError(f"no open campaign at {host}; pass --campaign-id")
            camp = open_[0]
        ballot = s.get(f"{host}{API}/campaigns/{camp['id']}/candidates", timeout=10).json()
    CAMPAIGN.id = str(camp["id"])
    CAMPAIGN.k = int(camp["votes_per_voter"])
    CAMPAIGN.live_results = bool(camp.get("live_results", True))
    CAMPAIGN.candidate_ids = [str(c["id"]) for c in ballot]
    if not CAMPAIGN.candidate_ids:
        raise RuntimeError(f"campaign {CAMPAIGN.id} has an empty ballot")
    log.info("campaign %s: k=%s, %d candidates", CAMPAIGN.id, CAMPAIGN.k, len(CAMPAIGN.candidate_ids))
    return CAMPAIGN


# --- people: phones, addresses, tokens ----------------------------------------------------------------

_RUN = random.Random()
_PHONE_BASE = _RUN.randrange(10**7)
_phone_seq = itertools.count()


def new_phone() -> str:
    """A Kazakhstan mobile number not used before in this run (random base: rarely in an earlier one), spread
    over the blocks of 100 numbers as real people's are (``stack.spread_phone``)."""
    return spread_phone(_PHONE_BASE + next(_phone_seq), MOBILE_CODES)


def random_ip(rng: random.Random = _RUN) -> str:
    """A public-looking IPv4 address in a random /24 (no 127/8, 10/8, 0/8 or multicast)."""
    return f"{rng.choice(list(range(11, 126)) + list(range(128, 224)))}.{rng.randrange(256)}." \
           f"{rng.randrange(256)}.{rng.randrange(1, 255)}"


class TokenFile:
    """Offline-minted tokens handed out once each, in file order."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._tokens = [ln.split()[0] for ln in Path(path).read_text().splitlines() if ln.strip()]
        self._next = 0

    def take(self) -> str | None:
        if self._next >= len(self._tokens):
            return None
        self._next += 1
        return self._tokens[self._next - 1]

    def __len__(self) -> int:
        return len(self._tokens)


_TOKENS: dict[str, TokenFile] = {}


def token_file(env: Environment) -> TokenFile | None:
    path = opts(env).tokens_file
    if not path:
        return None
    if path not in _TOKENS:
        _TOKENS[path] = TokenFile(path)
    return _TOKENS[path]


def sign_in_mode(env: Environment) -> str:
    return "tokens" if opts(env).tokens_file else "outbox"


# Citizens vote from a phone's browser (the portal), BROWSER_UA; the bots say what they are (``browser=False``).


def headers(ip: str | None, env: Environment, token: str | None = None, *, browser: bool = True) -> dict[str, str]:
    """A request's headers; ``browser=False``: no User-Agent of a browser (the bots say what they are)."""
    h = {"Content-Type": "application/json"}
    if browser:
        h["User-Agent"] = BROWSER_UA
    if ip and not opts(env).no_xff:
        h["X-Forwarded-For"] = ip
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


def problem_code(resp: Any) -> str:
    try:
        body = resp.json()
    except Exception:  # noqa: BLE001 - not JSON: no code
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


# --- outcomes -----------------------------------------------------------------------------------------

OUTCOMES: Counter[str] = Counter()   # "<name> <status> <code>" -> count, every request judged by expect()


def expect(resp: Any, name: str, allowed: dict[int, Iterable[str] | None],
           judge: Callable[[int, str], str | None] | None = None) -> tuple[int, str]:
    """Mark a ``catch_response`` answer a success when ``(status, code)`` is allowed (codes empty: any), else
    a failure; ``judge`` may refuse an otherwise-allowed answer with a reason. Returns (status, code)."""
    status = int(resp.status_code or 0)
    code = problem_code(resp) if status >= 400 else ""
    OUTCOMES[f"{name} {status}{' ' + code if code else ''}"] += 1
    codes = allowed.get(status, ())
    ok = status in allowed and (not codes or code in codes)
    reason = judge(status, code) if (ok and judge) else None
    if ok and reason is None:
        resp.success()
    else:
        resp.failure(reason or f"unexpected {status} {code or (resp.text or '')[:120]}")
    return status, code


def sign_in_outbox(client: Any, env: Environment, phone: str, ip: str) -> str | None:
    """The real sign-in: request a code, read it from the dev outbox, exchange it for a token."""
    with client.post(f"{API}/auth/otp", json={"phone": phone}, headers=headers(ip, env), name="otp request",
                     catch_response=True) as r:
        status, _ = expect(r, "otp request", {202: ()})
    if status != 202:
        return None
    with client.get(f"{API}/dev/sms-outbox", params={"phone": phone}, headers=headers(ip, env),
                    name="dev outbox", catch_response=True) as r:
        expect(r, "dev outbox", {200: ()})
        try:
            code = r.json()[0]["code"]
        except Exception:  # noqa: BLE001
            r.failure("no code in the outbox (is SMS_BACKEND=outbox?)")
            return None
    with client.post(f"{API}/auth/otp/verify", json={"phone": phone, "code": code}, headers=headers(ip, env),
                     name="otp verify", catch_response=True) as r:
        status, _ = expect(r, "otp verify", {200: ()})
        return r.json()["token"] if status == 200 else None


def next_voter_token(client: Any, env: Environment, ip: str) -> str | None:
    """A fresh voter: the next token of the file, or a new phone signed in by OTP."""
    tf = token_file(env)
    if tf is not None:
        token = tf.take()
        if token is None:
            OUTCOMES["tokens exhausted"] += 1
        return token
    return sign_in_outbox(client, env, new_phone(), ip)


# --- the verdict ----------------------------------------------------------------------------------------

Check = Callable[[Environment], tuple[dict[str, Any], list[str]]]
_CHECKS: list[Check] = []
_SUMMARY: dict[str, Any] = {}
SETUP_ERRORS: list[str] = []


def add_check(fn: Check) -> Check:
    """A scenario check run at quitting: returns (figures for the summary, reasons to fail)."""
    _CHECKS.append(fn)
    return fn


def install(scenario: str) -> None:
    """Register the test_start (campaign) and quitting (verdict) listeners for a scenario file."""

    @events.test_start.add_listener
    def _start(environment: Environment, **_: Any) -> None:
        if not CAMPAIGN.id:
            try:
                load_campaign(environment)
            except Exception as exc:  # noqa: BLE001 - any setup failure ends the run with its reason
                log.error("cannot read the campaign from %s: %r", environment.host, exc)
                SETUP_ERRORS.append(f"cannot read the campaign from {environment.host}: {exc!r}"[:300])
                if environment.runner is not None:
                    gevent.spawn_later(0.1, environment.runner.quit)

    @events.quitting.add_listener
    def _quit(environment: Environment, **_: Any) -> None:
        verdict(environment, scenario)

    atexit.register(_print_summary)


def verdict(env: Environment, scenario: str) -> dict[str, Any]:
    o = opts(env)
    total = env.stats.total
    reasons: list[str] = []
    p95 = total.get_response_time_percentile(0.95) if total.num_requests else 0
    p99 = total.get_response_time_percentile(0.99) if total.num_requests else 0
    elapsed = max(1e-9, (total.last_request_timestamp or time.time()) - (total.start_time or time.time()))
    s: dict[str, Any] = {
        "scenario": scenario, "host": env.host, "campaign_id": CAMPAIGN.id, "sign_in": sign_in_mode(env),
        "requests": total.num_requests, "failures": total.num_failures, "fail_ratio": round(total.fail_ratio, 4),
        "rps": round(total.num_requests / elapsed, 1), "p50_ms": total.get_response_time_percentile(0.5),
        "p95_ms": p95, "p99_ms": p99, "max_ms": round(total.max_response_time or 0),
        "thresholds": {"max_fail_ratio": o.max_fail_ratio, "max_p95_ms": o.max_p95_ms, "max_p99_ms": o.max_p99_ms},
        "by_name": {e.name: {"n": e.num_requests, "fail": e.num_failures,
                             "p95_ms": e.get_response_time_percentile(0.95) if e.num_requests else 0}
                    for e in env.stats.entries.values()},
        "outcomes": dict(sorted(OUTCOMES.items())),
        "errors": {f"{e.name}: {e.error}"[:200]: e.occurrences for e in env.stats.errors.values()},
    }
    reasons += SETUP_ERRORS
    if total.num_requests == 0:
        reasons.append("no requests were made")
    if total.fail_ratio > o.max_fail_ratio:
        reasons.append(f"failure ratio {total.fail_ratio:.4f} > {o.max_fail_ratio}")
    if p95 > o.max_p95_ms:
        reasons.append(f"p95 {p95} ms > {o.max_p95_ms:g} ms")
    if p99 > o.max_p99_ms:
        reasons.append(f"p99 {p99} ms > {o.max_p99_ms:g} ms")
    for check in _CHECKS:
        figures, why = check(env)
        s.update(figures)
        reasons += why
    if OUTCOMES.get("tokens exhausted"):
        s["warnings"] = [f"the tokens file ran out ({OUTCOMES['tokens exhausted']} users stopped early): "
                         "mint more (--tokens N)"]
    s["passed"] = not reasons
    s["reasons"] = reasons
    if reasons:
        env.process_exit_code = 1
    elif not (env.runner and env.runner.exceptions):
        env.process_exit_code = 0  # failures within the tolerated ratio are not a failed run
    s["exit_code"] = env.process_exit_code
    _SUMMARY.clear()
    _SUMMARY.update(s)
    if o.summary_file:
        Path(o.summary_file).write_text(json.dumps(s, ensure_ascii=False))
    return s


def _print_summary() -> None:
    if "scenario" in _SUMMARY:
        print("SUMMARY " + json.dumps(_SUMMARY, ensure_ascii=False), flush=True)


def bootstrap_lock() -> gevent.lock.Semaphore:
    return gevent.lock.Semaphore()
