"""The voting service as granian serves it in production: RSGI, the vote route answered natively
(voting_service/fastpath.py, ``VoteFastPath.rsgi``) and every other request through the ASGI bridge
(shared/rsgi.py) to the Litestar app.

Every request is sent twice on fresh state: to the real RSGI server and to the same app in process with
the fast path bypassed (Litestar alone, over ASGI). Status, headers and body must match, receipts and the
headers only a real server adds aside.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from litestar import Litestar

from devtools.ports import free_port
from tests.e2e.conftest import wait_for
from tests.factories import make_campaign
from tests.http import http, ssl_context
from tests.integration.voting.conftest import CLIENT_IP, settings_with
from tests.integration.voting.test_vote_fastpath import RECEIPT, _cases
from voting_service.app import create_app
from voting_service.state import Services

pytestmark = pytest.mark.e2e

CASES = ["accepted", "already_voted", "limit", "not_on_ballot", "unknown_campaign", "bad_campaign_id", "closed",
         "no_token", "bad_token", "basic_auth", "form", "no_ctype", "problem_json_ctype", "unknown_field",
         "wrong_type", "missing", "empty_id", "too_long_id", "malformed", "bad_utf8", "array", "too_big", "get",
         "rate_limited"]
SERVER_ONLY = {"date", "server", "connection"}  # added by granian (and hyper), absent in process


class Served:
    def __init__(self, env: dict[str, str], extra: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voting_service", "serve", "--port", str(self.port), "--workers", "1"],
            env={**os.environ, **env, **extra}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        wait_for(self._live, 30, "the RSGI server to answer")

    def _live(self) -> bool:
        assert self.proc.poll() is None, self.proc.communicate()[0]
        try:
            return http().get(f"{self.base}/health/live", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, _ = self.proc.communicate()
        return self.proc.returncode, out


@pytest.fixture(scope="module")
def servers(env: dict[str, str]) -> Iterator[Callable[..., Served]]:
    """One server per distinct environment, started on first use and stopped after the module."""
    started: dict[tuple[tuple[str, str], ...], Served] = {}

    def get(**extra: str) -> Served:
        key = tuple(sorted(extra.items()))
        if key not in started:
            started[key] = Served(env, extra)
        return started[key]

    yield get
    for s in started.values():
        s.stop()


def _normal(status: int, raw_headers: list[tuple[bytes, bytes]], content: bytes):
    headers = sorted((k.lower(), b", ".join(sorted(v.split(b", "))) if k.lower() == b"allow" else v)
                     for k, v in raw_headers if k.lower().decode() not in SERVER_ONLY)
    return status, headers, RECEIPT.sub(b'"receipt":"R"', content)


@pytest.fixture
async def litestar_only(settings, pool, redis) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Clients of the app in process with the fast path bypassed (what Litestar alone answers)."""
    apps = []

    def client(app_settings=None) -> httpx.AsyncClient:
        app = create_app(app_settings or settings, pool=pool, redis=redis)
        app.state.services = Services.build(app_settings or settings, pool, redis)
        apps.append(app)

        async def plain(scope, receive, send):
            await Litestar.__call__(app, scope, receive, send)

        return httpx.AsyncClient(transport=httpx.ASGITransport(app=plain, client=(CLIENT_IP, 40000)),
                                 base_url="http://vote.test")

    yield client
    for app in apps:
        await app.state.services.close()


@pytest.mark.parametrize("case", CASES)
async def test_vote_route_over_rsgi_answers_like_litestar(env, settings, pool, redis, servers, litestar_only,
                                                          case):
    extra = {"VOTE_LIMIT_VOTER": "1"} if case == "rate_limited" else {}
    server = servers(**extra)
    app_settings = settings_with(env, **extra) if extra else settings
    answers = []
    for served in (True, False):
        camp = await make_campaign(pool, redis, candidates=3, k=1)
        closed = await make_campaign(pool, redis, candidates=1, opens_in=dt.timedelta(hours=1))
        client = (httpx.AsyncClient(verify=ssl_context(), base_url=server.base, timeout=5) if served
                  else litestar_only(app_settings))
        got = []
        async with client:
            for method, path, headers, body in _cases(app_settings, camp, closed,
                                                      f"+7702{camp.id % 10_000_000:07d}")[case]:
                r = await client.request(method, path, headers=headers, content=body)
                status, hdrs, content = _normal(r.status_code, r.headers.raw, r.content)
                for n, c in enumerate(camp.candidate_ids):
                    content = content.replace(str(c).encode(), b"cand%d" % n)
                content = content.replace(str(camp.id).encode(), b"camp").replace(str(closed.id).encode(), b"shut")
                got.append((status, hdrs, content))
        answers.append(got)
    rsgi, plain = answers
    assert rsgi == plain
    expected = {"accepted": [201], "already_voted": [201, 409], "limit": [201, 409], "closed": [403],
                "rate_limited": [201, 429], "too_big": [413], "get": [405], "no_ctype": [415]}
    if case in expected:
        assert [a[0] for a in rsgi] == expected[case]


