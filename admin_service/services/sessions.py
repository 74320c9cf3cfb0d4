"""Sign-in, server-side sessions and sign-out.

The cookie holds a random 128-bit id; the database holds only its SHA-256. A session ends after
``admin_session_idle_s`` without use, ``admin_session_absolute_s`` after sign-in, at sign-out, or when an
admin ends the user's sessions. Every sign-in attempt is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from admin_service.auth.context import Staff
from admin_service.auth.passwords import dummy_hash, hash_password, hasher, verify_password
from admin_service.auth.throttle import LoginThrottle
from admin_service.repos import staff as repo
from admin_service.services import audit
from shared.errors import AppError
from shared.settings import Settings


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"
    title = "Wrong e-mail or password"


def session_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def email_key(settings: Settings, email: str) -> str:
    return hmac.new(settings.secrets.staff_key, f"staff:{email}".encode(), hashlib.sha256).hexdigest()[:24]


class SessionService:
    def __init__(self, *, settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> None:
        self._s = settings
        self._pool = pool
        self._throttle = LoginThrottle(settings, redis)

    async def login(self, *, email: str, password: str, ip_hash: str,
                    previous_cookie: str | None = None) -> tuple[str, Staff]:
        email = email.strip().lower()
        ekey = email_key(self._s, email)
        async with self._pool.acquire() as conn:
            try:
                await self._throttle.check(ekey, ip_hash)
            except AppError:
                await repo.log_attempt(conn, email=email, user_id=None, ip_hash=ip_hash, outcome="throttled")
                raise
            user = await repo.user_by_email(conn, email=email)
            if user is None:
                verify_password(dummy_hash(), password)  # same cost whether or not the account exists
                ok = False
            else:
                ok = verify_password(user["password_hash"], password)
            if not ok or user is None or not user["active"]:
                await self._throttle.failed(ekey, ip_hash)
                outcome = "inactive" if ok and user is not None else "bad_credentials"
                await repo.log_attempt(conn, email=email, user_id=user["id"] if user else None, ip_hash=ip_hash,
                                       outcome=outcome)
                raise InvalidCredentials("Wrong e-mail or password.")
            await self._throttle.succeeded(ekey, ip_hash)
            raw = secrets.token_urlsafe(16)  # 128 random bits; a new id at every sign-in
            csrf = secrets.token_urlsafe(32)
            staff = Staff(user["id"], user["email"], frozenset(user["roles"]), session_hash(raw), csrf)
            async with conn.transaction():
                if previous_cookie:
                    await repo.revoke_session(conn, id_hash=session_hash(previous_cookie))
                if hasher().check_needs_rehash(user["password_hash"]):
                    await repo.set_password_hash(conn, user_id=user["id"], password_hash=hash_password(password))
                await repo.insert_session(conn, id_hash=staff.session_hash, user_id=user["id"], csrf_token=csrf,
                                          expires_at=datetime.now(UTC) + timedelta(seconds=self._s.admin_session_absolute_s),
                                          ip_hash=ip_hash)
                await repo.touch_login(conn, user_id=user["id"])
                await repo.log_attempt(conn, email=email, user_id=user["id"], ip_hash=ip_hash, outcome="success")
                await audit.record(conn, actor=staff, action="session.login", entity_type="user", entity_id=user["id"])
        return raw, staff

    async def resolve(self, raw: str) -> Staff | None:
        if not raw or len(raw) > 64:
            return None
        h = session_hash(raw)
        async with self._pool.acquire() as conn:
            row = await repo.live_session(conn, id_hash=h, idle_s=self._s.admin_session_idle_s)
            if row is None:
                return None
            if (datetime.now(UTC) - row["last_seen_at"]).total_seconds() > 30:
                await repo.touch_session(conn, id_hash=h)  # at most every 30 s: idle timeout precision
        return Staff(row["user_id"], row["email"], frozenset(row["roles"]), h, row["csrf_token"])

    async def logout(self, staff: Staff) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.revoke_session(conn, id_hash=staff.session_hash)
            await audit.record(conn, actor=staff, action="session.logout", entity_type="user", entity_id=staff.id)
