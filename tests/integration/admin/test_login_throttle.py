"""The sign-in throttle reserves each attempt before the password is checked: many parallel wrong guesses
against real Redis run at most the limit of argon2 verifications, and the rest are 429 without one."""

from __future__ import annotations

import asyncio
import threading
import uuid

import msgspec
from argon2 import PasswordHasher

from admin_service.app import create_app
from admin_service.services.users import create_user
from tests.integration.admin.conftest import CHEAP, STAFF_PASSWORD, sign_in, staff_client


class CountingHasher(PasswordHasher):
    """Counts verifications and makes each one slow enough that the guesses really overlap."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):  # noqa: A002, ANN001, ANN201
        with self._lock:
            self.verified += 1
        threading.Event().wait(0.05)
        return super().verify(hash, password)


async def test_parallel_wrong_guesses_try_at_most_the_limit(admin_settings, pool, redis):
    hasher = CountingHasher()
    app = create_app(admin_settings, pool=pool, redis=redis, password_hasher=hasher)
    email = f"target-{uuid.uuid4().hex[:8]}@100faces.kz"
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=["auditor"], actor=None, passwords=CHEAP)
    limit = admin_settings.admin_login_max_per_pair
    clients = [staff_client(app, ip="192.0.2.77") for _ in range(40)]
    try:
        answers = await asyncio.gather(*(sign_in(c, email, f"guess-{i}-xxxxxxxx") for i, c in enumerate(clients)))
    finally:
        for c in clients:
            await c.aclose()
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * limit + [429] * (40 - limit)
    assert hasher.verified == limit
    assert await pool.fetchval("SELECT count(*) FROM login_attempts WHERE email = $1 AND outcome = 'throttled'",
                               email) == 40 - limit


async def test_parallel_guesses_across_addresses_stop_at_the_account_limit(admin_settings, pool, redis):
    admin_settings = msgspec.structs.replace(admin_settings, admin_login_max_per_account=8)
    hasher = CountingHasher()
    app = create_app(admin_settings, pool=pool, redis=redis, password_hasher=hasher)
    email = f"target-{uuid.uuid4().hex[:8]}@100faces.kz"
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=["auditor"], actor=None, passwords=CHEAP)
    clients = [staff_client(app, ip=f"192.0.2.{100 + i}") for i in range(30)]
    try:
        answers = await asyncio.gather(*(sign_in(c, email, f"guess-{i}-xxxxxxxx") for i, c in enumerate(clients)))
    finally:
        for c in clients:
            await c.aclose()
    assert sum(r.status_code != 429 for r in answers) == 8 and hasher.verified == 8


async def test_a_success_gives_its_reservation_back(admin_settings, pool, redis, admin_app):
    email = f"owner-{uuid.uuid4().hex[:8]}@100faces.kz"
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=["auditor"], actor=None, passwords=CHEAP)
    async with staff_client(admin_app, ip="192.0.2.90") as c:
        for _ in range(admin_settings.admin_login_max_per_pair + 3):  # more sign-ins than the limit: none is refused
            assert (await sign_in(c, email)).status_code == 200
        for i in range(admin_settings.admin_login_max_per_pair - 1):
            assert (await sign_in(c, email, f"typo-{i}-xxxxxxxx")).status_code == 401
        assert (await sign_in(c, email)).status_code == 200  # the owner's success clears the pair counter
        assert (await sign_in(c, email, "typo-again-xxxxxxxx")).status_code == 401
    keys = [k async for k in redis.scan_iter("admin:login:acct:*")]
    assert len(keys) == 1 and int(await redis.get(keys[0])) == admin_settings.admin_login_max_per_pair
