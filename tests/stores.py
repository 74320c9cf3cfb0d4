"""Fixtures: the services' restricted Postgres roles and Redis ACL users for one test session.

Roles and ACL users are server-wide and the servers are shared (other test runs, CI), so each session creates
its own, with a random suffix, and removes them at the end; the NOLOGIN groups they join are created by
migration 0005 (idempotent) and stay. The owner connections (``pool``, ``redis``) stay as they are: fixtures
set data up and flush the test database through them.

``service_env``   VOTING_/FLUSHER_/ADMIN_DATABASE_URL and _REDIS_URL of this session (also in ``env``)
``voting_pool`` / ``flusher_pool`` / ``admin_pool``     asyncpg pools logged in as the services' roles
``voting_redis`` / ``flusher_redis`` / ``admin_redis``  Redis clients logged in as the services' ACL users
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping

import asyncpg
import pytest
import redis.asyncio as aioredis

from shared import store_access
from shared.infra import create_pool, create_redis

SUFFIX = secrets.token_hex(4)


def role_name(service: str) -> str:
    return f"faces_t{SUFFIX}_{service}"


def acl_user(service: str) -> str:
    return f"faces-t{SUFFIX}-{service}"


def pointing_at(env: Mapping[str, str], store: str, url: str) -> dict[str, str]:
    """``env`` with every service's ``store`` ("DATABASE" or "REDIS") URL, and the owner's, set to ``url``: for a
    test that runs the services against a private server of its own (which has no restricted roles or users)."""
    return {**env, f"{store}_URL": url, **{f"{s.upper()}_{store}_URL": url for s in store_access.SERVICES}}


@pytest.fixture(scope="session")
async def service_database_urls(server_url: str, database_url: str) -> AsyncIterator[dict[str, str]]:
    owner = await asyncpg.connect(server_url)
    created: list[str] = []
    try:
        urls = {}
        for service in store_access.SERVICES:
            password = store_access.new_password()
            await store_access.provision_postgres_login(owner, service, role_name(service), password)
            created.append(role_name(service))
            urls[store_access.database_var(service)] = store_access.with_credentials(
                database_url, role_name(service), password)
        yield urls
    finally:
        for name in created:
            await store_access.drop_postgres_login(owner, name)
        await owner.close()


@pytest.fixture(scope="session")
async def service_redis_urls(redis_url: str) -> AsyncIterator[dict[str, str]]:
    owner = create_redis(redis_url, timeout_s=5)  # a cluster client on a cluster: users on every node
    created: list[str] = []
    try:
        urls = {}
        for service in store_access.SERVICES:
            password = store_access.new_password()
            await store_access.provision_redis_user(owner, service, acl_user(service), password)
            created.append(acl_user(service))
            urls[store_access.redis_var(service)] = store_access.with_credentials(
                redis_url, acl_user(service), password)
        yield urls
    finally:
        for name in created:
            await store_access.delete_redis_user(owner, name)
        await owner.aclose()


@pytest.fixture(scope="session")
def service_env(service_database_urls: dict[str, str], service_redis_urls: dict[str, str]) -> dict[str, str]:
    return {**service_database_urls, **service_redis_urls}


async def _pool(service_env: dict[str, str], service: str) -> asyncpg.Pool:
    return await create_pool(service_env[store_access.database_var(service)], min_size=1, max_size=8)


@pytest.fixture(scope="session")
async def voting_pool(service_env: dict[str, str]) -> AsyncIterator[asyncpg.Pool]:
    p = await _pool(service_env, "voting")
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def flusher_pool(service_env: dict[str, str]) -> AsyncIterator[asyncpg.Pool]:
    p = await _pool(service_env, "flusher")
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def admin_pool(service_env: dict[str, str]) -> AsyncIterator[asyncpg.Pool]:
    p = await _pool(service_env, "admin")
    yield p
    await p.close()


async def _redis(service_env: dict[str, str], service: str) -> aioredis.Redis:
    return create_redis(service_env[store_access.redis_var(service)], timeout_s=2.0)


# Function-scoped like ``redis`` (which they depend on, so the test database is flushed first).
@pytest.fixture
async def voting_redis(service_env: dict[str, str], redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    r = await _redis(service_env, "voting")
    yield r
    await r.aclose()


@pytest.fixture
async def flusher_redis(service_env: dict[str, str], redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    r = await _redis(service_env, "flusher")
    yield r
    await r.aclose()


@pytest.fixture
async def admin_redis(service_env: dict[str, str], redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    r = await _redis(service_env, "admin")
    yield r
    await r.aclose()
