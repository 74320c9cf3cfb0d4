"""Admin service skeleton on the real Postgres and Redis: probes, metrics, OpenAPI, resource ownership."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
import httpx
from litestar import Litestar, get, post
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from admin_service.app import TITLE, create_app
from shared.infra import create_pool, create_redis
from shared.settings import Settings

OPS = Path(__file__).resolve().parents[3] / "ops"
PROBLEM_JSON = "application/problem+json"


@asynccontextmanager
async def serve(app: Litestar, *, lifespan: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    """Drive ``app`` over ASGI on the test's own event loop, where the pool and Redis client live
    (Litestar's AsyncTestClient would run it on a portal thread with another loop)."""
    async with AsyncExitStack() as stack:
        if lifespan:
            await stack.enter_async_context(app.lifespan())
        yield await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8001"))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    r = create_redis(redis_url)
    yield r
    await r.aclose()


@pytest.fixture
async def client(admin_settings: Settings, pool: asyncpg.Pool,
                 redis_client: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(admin_settings, pool=pool, redis=redis_client)) as c:
        yield c


async def test_live(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready_when_postgres_and_redis_answer(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


async def test_ready_503_when_redis_port_is_closed(admin_settings: Settings, pool: asyncpg.Pool) -> None:
    dead = create_redis(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        async with serve(create_app(admin_settings, pool=pool, redis=dead)) as c:
            r = await c.get("/health/ready")
    finally:
        await dead.aclose()
    assert r.status_code == 503
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body = r.json()
    assert body["code"] == "unavailable"
    assert body["status"] == 503
    assert body["checks"] == {"postgres": "ok", "redis": "unavailable"}
    assert r.headers["retry-after"] == "1"


async def test_ready_503_when_postgres_is_down(admin_settings: Settings, redis_client: aioredis.Redis) -> None:
    dead = await create_pool(f"postgresql://127.0.0.1:{closed_port()}/postgres")  # min_size 0: no connect yet
    try:
        async with serve(create_app(admin_settings, pool=dead, redis=redis_client)) as c:
            r = await c.get("/health/ready")
    finally:
        await dead.close()
    assert r.status_code == 503
    assert r.json()["code"] == "unavailable"
    assert r.json()["checks"] == {"postgres": "unavailable", "redis": "ok"}


async def test_ready_gives_up_on_a_hung_redis_within_about_a_second(admin_settings: Settings, pool: asyncpg.Pool) -> None:
    # A server that accepts connections and never answers: the probe must not hang with it.
    held: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    hung = create_redis(f"redis://127.0.0.1:{port}/0", timeout_s=30.0)
    try:
        async with serve(create_app(admin_settings, pool=pool, redis=hung)) as c:
            started = time.monotonic()
            r = await c.get("/health/ready")
            elapsed = time.monotonic() - started
    finally:
        await hung.aclose()
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()
    assert r.status_code == 503
    assert r.json()["checks"]["redis"] == "unavailable"
    assert elapsed < 2.5


async def test_metrics_label_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/schema/openapi.json")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert ('litestar_requests_total{app_name="admin",method="GET",path="/schema/openapi.json",status_code="200"}'
            in r.text)
    assert re.search(r'^litestar_request_duration_seconds_bucket\{app_name="admin",le="0\.025",method="GET",'
                     r'path="/schema/openapi.json",status_code="200"\} ', r.text, re.M)
    # Probes and scrapes are excluded: they would drown the request metrics.
    assert 'app_name="admin",method="GET",path="/health/live"' not in r.text


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == TITLE == "100 New Faces — admin"
    assert {"/health/live", "/health/ready"} <= set(doc["paths"])
    assert "/metrics" not in doc["paths"]


async def test_unknown_route_is_a_problem_document(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.json()["code"] == "not_found"


async def test_resources_handed_in_are_left_open(admin_settings: Settings, pool: asyncpg.Pool,
                                                 redis_client: aioredis.Redis) -> None:
    async with serve(create_app(admin_settings, pool=pool, redis=redis_client)) as c:
        assert (await c.get("/health/ready")).status_code == 200
    assert await pool.fetchval("SELECT 1") == 1
    assert await redis_client.ping() is True


async def test_resources_created_by_the_app_are_closed_on_shutdown(admin_settings: Settings) -> None:
    app = create_app(admin_settings)
    async with serve(app, lifespan=True) as c:
        assert (await c.get("/health/ready")).status_code == 200
        assert app.state.services is not None
    assert app.state.services is None


async def test_ops_files_use_the_metric_names_litestar_emits() -> None:
    """The alert rules and the dashboard query what the voting service's middleware really exports
    (same config as the lead's: app_name="voting", prefix="litestar", group_path=True)."""

    @post("/api/v1/campaigns/{campaign_id:int}/votes", status_code=201)
    async def vote() -> dict[str, str]:
        return {"receipt": "r"}

    @get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    config = PrometheusConfig(app_name="voting", prefix="litestar", group_path=True)
    app = Litestar([vote, ready, PrometheusController], middleware=[config.middleware])
    async with serve(app) as c:
        assert (await c.post("/api/v1/campaigns/17/votes")).status_code == 201
        await c.get("/health/ready")
        scraped = (await c.get("/metrics")).text

    vote_labels = 'method="POST",path="/api/v1/campaigns/{campaign_id}/votes",status_code="201"'
    assert f'litestar_requests_total{{app_name="voting",{vote_labels}}} ' in scraped
    assert f'litestar_request_duration_seconds_bucket{{app_name="voting",le="0.025",{vote_labels}}} ' in scraped

    exported = set(re.findall(r"^(litestar_[a-z_]+)", scraped, re.M))
    rules = (OPS / "prometheus" / "alerts.yml").read_text("utf-8")
    dashboard = json.loads((OPS / "grafana" / "dashboards" / "voting.json").read_text("utf-8"))
    queries = rules + "\n".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    used = set(re.findall(r"\b(litestar_[a-z_]+)", queries))
    assert used, "the ops files should query the HTTP metrics"
    assert used <= exported, f"not exported by litestar: {sorted(used - exported)}"
    assert 'path="/api/v1/campaigns/{campaign_id}/votes"' in rules
