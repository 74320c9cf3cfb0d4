from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis.asyncio as aioredis
import httpx

from shared.settings import Settings
from voting_service.app import create_app
from voting_service.state import Services


@pytest.fixture
async def client(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    # httpx's ASGI transport runs the app on the test's own event loop, where the pool and Redis live
    # (Litestar's AsyncTestClient runs it on a portal thread with another loop).
    # The lifespan's anyio scope cannot be left from pytest's teardown task, so the services it would
    # build are built here the same way; the lifespan itself runs in the e2e tests under granian.
    app = create_app(settings, pool=pool, redis=redis)
    app.state.services = Services.build(settings, pool, redis)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)), base_url="http://vote.test"
        ) as c:
            yield c
    finally:
        await app.state.services.close()


async def sign_in(client: httpx.AsyncClient, phone: str) -> str:
    """The real flow: request a code, read it from the dev outbox, exchange it for a token."""
    r = await client.post("/api/v1/auth/otp", json={"phone": phone})
    assert r.status_code == 202, r.text
    outbox = await client.get("/api/v1/dev/sms-outbox", params={"phone": phone})
    code = outbox.json()[0]["code"]
    r = await client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": code})
    assert r.status_code == 200, r.text
    return r.json()["token"]
