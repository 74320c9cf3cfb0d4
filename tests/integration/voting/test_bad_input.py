"""Bad input on every POST route: always a 4xx problem document with a ``code``, never a 500, nothing stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.factories import make_campaign
from tests.integration.voting.conftest import assert_problem, bearer, mint_token
from tests.integration.voting.test_nominations_api import nomination

PHONE = "+77087654321"
JSON = {"content-type": "application/json"}


@dataclass
class Route:
    url: str
    headers: dict[str, str]
    valid: dict
    wrong_types: list[dict]


async def routes(pool, redis, settings) -> dict[str, Route]:
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    token = mint_token(settings, PHONE)
    cand = str(camp.candidate_ids[0])
    return {
        "otp": Route("/api/v1/auth/otp", {}, {"phone": PHONE},
                     [{"phone": [PHONE]}, {"phone": 77087654321}, {"phone": None}, {"phone": {"n": PHONE}}]),
        "verify": Route("/api/v1/auth/otp/verify", {}, {"phone": PHONE, "code": "123456"},
                        [{"phone": PHONE, "code": 123456}, {"phone": [PHONE], "code": "123456"},
                         {"phone": PHONE, "code": None}, {"phone": PHONE}]),
        "votes": Route(f"/api/v1/campaigns/{camp.id}/votes", bearer(token), {"candidate_id": cand},
                       [{"candidate_id": int(cand)}, {"candidate_id": [cand]}, {"candidate_id": None},
                        {"candidate_id": ""}, {"candidate_id": "9" * 33}, {}]),
        "nominations": Route("/api/v1/nominations", {}, nomination(),
                             [nomination(nominee="Ерлан"), nomination(achievements={"claim": "Успех"}),
                              nomination(story=["История"] * 5), nomination(nominee__gender=1)]),
    }


async def snapshot(pool, redis) -> tuple[int, int, frozenset[str], dict[str, int]]:
    """Everything a request could have stored: nominations, votes, Redis keys and stream lengths."""
    async with pool.acquire() as conn:
        noms = await conn.fetchval("SELECT count(*) FROM nominations")
        votes = await conn.fetchval("SELECT count(*) FROM votes")
    names = frozenset([k async for k in redis.scan_iter(count=1000)])
    streams = {k: await redis.xlen(k) for k in names if await redis.type(k) == "stream"}
    return noms, votes, names, streams


@pytest.fixture
async def harness(client, pool, redis, settings) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Route]]]:
    table = await routes(pool, redis, settings)
    before = await snapshot(pool, redis)
    yield client, table
    assert await snapshot(pool, redis) == before, "a refused request stored something"


ROUTES = ["otp", "verify", "votes", "nominations"]

# (name, raw body) pairs sent as application/json: none is a valid request for any route.
MALFORMED = {
    "truncated": b'{"phone": ',
    "trailing comma": b'{"phone": "+77087654321",}',
    "single quotes": b"{'phone': '+77087654321'}",
    "not utf-8": b'{"phone": "\xff\xfe"}',
    "nan": b'{"phone": NaN}',
    "top-level null": b"null",
    "top-level list": b"[]",
    "top-level string": b'"+77087654321"',
    "top-level number": b"42",
    "deep nesting": b"[" * 5000 + b"]" * 5000,
    "empty": b"",
    "whitespace": b"   ",
}


@pytest.mark.parametrize("name", list(MALFORMED))
@pytest.mark.parametrize("route", ROUTES)
async def test_malformed_json(harness, route, name):
    client, table = harness
    r = await client.post(table[route].url, content=MALFORMED[name], headers={**JSON, **table[route].headers})
    assert_problem(r, (400, 422), "invalid_request")


@pytest.mark.parametrize("route", ROUTES)
async def test_unknown_field(harness, route):
    client, table = harness
    body = {**table[route].valid, "is_admin": True}
    r = await client.post(table[route].url, json=body, headers=table[route].headers)
    problem = assert_problem(r, (400, 422), "invalid_request")
    assert "is_admin" in json.dumps(problem)  # says which field


@pytest.mark.parametrize("route", ROUTES)
async def test_wrong_types(harness, route):
    client, table = harness
    for body in table[route].wrong_types:
        r = await client.post(table[route].url, json=body, headers=table[route].headers)
        assert_problem(r, (400, 422), "invalid_request")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x",
                                   "application/xml", None])
@pytest.mark.parametrize("route", ROUTES)
async def test_wrong_content_type(harness, route, ctype):
    client, table = harness
    headers = dict(table[route].headers)
    if ctype is not None:
        headers["content-type"] = ctype
    r = await client.post(table[route].url, content=json.dumps(table[route].valid).encode(), headers=headers)
    assert_problem(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("route", ROUTES)
async def test_body_over_the_limit(harness, settings, route):
    client, table = harness
    assert settings.max_body_bytes == 16 * 1024
    body = json.dumps({**table[route].valid, "pad": "x" * settings.max_body_bytes}).encode()
    r = await client.post(table[route].url, content=body, headers={**JSON, **table[route].headers})
    assert_problem(r, 413, "payload_too_large")


@pytest.mark.parametrize("route", ROUTES)
async def test_streamed_body_over_the_limit(harness, settings, route):
    """No Content-Length (chunked): the limit must hold while the body is read."""
    client, table = harness

    async def chunks():
        yield b'{"pad": "'
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    r = await client.post(table[route].url, content=chunks(), headers={**JSON, **table[route].headers})
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload_too_large")


@pytest.mark.parametrize("route", ROUTES)
async def test_json_with_charset_is_accepted(client, pool, redis, settings, route):
    """The content-type check must not refuse ordinary clients: a valid body goes through."""
    table = await routes(pool, redis, settings)
    r = await client.post(table[route].url, content=json.dumps(table[route].valid).encode(),
                          headers={"content-type": "application/json; charset=utf-8", **table[route].headers})
    assert r.status_code < 500 and r.status_code not in (400, 413, 415), r.text
    if route != "verify":  # no code was requested, so verify says invalid_code
        assert r.status_code in (201, 202), r.text


async def test_unknown_route_and_method(client):
    assert_problem(await client.get("/api/v1/nope"), 404)
    assert_problem(await client.put("/api/v1/nominations", json={}), 405)
    assert_problem(await client.delete("/api/v1/auth/otp"), 405)
