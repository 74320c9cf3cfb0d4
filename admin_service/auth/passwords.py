"""Staff passwords: argon2id (OWASP minimum m=19 MiB, t=2, p=1) and a policy that refuses weak ones."""

from __future__ import annotations

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
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16,
                          type=Type.ID)


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("admin_service.data").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_policy(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    low = password.lower()
    if low in common_passwords() or any(low.startswith(c) and len(set(low[len(c):])) <= 1
                                        for c in common_passwords() if len(c) >= 6):
        raise WeakPassword("This password is on a list of common passwords.")
    if len(set(password)) < 5:
        raise WeakPassword("Use more different characters.")
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in low:
        raise WeakPassword("Do not use your e-mail name in the password.")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the account does not exist, so timing does not reveal which e-mails exist.
@functools.cache
def dummy_hash() -> str:
    return hash_password("not-a-real-account-password")