async def _chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    """A request body httpx sends with chunked transfer encoding (no content length)."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def test_other_routes_pass_through_the_bridge_unchanged(settings, pool, redis, servers, litestar_only):
    server = servers()
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    big = b'{"phone":"' + b"7" * (settings.max_body_bytes + 100) + b'"}'

    def requests(phone: str) -> list[tuple[str, str, dict[str, str], object]]:
        otp = b'{"phone":"%s"}' % phone.encode()
        return [
            ("GET", "/health/live", {}, None),
            ("GET", "/health/ready", {}, None),
            ("GET", "/api/v1/campaigns/", {}, None),
            ("GET", f"/api/v1/campaigns/{camp.id}", {}, None),
            ("GET", f"/api/v1/campaigns/{camp.id}/candidates", {}, None),
            ("GET", f"/api/v1/campaigns/{camp.id}/results", {}, None),
            ("GET", "/api/v1/campaigns/%61bc", {}, None),  # percent-encoded path: "abc" once decoded
            ("GET", "/api/v1/receipts/nope", {}, None),
            ("GET", "/no/such/route", {}, None),
            ("DELETE", "/health/live", {}, None),
            ("POST", "/api/v1/auth/otp", {"content-type": "application/json"}, otp),
            ("POST", "/api/v1/auth/otp", {"content-type": "text/plain"}, otp),
            ("POST", "/api/v1/auth/otp", {"content-type": "application/json"}, big),
            # chunked: the bridge streams the body in and Litestar enforces the size limit itself
            ("POST", "/api/v1/auth/otp", {"content-type": "application/json"}, _chunks(big, 1024)),
            # a small chunked body is read whole: the phone in it is already in its resend cooldown (429)
            ("POST", "/api/v1/auth/otp", {"content-type": "application/json"}, _chunks(otp, 3)),
            ("GET", f"/api/v1/dev/sms-outbox?phone={phone.replace('+', '%2B')}&x=%20y", {}, None),
        ]

    answers = []
    for served, phone in ((True, "+77015550198"), (False, "+77015550199")):
        got = []
        client = httpx.AsyncClient(verify=ssl_context(), base_url=server.base, timeout=5) if served else litestar_only()
        async with client:
            for method, path, headers, body in requests(phone):
                r = await client.request(method, path, headers=headers, content=body)
                if "sms-outbox" in path:  # one-time codes differ: the messages' shape must not
                    got.append((r.status_code, sorted(m["phone"] for m in r.json())))
                    continue
                got.append(_normal(r.status_code, r.headers.raw, r.content.replace(phone.encode(), b"PHONE")))
        answers.append(got)
    rsgi, plain = answers
    n_sms = len(plain[-1][1])
    assert n_sms >= 1 and rsgi[-1] == (200, ["+77015550198"] * n_sms) and plain[-1] == (200, ["+77015550199"] * n_sms)
    for n, (a, b) in enumerate(zip(rsgi[:-1], plain[:-1])):
        if n == 5:  # live results carry the time they were computed: status and headers only
            assert a[:2] == b[:2]
            continue
        assert a == b, requests("+7")[n][:2]
    assert [a[0] for a in rsgi[:-1]] == [200, 200, 200, 200, 200, 200, 404, 404, 404, 405, 202, 415, 413, 413, 429]


async def test_lifespan_runs_and_sigterm_stops_cleanly(env, servers):
    server = Served(env, {})
    try:
        r = http().get(f"{server.base}/health/ready", timeout=5)  # needs the services the lifespan built
        assert r.status_code == 200, r.text
        assert http().get(f"{server.base}/metrics", timeout=5).status_code == 200
    finally:
        code, out = server.stop()
    assert code == 0, out
    assert "Traceback" not in out, out


async def test_proof_of_work_over_rsgi(env, pool, redis, servers):
    """Issue 12 on the native RSGI vote route: past the address's soft limit a vote answers 428 with a challenge;
    garbage or a replayed solution is 403 challenge_failed, the right one is counted; two header lines go to
    Litestar (the fast path answers one line at most), which reads the first."""
    from tests.integration.voting.conftest import bearer, mint_token
    from tests.integration.voting.conftest import solve

    extra = {"VOTE_LIMIT_IP": "1", "CHALLENGE_BASE_MAXNUMBER": "1000", "CHALLENGE_MAX_MAXNUMBER": "8000"}
    server = servers(**extra)
    s = settings_with(env, **extra)
    camp = await make_campaign(pool, redis, candidates=2, k=2, shards=16)

    async def vote(n: int, headers=()) -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.base, timeout=5) as c:
            return await c.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(camp.candidate_ids[0])},
                                headers=[*bearer(mint_token(s, f"+7703{camp.id % 1000:03d}{n:04d}")).items(), *headers])

    assert (await vote(0)).status_code == 201
    r = await vote(1)
    assert r.status_code == 428 and r.json()["code"] == "challenge_required"
    good = solve(r.json()["challenge"])
    for junk in ("", "garbage", "e30=", "A" * 3000):
        r = await vote(1, [("X-Challenge-Solution", junk)])
        assert r.status_code == 403 and r.json()["code"] == "challenge_failed", r.text
    r = await vote(1, [("X-Challenge-Solution", "junk"), ("X-Challenge-Solution", good)])
    assert r.status_code == 403 and r.json()["code"] == "challenge_failed"
    assert (await vote(1, [("X-Challenge-Solution", good)])).status_code == 201
    r = await vote(2, [("X-Challenge-Solution", good)])
    assert r.status_code == 403 and "already used" in r.json()["detail"]
