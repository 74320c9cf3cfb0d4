"""Fixtures on the real servers: one fresh database per test session built by the real migrations, a
dedicated Redis database flushed before each test. ``DATABASE_URL`` / ``REDIS_URL`` name the servers
(default: the local ones); tests never touch the databases they are pointed at, only ones they create."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from shared.crypto import new_contact_keypair
from shared.infra import create_pool, create_redis
from shared.settings import Settings
from tests.databases import create_database, drop_all, drop_database
from tests.redis_dbs import redis_db
from tests.stores import (  # noqa: F401 - fixtures: the services' restricted roles and ACL users
    admin_pool, admin_redis, flusher_pool, flusher_redis, service_database_urls, service_env, service_redis_urls,
    voting_pool, voting_redis,
)

REDIS_TEST_DB = redis_db("TEST")

# ``make test`` runs the suite in two phases (devtools/devstack.py): "parallel" (every test but the ``alone``
# ones, in pytest-xdist workers) then "alone" (the load generators: bench, finalise-bench and locust smoke tests,
# one at a time, so that they neither starve nor are starved by the timing-sensitive tests, nor take the
# server's connections from them). Unset, as in a plain ``pytest`` run: everything.
PHASE = os.environ.get("FACES_TEST_PHASE", "")
# The first phase writes the ``alone`` tests it left out there, one node id a line; the second phase collects only
# their files (not the ~100 others: ~10 s), and devstack skips it when there is none.
ALONE_REPORT = os.environ.get("FACES_TEST_ALONE_REPORT", "")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if PHASE != "alone" or not ALONE_REPORT or not os.path.exists(ALONE_REPORT):
        return None
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    with open(ALONE_REPORT, encoding="utf-8") as f:
        files = {config.rootpath / line.split("::", 1)[0] for line in f if line.strip()}
    return collection_path not in files or None


def _duration_rank(item: pytest.Item) -> int:
    """Roughly how long the item's file takes, for xdist's queue: the browser tests' files (a page survey is a
    minute or more), then the other end-to-end and the contract fuzzing files (seconds to tens of seconds a
    test), then the rest (mostly well under a second a test)."""
    parts = item.nodeid.split("::", 1)[0].split("/")
    if parts[:2] == ["tests", "e2e"]:
        return 0 if parts[-1].endswith("_browser.py") else 1
    return 1 if parts[:2] == ["tests", "contract"] else 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):
        # In an xdist worker (every worker collects the same list, in this order): the longest files first, so
        # that no minute-long file starts near the end while the other worker runs out of work. A stable sort on
        # a per-file key keeps each file's tests together and in their order. ``make test`` passes
        # ``--no-loadscope-reorder`` so that --dist loadfile keeps this order (by default it queues the files
        # with the most tests first, which put the page surveys, three tests a file, at the tail).
        items.sort(key=_duration_rank)
    if PHASE not in ("parallel", "alone"):
        return
    keep, drop = [], []
    for item in items:
        (keep if (item.get_closest_marker("alone") is not None) == (PHASE == "alone") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    if PHASE == "parallel" and ALONE_REPORT:  # each xdist worker collects the whole suite: the same lines
        with open(ALONE_REPORT, "w", encoding="utf-8") as f:
            f.writelines(f"{item.nodeid}\n" for item in drop)


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def contact_keypair_env() -> dict[str, str]:
    private, public = new_contact_keypair()
    return {"CONTACT_PRIVATE_KEY": base64.urlsafe_b64encode(private).decode(),
            "CONTACT_PUBLIC_KEY": base64.urlsafe_b64encode(public).decode()}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    yield os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
    drop_all()  # the databases tests made for themselves (tests/databases.py), dropped in the background, and templates


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    url = await create_database(server_url, "faces_test")  # a copy of the migrations' template (tests/databases.py)
    try:
        # Ids start somewhere random so that Redis keys of an earlier (or concurrent) run never collide.
        conn = await asyncpg.connect(url)
        try:
            for table in ("campaigns", "candidates"):
                start = secrets.randbelow(10**9) + 10**6
                await conn.execute(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH {start}")
        finally:
            await conn.close()
        yield url
    finally:
        drop_database(url)


# TEST_REDIS_CLUSTER=1: the whole session runs on a Redis Cluster of 3 primaries and 3 replicas started for it
# on loopback ports (devtools/rediscluster.py), through a ``redis+cluster://`` URL, instead of REDIS_URL's
# database (``make test-cluster`` re-runs the vote path's suites so). Tests that need a server of their own
# (a proxy in front of one Redis, restarts) skip themselves on a cluster: ``requires_single_redis``.
ON_CLUSTER = os.environ.get("TEST_REDIS_CLUSTER", "") not in ("", "0")
requires_single_redis = pytest.mark.skipif(ON_CLUSTER, reason="needs one Redis server (TEST_REDIS_CLUSTER)")


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[object]:
    """A 3-primary, 3-replica Redis Cluster for the session (devtools.rediscluster.LocalCluster)."""
    from devtools.rediscluster import LocalCluster

    with LocalCluster(primaries=3, replicas=1) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    if ON_CLUSTER:
        return request.getfixturevalue("redis_cluster").url()
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{REDIS_TEST_DB}"))


@pytest.fixture(scope="session")
def env(database_url: str, redis_url: str, service_env: dict[str, str]) -> dict[str, str]:
    return {
        **service_env,  # each spawned service connects as its own restricted role / ACL user
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VOTER_TOKEN_KEY": _key(),
        "PSEUDONYM_KEY": _key(),
        **contact_keypair_env(),
        "STAFF_KEY": _key(),
        "TREE_HEAD_SIGNING_KEY": _key(),
        # Most admin tests sign in as admin or working_group without a second factor; the tests of
        # STAFF_MFA=required (the production default) build their own app (tests/integration/admin/test_mfa.py).
        "STAFF_MFA": "optional",
        "SMS_BACKEND": "outbox",
        "CAMPAIGN_CACHE_S": "0.2",
    }


@pytest.fixture(scope="session")
def settings(env: dict[str, str]) -> Settings:
    """The voting service's settings (its keys only)."""
    return Settings.from_env(env, service="voting")


@pytest.fixture(scope="session")
def admin_settings(env: dict[str, str]) -> Settings:
    """The admin service's settings (its keys only)."""
    return Settings.from_env(env, service="admin")


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=1, max_size=8)
    yield p
    await p.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    r = create_redis(redis_url, timeout_s=2.0)
    await r.flushdb()
    yield r
    await r.aclose()


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
