"""Production hashes staff passwords with argon2id at OWASP's minimum (m=19 MiB, t=2, p=1), whatever the
tests pass to the app factory to go faster."""

from __future__ import annotations

import asyncio
import base64
import os
import threading

from argon2 import PasswordHasher, Type

from admin_service.auth.passwords import Passwords, production, production_hasher


def test_production_parameters():
    ph = production_hasher()
    assert (ph.type, ph.memory_cost, ph.time_cost, ph.parallelism) == (Type.ID, 19 * 1024, 2, 1)
    assert production().hasher is ph and Passwords().hasher is ph  # the default when nothing is passed
    assert ph.hash("Zhetisu-Steppe-2026!").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_the_admin_app_uses_production_unless_told_otherwise():
    import redis.asyncio as aioredis

    from admin_service.app import create_app
    from shared.crypto import new_contact_keypair
    from shared.settings import Settings

    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    private = base64.urlsafe_b64encode(new_contact_keypair()[0]).decode()
    settings = Settings.from_env({"APP_ENV": "test", "CONTACT_PRIVATE_KEY": private, "STAFF_KEY": key,
                                  "TREE_HEAD_SIGNING_KEY": key},
                                 service="admin")
    # Resources that are never connected (nothing runs here): the factory only hands them to the services.
    app = create_app(settings, pool=object(), redis=aioredis.Redis())  # type: ignore[arg-type]
    assert app.state.services.passwords.hasher is production_hasher()


async def test_hashing_and_verifying_run_off_the_event_loop():
    seen: list[bool] = []

    class Spy(PasswordHasher):
        def hash(self, password, *, salt=None):  # noqa: ANN001, ANN201
            seen.append(threading.current_thread() is threading.main_thread())
            return super().hash(password, salt=salt)

        def verify(self, hash, password):  # noqa: A002, ANN001, ANN201
            seen.append(threading.current_thread() is threading.main_thread())
            return super().verify(hash, password)

    p = Passwords(Spy(time_cost=1, memory_cost=8, parallelism=1))
    h = await p.hash("Zhetisu-Steppe-2026!")
    assert await p.verify(h, "Zhetisu-Steppe-2026!") and not await p.verify(h, "wrong-password-123")
    await p.verify_dummy("anything")
    assert seen and not any(seen)
    assert asyncio.get_running_loop() is not None
