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
from tests.databases import create_database, drop_database
from tests.redis_dbs import redis_db

DEMO_REDIS_DB = redis_db("DEMO")  # two suites at once: give each its own


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + path))


@asynccontextmanager
async def temporary_database(server_url: str) -> AsyncIterator[str]:
    """A new database on the server of ``server_url``, migrated (a copy of a migrated template: tests/databases.py),
    dropped afterwards."""
    url = await create_database(server_url, "faces_admin")
    try:
        yield url
    finally:
        drop_database(url)


@asynccontextmanager
async def env_on_own_database(env: dict[str, str], server_url: str) -> AsyncIterator[dict[str, str]]:
    """``env`` on a new migrated database: the owner's URL and every service's (each keeps its own restricted
    role; the grants are the migrations'), for tests whose processes must not see the session's other data."""
    from shared.store_access import SERVICES, database_var
    async with temporary_database(server_url) as url:
        name = urlsplit(url).path
        own = {var: urlunsplit(urlsplit(env[var])._replace(path=name))
               for var in (database_var(s) for s in SERVICES) if var in env}
        yield {**env, **own, "DATABASE_URL": url}


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


# --- signed-in staff ----------------------------------------------------------------------------------

import httpx  # noqa: E402

from argon2 import PasswordHasher, Type  # noqa: E402

from admin_service.app import create_app as create_admin_app  # noqa: E402
from admin_service.auth.passwords import Passwords  # noqa: E402
from admin_service.services.users import create_user  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.store_access import redis_var  # noqa: E402

STAFF_PASSWORD = "Zhetisu-Steppe-2026!"

# argon2id at the lowest cost it allows: the suite signs in hundreds of times and production's cost (asserted
# in test_passwords.py) would make it spend most of its time hashing.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=16, type=Type.ID)
CHEAP = Passwords(CHEAP_HASHER)


@pytest.fixture(scope="session")
async def shared_admin_app(admin_settings: Settings, admin_pool: asyncpg.Pool, service_env: dict[str, str]):
    """Built once per session: Litestar's route registration costs 0.1 - 0.2 s per app, and hundreds of tests
    use one. Between requests the app keeps everything in Postgres and Redis (the test database is flushed
    before each test) except the fraud-flags cache, which is keyed by campaign and no two tests share one."""
    r = create_redis(service_env[redis_var("admin")], timeout_s=2.0)
    yield create_admin_app(admin_settings, pool=admin_pool, redis=r, password_hasher=CHEAP_HASHER)
    await r.aclose()


@pytest.fixture
async def admin_app(shared_admin_app, redis: aioredis.Redis):
    """The admin app as deployed: logged in as the admin service's own Postgres role and Redis user (``redis``:
    the test database is flushed first)."""
    return shared_admin_app


@pytest.fixture
async def anon(admin_app) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no session (httpx's ASGI transport: the app runs on the test's event loop)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=admin_app, client=("198.51.100.20", 50000)),
                                 base_url="http://127.0.0.1:8001") as c:
        yield c


@pytest.fixture
async def staff(admin_app, pool):
    """``await staff("secretariat")`` -> a client signed in as a new user with those roles; requests carry
    the session cookie and the X-CSRF-Token header. ``client.user`` is the session's user JSON."""
    clients: list[httpx.AsyncClient] = []

    async def make(*roles: str, ip: str = "198.51.100.21") -> httpx.AsyncClient:
        email = f"{'-'.join(roles) or 'none'}-{uuid.uuid4().hex[:8]}@100faces.kz"
        await create_user(pool, email=email, password=STAFF_PASSWORD, roles=list(roles), actor=None,
                          passwords=CHEAP)
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=admin_app, client=(ip, 50001)),
                              base_url="http://127.0.0.1:8001")
        clients.append(c)
        r = await c.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        c.user = r.json()["user"]  # type: ignore[attr-defined]
        c.email = email  # type: ignore[attr-defined]
        return c

    yield make
    for c in clients:
        await c.aclose()


def staff_client(app, ip: str = "198.51.100.22") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 50002)), base_url="http://127.0.0.1:8001")


async def sign_in(c: httpx.AsyncClient, email: str, password: str = STAFF_PASSWORD, **extra: str) -> httpx.Response:
    """POST /api/v1/session; on success the client carries the CSRF header too."""
    r = await c.post("/api/v1/session", json={"email": email, "password": password, **extra})
    if r.status_code == 200:
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return r


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """The code of the time step ``steps_ahead`` from now (the server accepts -1..+1; each step once)."""
    import time

    import pyotp

    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


async def enrol_totp(c: httpx.AsyncClient) -> tuple[str, list[str]]:
    """Enrols a TOTP factor for the client's user through the API: (secret, recovery codes). The enrolment
    uses the previous step's code, so the current and the next step remain usable for a sign-in."""
    r = await c.post("/api/v1/session/totp")
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    r = await c.post("/api/v1/session/totp/confirm", json={"code": totp_code(secret, -1)})
    assert r.status_code == 200, r.text
    return secret, r.json()["recovery_codes"]
