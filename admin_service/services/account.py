"""Self-service for the signed-in staff member: change the password, enrol a TOTP second factor.

Each change ends the user's *other* sessions (the one making it stays) and is audited in the same
transaction. Changing the password needs the current one, checked under the sign-in throttle, so a stolen
session cannot be used to guess it.
"""

from __future__ import annotations

import asyncpg

from admin_service.auth import totp as otp
from admin_service.auth.context import Staff
from admin_service.auth.passwords import Passwords, WeakPassword, check_policy
from admin_service.repos import staff as repo
from admin_service.services import audit
from admin_service.services.sessions import InvalidCredentials, SessionService, email_key
from shared.errors import Conflict, InvalidCode
from shared.settings import Settings


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"
    title = "A second factor is already enrolled"


class NoEnrolment(Conflict):
    code = "no_pending_enrolment"
    title = "Start the enrolment first"


class AccountService:
    def __init__(self, *, settings: Settings, pool: asyncpg.Pool, passwords: Passwords,
                 sessions: SessionService) -> None:
        self._s = settings
        self._pool = pool
        self._passwords = passwords
        self._throttle = sessions.throttle

    async def change_password(self, staff: Staff, *, current: str, new: str, ip_hash: str) -> int:
        """Returns how many other sessions ended."""
        check_policy(new, email=staff.email)
        if new == current:
            raise WeakPassword("Choose a password different from the current one.", key="password_same")
        ekey = email_key(self._s, staff.email)
        await self._throttle.reserve(ekey, ip_hash)
        async with self._pool.acquire() as conn:
            row = await repo.password_of(conn, user_id=staff.id)
        if row is None or not await self._passwords.verify(row["password_hash"], current):
            raise InvalidCredentials("The current password is wrong.", key="password_current_wrong")
        await self._throttle.succeeded(ekey, ip_hash)
        new_hash = await self._passwords.hash(new)
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.set_own_password(conn, user_id=staff.id, password_hash=new_hash)
            ended = await repo.revoke_other_sessions(conn, user_id=staff.id, keep_id_hash=staff.session_hash)
            await audit.record(conn, actor=staff, action="user.password_change", entity_type="user",
                               entity_id=staff.id, new={"other_sessions_ended": ended})
        return ended

    async def start_totp(self, staff: Staff) -> tuple[str, str]:
        """A new pending secret (replacing a pending one): (otpauth URI, base32 secret)."""
        secret = otp.new_secret()
        sealed = otp.seal(self._s.secrets.staff_key, staff.id, secret)
        async with self._pool.acquire() as conn, conn.transaction():
            if not await repo.start_totp(conn, user_id=staff.id, secret_enc=sealed):
                raise AlreadyEnrolled("A second factor is already enrolled for this account.",
                                      key="mfa_already_enrolled")
            await audit.record(conn, actor=staff, action="user.totp_enrolment_started", entity_type="user",
                               entity_id=staff.id)
        return otp.otpauth_uri(secret, staff.email), secret

    async def factor_state(self, staff: Staff) -> tuple[str, tuple[str, str] | None, int]:
        """("none" | "pending" | "enrolled", the pending (URI, secret) to show again, recovery codes left)."""
        async with self._pool.acquire() as conn:
            row = await repo.totp_of(conn, user_id=staff.id)
            left = await repo.recovery_codes_left(conn, user_id=staff.id)
        if row is None:
            return "none", None, left
        if row["confirmed_at"] is not None:
            return "enrolled", None, left
        secret = otp.unseal(self._s.secrets.staff_key, staff.id, row["secret_enc"])
        return "pending", (otp.otpauth_uri(secret, staff.email), secret) if secret else None, left

    async def confirm_totp(self, staff: Staff, *, code: str) -> list[str]:
        """Confirms the pending factor with a current code; returns the 10 recovery codes (shown once)."""
        async with self._pool.acquire() as conn:
            row = await repo.totp_of(conn, user_id=staff.id)
        if row is None:
            raise NoEnrolment("Start the enrolment first (POST /api/v1/session/totp).", key="mfa_not_started")
        if row["confirmed_at"] is not None:
            raise AlreadyEnrolled("A second factor is already enrolled for this account.", key="mfa_already_enrolled")
        secret = otp.unseal(self._s.secrets.staff_key, staff.id, row["secret_enc"])
        step = otp.matching_step(secret, otp.compact(code)) if secret else None
        if step is None:
            raise InvalidCode("That is not the current code of this enrolment.", key="mfa_code_wrong")
        codes = otp.new_recovery_codes()
        hashes = [otp.recovery_hash(self._s.secrets.staff_key, staff.id, c) for c in codes]
        async with self._pool.acquire() as conn, conn.transaction():
            if not await repo.confirm_totp(conn, user_id=staff.id, step=step):
                raise InvalidCode("That code was used already; wait for the next one.", key="mfa_code_used")
            await repo.replace_recovery_codes(conn, user_id=staff.id, hashes=hashes)
            ended = await repo.revoke_other_sessions(conn, user_id=staff.id, keep_id_hash=staff.session_hash)
            await audit.record(conn, actor=staff, action="user.totp_enrolled", entity_type="user",
                               entity_id=staff.id, new={"recovery_codes": len(codes), "other_sessions_ended": ended})
        return codes
