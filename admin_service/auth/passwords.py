"""Staff passwords: argon2id (OWASP minimum m=19 MiB, t=2, p=1) and a policy that refuses weak ones.

Hashing and verifying cost tens of milliseconds of CPU by design, so ``Passwords`` runs them in a worker
thread (``asyncio.to_thread``): a sign-in never stalls the event loop for the other requests. The app factory
takes the hasher as a parameter so that the tests can use a cheap one; production always gets
``production_hasher()`` (asserted by a test).
"""

from __future__ import annotations

import asyncio
import functools
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import InvalidRequest

MIN_LENGTH = 12
MAX_LENGTH = 256


class WeakPassword(InvalidRequest):
    code = "weak_password"
    title = "Password too weak"


@functools.cache
def production_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16,
                          type=Type.ID)


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("admin_service.data").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_policy(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.", key="password_short", params={"n": MIN_LENGTH})
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.", key="password_long", params={"n": MAX_LENGTH})
    low = password.lower()
    if low in common_passwords() or any(low.startswith(c) and len(set(low[len(c):])) <= 1
                                        for c in common_passwords() if len(c) >= 6):
        raise WeakPassword("This password is on a list of common passwords.", key="password_common")
    if len(set(password)) < 5:
        raise WeakPassword("Use more different characters.", key="password_monotonous")
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in low:
        raise WeakPassword("Do not use your e-mail name in the password.", key="password_email")


class Passwords:
    """argon2id off the event loop, with one hasher (production's unless a test passes a cheap one)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher if hasher is not None else production_hasher()
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def verify_dummy(self, password: str) -> None:
        """The same cost as a real verification, for accounts that do not exist (timing reveals nothing)."""
        if self._dummy is None:
            self._dummy = await self.hash("not-a-real-account-password")
        await self.verify(self._dummy, password)


@functools.cache
def production() -> Passwords:
    return Passwords()
