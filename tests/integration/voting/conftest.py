from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as aioredis
import httpx

from loadtests.pow import solution_header as solve  # noqa: F401 - the tests import it from here
from shared.crypto import VoterTokens, pseudonym
from shared.infra import is_cluster_url
from shared.problem import PROBLEM_JSON
from shared.settings import Settings
from voting_service.app import VotingApp, create_app
from voting_service.state import Services

CLIENT_IP = "203.0.113.7"


@asynccontextmanager
async def app_client(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis, *,
                     ip: str = CLIENT_IP, app: VotingApp | None = None,
                     base_url: str = "http://vote.test") -> AsyncIterator[httpx.AsyncClient]:
    """An app built from ``settings`` (or ``app``, built from them) with services of its own on the given
    resources, driven in-process over ASGI from ``ip``."""
    # httpx's ASGI transport runs the app on the test's own event loop, where the pool and Redis live
    # (Litestar's AsyncTestClient runs it on a portal thread with another loop).
    # The lifespan's anyio scope cannot be left from pytest's teardown task, so the services it would
    # build are built here the same way; the lifespan itself runs in the e2e tests under granian.
    app = app if app is not None else create_app(settings, pool=pool, redis=redis)
    app.state.services = Services.build(settings, pool, redis)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url=base_url
        ) as c:
            yield c
    finally:
        await app.state.services.close()


@pytest.fixture(scope="session")
def voting_app(settings: Settings) -> VotingApp:
    """Routes built once per session (0.05 s per app, hundreds of tests); each test's ``client`` gives it
    services of its own, so nothing but the Prometheus counters (global anyway) outlives a test."""
    return create_app(settings)


@pytest.fixture
async def client(settings: Settings, voting_pool: asyncpg.Pool, voting_redis: aioredis.Redis,
                 voting_app: VotingApp) -> AsyncIterator[httpx.AsyncClient]:
    """The voting app as deployed: logged in to Postgres and Redis as the voting service's own role and user."""
    async with app_client(settings, voting_pool, voting_redis, app=voting_app) as c:
        yield c


def settings_with(env: Mapping[str, str], **overrides: str) -> Settings:
    """The session's settings with some environment variables changed (``OTP_TTL_S="1"``, ...)."""
    return Settings.from_env({**env, **overrides}, service="voting")


async def sign_in(client: httpx.AsyncClient, phone: str, *, solve_pow: bool = False) -> str:
    """The real flow: request a code, read it from the dev outbox, exchange it for a token. ``solve_pow``: a
    428 challenge (e.g. the 5th number of a block in sequence) is solved and the request sent again."""
    r = await client.post("/api/v1/auth/otp", json={"phone": phone})
    if r.status_code == 428 and solve_pow:
        r = await client.post("/api/v1/auth/otp", json={"phone": phone},
                              headers={"X-Challenge-Solution": solve(r.json()["challenge"])})
    assert r.status_code == 202, r.text
    outbox = await client.get("/api/v1/dev/sms-outbox", params={"phone": phone})
    code = outbox.json()[0]["code"]
    r = await client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": code})
    assert r.status_code == 200, r.text
    return r.json()["token"]


async def outbox_code(client: httpx.AsyncClient, phone: str) -> str:
    r = await client.get("/api/v1/dev/sms-outbox", params={"phone": phone})
    assert r.status_code == 200, r.text
    return r.json()[0]["code"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mint_token(settings: Settings, phone: str = "+77010000001", *, now: float | None = None, op: str = "",
               blk: str = "", seq: int = 0) -> str:
    """A voter token signed with the service's key, as the OTP flow would issue (``now`` back-dates it)."""
    tokens = VoterTokens(settings.secrets.token_keys, settings.voter_token_ttl_s)
    voter = pseudonym(settings.secrets.pseudonym_key, "voter", phone)
    token, _ = tokens.issue(voter, now=time.time() if now is None else now, op=op, blk=blk, seq=seq)
    return token


async def cast(client: httpx.AsyncClient, campaign_id: int | str, candidate_id: int | str,
               token: str) -> httpx.Response:
    return await client.post(f"/api/v1/campaigns/{campaign_id}/votes", json={"candidate_id": str(candidate_id)},
                             headers=bearer(token))


def assert_problem(resp: httpx.Response, status: int | tuple[int, ...], code: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem document with the given status (or one of them) and ``code``."""
    allowed = (status,) if isinstance(status, int) else status
    assert resp.status_code in allowed, f"{resp.status_code} not in {allowed}: {resp.text}"
    assert resp.headers["content-type"].split(";")[0] == PROBLEM_JSON, resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == resp.status_code
    assert isinstance(body["code"], str) and body["code"], body
    for field in ("type", "title", "detail"):
        assert field in body, body
    if code is not None:
        assert body["code"] == code, body
    return body


async def redis_dump(redis: aioredis.Redis) -> str:
    """Every key of the test database with its whole value, read by type (streams and their groups too)."""
    out: list[str] = []
    async for key in redis.scan_iter(count=1000):
        kind = await redis.type(key)
        if kind == "string":
            value: Any = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(await redis.smembers(key))
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            groups = await redis.xinfo_groups(key)
            value = {"entries": await redis.xrange(key), "groups": groups,
                     "pending": [await redis.xpending_range(key, g["name"], "-", "+", 10_000) for g in groups]}
        else:
            raise AssertionError(f"unexpected Redis type {kind} of {key}")
        out.append(f"{key} {kind} {value!r}")
    return "\n".join(out)


async def postgres_dump(pool: asyncpg.Pool) -> str:
    """Every row of every table in the public schema, each cast to text (what a dump would contain)."""
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")
        out = []
        for t in tables:
            rows = await conn.fetch(f'SELECT t::text AS row FROM "{t["relname"]}" t')
            out.extend(f'{t["relname"]} {r["row"]}' for r in rows)
    return "\n".join(out)


class RedisProxy:
    """A TCP relay in front of the real Redis that a test can cut: ``mode`` is ``pass`` (relay), ``hang`` (swallow
    every byte, answer nothing: a hung server) or ``reset`` (close every connection, refuse new ones)."""

    def __init__(self, upstream_url: str) -> None:
        # The Redis the tests use (a bundled one on its own port on a machine without a system Redis).
        if is_cluster_url(upstream_url):  # TEST_REDIS_CLUSTER: a relay of one node's port is no cluster
            pytest.skip("RedisProxy stands in front of one Redis server, not a cluster")
        parts = urlsplit(upstream_url)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.mode = "pass"
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> RedisProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "reset":
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        self._writers |= {writer, up_writer}
        pumps = [asyncio.ensure_future(self._pump(reader, up_writer)),
                 asyncio.ensure_future(self._pump(up_reader, writer))]
        self._tasks.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                if self.mode == "pass":
                    dst.write(data)
                    await dst.drain()
        dst.close()

    def cut(self, mode: str) -> None:
        self.mode = mode
        if mode == "reset":
            for w in self._writers:
                w.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in self._writers:
            w.close()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
