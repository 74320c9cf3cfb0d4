"""Fixtures of the admin tests on top of tests/conftest.py: a database of their own per test (for the demo
loader, which must start from an empty schema) and Redis database 14 (flushed before and after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from shared.infra import create_redis
from shared.migrate import migrate_url

DEMO_REDIS_DB = 14


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + path))


@asynccontextmanager
async def temporary_database(server_url: str) -> AsyncIterator[str]:
    """A new database on the server of ``server_url``, migrated, dropped afterwards."""
    name = f"faces_admin_{uuid.uuid4().hex[:10]}"
    maintenance = with_path(server_url, "postgres")
    conn = await asyncpg.connect(maintenance)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_path(server_url, name)
    try:
        await migrate_url(url)
        yield url
    finally:
        conn = await asyncpg.connect(maintenance)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def fresh_database_url(server_url: str) -> AsyncIterator[str]:
    async with temporary_database(server_url) as url:
        yield url


@pytest.fixture
async def demo_redis() -> AsyncIterator[tuple[str, aioredis.Redis]]:
    url = with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), str(DEMO_REDIS_DB))
    r = create_redis(url, timeout_s=2.0)
    await r.flushdb()
    try:
        yield url, r
    finally:
        await r.flushdb()
        await r.aclose()
