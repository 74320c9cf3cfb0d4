"""The portal's pages, driven in-process over ASGI like the API tests (tests/integration/voting/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from shared.settings import Settings
from tests.integration.voting.conftest import app_client
from voting_service.app import VotingApp, create_app

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture(scope="session")
def portal_app(settings: Settings) -> VotingApp:
    return create_app(settings)


@pytest.fixture
async def browser(settings: Settings, voting_pool: asyncpg.Pool, voting_redis: aioredis.Redis,
                  portal_app: VotingApp) -> AsyncIterator[httpx.AsyncClient]:
    """A browser's requests (Accept: text/html) to the voting app as deployed: logged in to Postgres and Redis
    as the voting service's own role and user (a page that needs a grant the migrations do not give fails)."""
    async with app_client(settings, voting_pool, voting_redis, app=portal_app) as c:
        c.headers.update(BROWSER)
        yield c
