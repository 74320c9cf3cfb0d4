"""The vote's fast path (voting_service/fastpath.py) answers exactly as the Litestar route does.

Each case is sent twice on fresh state: once to the app as served (fast path in front) and once to the same
app with the fast path bypassed (Litestar alone). Status, headers and body must be identical, receipts aside.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from litestar import Litestar

from tests.factories import make_campaign
from tests.integration.voting.conftest import CLIENT_IP, mint_token, settings_with
from voting_service.app import create_app
from voting_service.state import Services

RECEIPT = re.compile(rb'"receipt":"[^"]+"')


async def _answer(app, bypass: bool, method: str, path: str, headers: dict[str, str], body: bytes):
    async def litestar_only(scope, receive, send):
        await Litestar.__call__(app, scope, receive, send)

    transport = httpx.ASGITransport(app=litestar_only if bypass else app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://vote.test") as c:
        r = await c.request(method, path, headers=headers, content=body)
    hdrs = [(k, b", ".join(sorted(v.split(b", "))) if k.lower() == b"allow" else v)  # Litestar's set order
            for k, v in r.headers.raw if k.lower() != b"date"]
    return r.status_code, hdrs, RECEIPT.sub(b'"receipt":"R"', r.content)


def _cases(settings, camp, closed, other_token_phone="+77010000042"):
    tok = mint_token(settings, other_token_phone)
    cid, cand = camp.id, str(camp.candidate_ids[0])
    auth = {"authorization": f"Bearer {tok}", "content-type": "application/json"}
    vote = f"/api/v1/campaigns/{cid}/votes"
    body = b'{"candidate_id":"%s"}' % cand.encode()
    return {
        "accepted": [("POST", vote, auth, body)],
        "already_voted": [("POST", vote, auth, body)] * 2,
        "limit": [("POST", vote, auth, b'{"candidate_id":"%s"}' % str(c).encode()) for c in camp.candidate_ids[:2]],
        "not_on_ballot": [("POST", vote, auth, b'{"candidate_id":"999999999"}')],
        "unknown_campaign": [("POST", "/api/v1/campaigns/987654321/votes", auth, body)],
        "bad_campaign_id": [("POST", "/api/v1/campaigns/abc/votes", auth, body)],
        "closed": [("POST", f"/api/v1/campaigns/{closed.id}/votes", auth, body)],
        "no_token": [("POST", vote, {"content-type": "application/json"}, body)],
        "bad_token": [("POST", vote, {**auth, "authorization": "Bearer x.y"}, body)],
        "basic_auth": [("POST", vote, {**auth, "authorization": "Basic abc"}, body)],
        "form": [("POST", vote, {**auth, "content-type": "application/x-www-form-urlencoded"}, b"candidate_id=1")],
        "no_ctype": [("POST", vote, {"authorization": auth["authorization"]}, body)],
        "problem_json_ctype": [("POST", vote, {**auth, "content-type": "application/vnd.x+json; charset=utf-8"},
                                body)],
        "unknown_field": [("POST", vote, auth, b'{"candidate_id":"1","x":1}')],
        "wrong_type": [("POST", vote, auth, b'{"candidate_id":1}')],
        "missing": [("POST", vote, auth, b"{}")],
        "empty_id": [("POST", vote, auth, b'{"candidate_id":""}')],
        "too_long_id": [("POST", vote, auth, b'{"candidate_id":"%s"}' % (b"1" * 33))],
        "malformed": [("POST", vote, auth, b'{"candidate_id":')],
        "bad_utf8": [("POST", vote, auth, b'{"candidate_id":"\xff"}')],
        "array": [("POST", vote, auth, b"[]")],
        "too_big": [("POST", vote, auth, b'{"candidate_id":"1","pad":"' + b"x" * (settings.max_body_bytes + 10)
                     + b'"}')],
        "get": [("GET", vote, auth, b"")],
        "rate_limited": [("POST", vote, auth, body)] * 2,
    }


@pytest.mark.parametrize("case", ["accepted", "already_voted", "limit", "not_on_ballot", "unknown_campaign",
                                  "bad_campaign_id", "closed", "no_token", "bad_token", "basic_auth", "form",
                                  "no_ctype", "problem_json_ctype", "unknown_field", "wrong_type", "missing",
                                  "empty_id", "too_long_id", "malformed", "bad_utf8", "array", "too_big", "get", "rate_limited"])
async def test_fast_path_answers_like_litestar(env, settings, pool, redis, case):
    if case == "rate_limited":
        settings = settings_with(env, VOTE_LIMIT_VOTER="1")
    answers = []
    for bypass in (False, True):
        camp = await make_campaign(pool, redis, candidates=3, k=1)
        closed = await make_campaign(pool, redis, candidates=1, opens_in=dt.timedelta(hours=1))
        app = create_app(settings, pool=pool, redis=redis)
        app.state.services = Services.build(settings, pool, redis)
        try:
            got = []
            # A fresh voter per run: the same sequence of requests meets the same state.
            for method, path, headers, body in _cases(settings, camp, closed, f"+7701{camp.id % 10_000_000:07d}")[case]:
                status, hdrs, content = await _answer(app, bypass, method, path, headers, body)
                # The two runs use two campaigns: name their ids alike (same digit counts, so same lengths).
                for n, c in enumerate(camp.candidate_ids):
                    content = content.replace(str(c).encode(), b"cand%d" % n)
                content = content.replace(str(camp.id).encode(), b"camp").replace(str(closed.id).encode(), b"shut")
                got.append((status, hdrs, content))
            answers.append(got)
        finally:
            await app.state.services.close()
    fast, plain = answers
    assert fast == plain
    expected = {"accepted": [201], "already_voted": [201, 409], "limit": [201, 409], "not_on_ballot": [404],
                "unknown_campaign": [404], "closed": [403], "rate_limited": [201, 429]}
    if case in expected:  # outcomes the fast path renders itself
        assert [a[0] for a in fast] == expected[case]
    if case == "rate_limited":
        assert (b"retry-after", b"10") in fast[1][1]
