"""Sign-in, server-side sessions and sign-out.

The cookie holds a random 128-bit id; the database holds only its SHA-256. A session ends after
``admin_session_idle_s`` without use, ``admin_session_absolute_s`` after sign-in, at sign-out, or when an
admin ends the user's sessions. Every sign-in attempt is logged.

Sign-in order: reserve a throttle slot (429 when spent), check the password (argon2, off the event loop; an
unknown e-mail costs the same), then the second factor. ``mfa_required`` is only ever the answer to a right
password, so it tells an attacker nothing they did not know. A wrong code counts as a failed sign-in.
A session may carry a ``required_action`` (see auth/context.py): after a temporary password it may only
change the password; a user whose role requires a second factor and who has none may only enrol one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from admin_service.auth import totp as otp
from admin_service.auth.context import Staff, required_action
from admin_service.auth.passwords import Passwords
from admin_service.auth.throttle import LoginThrottle
from admin_service.repos import staff as repo
from admin_service.services import audit
from shared.errors import AppError
from shared.settings import Settings


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"
    title = "Wrong e-mail or password"


class MfaRequired(AppError):
    status = 401
    code = "mfa_required"
    title = "Second factor required"


def session_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def email_key(settings: Settings, email: str) -> str:
    return hmac.new(settings.secrets.staff_key, f"staff:{email}".encode(), hashlib.sha256).hexdigest()[:24]


async def check_second_factor(conn: asyncpg.Connection, settings: Settings, *, user_id: int,
                              secret_enc: bytes | None, code: str) -> str | None:
    """``"totp"`` or ``"recovery"`` if ``code`` is a current TOTP code not used before or an unused recovery
    code (which it then consumes), else None."""
    code = otp.compact(code)
    if otp.looks_like_totp(code):
        secret = otp.unseal(settings.secrets.staff_key, user_id, secret_enc) if secret_enc else None
        step = otp.matching_step(secret, code) if secret else None
        if step is not None and await repo.use_totp_step(conn, user_id=user_id, step=step):
            return "totp"
        return None
    if not code or len(code) > 64:
        return None
    digest = otp.recovery_hash(settings.secrets.staff_key, user_id, code)
    return "recovery" if await repo.use_recovery_code(conn, user_id=user_id, code_hash=digest) else None


class SessionService:
    def __init__(self, *, settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis,
                 passwords: Passwords) -> None:
        self._s = settings
        self._pool = pool
        self._passwords = passwords
        self.throttle = LoginThrottle(settings, redis)

    async def login(self, *, email: str, password: str, ip_hash: str, totp: str | None = None,
                    previous_cookie: str | None = None) -> tuple[str, Staff]:
        email = email.strip().lower()
        ekey = email_key(self._s, email)
        async with self._pool.acquire() as conn:

            async def refuse(outcome: str, user_id: int | None, exc: AppError) -> None:
                await repo.log_attempt(conn, email=email, user_id=user_id, ip_hash=ip_hash, outcome=outcome)
                raise exc

            try:
                await self.throttle.reserve(ekey, ip_hash)
            except AppError as exc:
                await refuse("throttled", None, exc)
            user = await repo.user_by_email(conn, email=email)
            if user is None:
                await self._passwords.verify_dummy(password)  # same cost whether or not the account exists
                ok = False
            else:
                ok = await self._passwords.verify(user["password_hash"], password)
            wrong = InvalidCredentials("Wrong e-mail or password.", key="credentials")
            if not ok or user is None:
                await refuse("bad_credentials", user["id"] if user else None, wrong)
            assert user is not None
            if not user["active"]:
                await refuse("inactive", user["id"], wrong)
            temporary = user["password_state"] != "set"
            if temporary and (user["password_state"] == "temporary_used"
                              or (user["password_expires_at"] or datetime.min.replace(tzinfo=UTC))
                              <= datetime.now(UTC)):
                await refuse("bad_credentials", user["id"], wrong)  # a temporary password works once
            factor = ""
            if user["totp_enrolled"]:
                if not totp:
                    await self.throttle.release(ekey, ip_hash)
                    await refuse("mfa_required", user["id"], MfaRequired("Send the code from your authenticator "
                                                                         "app (or a recovery code) as totp.",
                                                                         key="mfa_code_needed"))
                factor = await check_second_factor(conn, self._s, user_id=user["id"],
                                                   secret_enc=user["totp_secret_enc"], code=totp or "") or ""
                if not factor:
                    await refuse("bad_second_factor", user["id"], wrong)
            if temporary and not await repo.use_temporary_password(conn, user_id=user["id"]):
                await refuse("bad_credentials", user["id"], wrong)  # a concurrent sign-in used it first
            await self.throttle.succeeded(ekey, ip_hash)
            new_hash = None
            if not temporary and self._passwords.needs_rehash(user["password_hash"]):
                new_hash = await self._passwords.hash(password)
            raw = secrets.token_urlsafe(16)  # 128 random bits; a new id at every sign-in
            csrf = secrets.token_urlsafe(32)
            action = required_action(staff_mfa=self._s.staff_mfa, roles=user["roles"],
                                     password_state="temporary_used" if temporary else "set",
                                     totp_enrolled=user["totp_enrolled"])
            staff = Staff(user["id"], user["email"], frozenset(user["roles"]), session_hash(raw), csrf, action,
                          ip_hash=ip_hash)
            async with conn.transaction():
                if previous_cookie:
                    await repo.revoke_session(conn, id_hash=session_hash(previous_cookie))
                if new_hash is not None:
                    await repo.set_password_hash(conn, user_id=user["id"], password_hash=new_hash)
                await repo.insert_session(conn, id_hash=staff.session_hash, user_id=user["id"], csrf_token=csrf,
                                          expires_at=datetime.now(UTC) + timedelta(seconds=self._s.admin_session_absolute_s),
                                          ip_hash=ip_hash)
                await repo.touch_login(conn, user_id=user["id"])
                await repo.log_attempt(conn, email=email, user_id=user["id"], ip_hash=ip_hash, outcome="success")
                await audit.record(conn, actor=staff, action="session.login", entity_type="user", entity_id=user["id"],
                                   new={"factor": factor or None, "temporary_password": temporary,
                                        "required_action": action or None})
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
        action = required_action(staff_mfa=self._s.staff_mfa, roles=row["roles"],
                                 password_state=row["password_state"], totp_enrolled=row["totp_enrolled"])
        return Staff(row["user_id"], row["email"], frozenset(row["roles"]), h, row["csrf_token"], action)

    async def logout(self, staff: Staff) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.revoke_session(conn, id_hash=staff.session_hash)
            await audit.record(conn, actor=staff, action="session.logout", entity_type="user", entity_id=staff.id)
