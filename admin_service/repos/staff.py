"""SQL for staff accounts, sessions and the login log."""

from __future__ import annotations

from datetime import datetime

import asyncpg

INSERT_USER = """
INSERT INTO users (email, password_hash, roles) VALUES ($1, $2, $3)
RETURNING id, email, roles, active, created_at
"""
USER_BY_EMAIL = """
SELECT u.id, u.email, u.password_hash, u.roles, u.active, u.password_state, u.password_expires_at,
       t.confirmed_at IS NOT NULL AS totp_enrolled, t.secret_enc AS totp_secret_enc
FROM users u LEFT JOIN staff_totp t ON t.user_id = u.id
WHERE u.email = $1
"""
USER_BY_ID = "SELECT id, email, roles, active, created_at, last_login_at FROM users WHERE id = $1"
LIST_USERS = """
SELECT u.id, u.email, u.roles, u.active, u.created_at, u.last_login_at,
       EXISTS (SELECT 1 FROM staff_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS totp_enrolled
FROM users u ORDER BY u.id
"""
SET_PASSWORD_HASH = "UPDATE users SET password_hash = $2 WHERE id = $1"
TOUCH_LOGIN = "UPDATE users SET last_login_at = now() WHERE id = $1"

INSERT_SESSION = """
INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, ip_hash) VALUES ($1, $2, $3, $4, $5)
"""
# A session is alive while not revoked, before its absolute expiry, and seen within the idle timeout.
SESSION = """
SELECT s.id_hash, s.csrf_token, s.last_seen_at, s.expires_at, u.id AS user_id, u.email, u.roles,
       u.password_state, EXISTS (SELECT 1 FROM staff_totp t WHERE t.user_id = u.id
                                 AND t.confirmed_at IS NOT NULL) AS totp_enrolled
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND u.active
  AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)
"""
TOUCH_SESSION = "UPDATE sessions SET last_seen_at = now() WHERE id_hash = $1"
REVOKE_SESSION = "UPDATE sessions SET revoked_at = now() WHERE id_hash = $1 AND revoked_at IS NULL"
REVOKE_USER_SESSIONS = """
UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id_hash
"""
REVOKE_OTHER_SESSIONS = """
UPDATE sessions SET revoked_at = now()
WHERE user_id = $1 AND id_hash <> $2 AND revoked_at IS NULL RETURNING id_hash
"""
LOG_ATTEMPT = "INSERT INTO login_attempts (email, user_id, ip_hash, outcome) VALUES ($1, $2, $3, $4)"


async def insert_user(conn: asyncpg.Connection, *, email: str, password_hash: str,
                      roles: list[str]) -> asyncpg.Record:
    return await conn.fetchrow(INSERT_USER, email, password_hash, roles)


async def user_by_email(conn: asyncpg.Connection, *, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow(USER_BY_EMAIL, email)


async def user_by_id(conn: asyncpg.Connection, *, user_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(USER_BY_ID, user_id)


async def list_users(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(LIST_USERS)


async def set_password_hash(conn: asyncpg.Connection, *, user_id: int, password_hash: str) -> None:
    await conn.execute(SET_PASSWORD_HASH, user_id, password_hash)


async def touch_login(conn: asyncpg.Connection, *, user_id: int) -> None:
    await conn.execute(TOUCH_LOGIN, user_id)


async def insert_session(conn: asyncpg.Connection, *, id_hash: str, user_id: int, csrf_token: str,
                         expires_at: datetime, ip_hash: str) -> None:
    await conn.execute(INSERT_SESSION, id_hash, user_id, csrf_token, expires_at, ip_hash)


async def live_session(conn: asyncpg.Connection, *, id_hash: str, idle_s: int) -> asyncpg.Record | None:
    return await conn.fetchrow(SESSION, id_hash, float(idle_s))


async def touch_session(conn: asyncpg.Connection, *, id_hash: str) -> None:
    await conn.execute(TOUCH_SESSION, id_hash)


async def revoke_session(conn: asyncpg.Connection, *, id_hash: str) -> None:
    await conn.execute(REVOKE_SESSION, id_hash)


async def revoke_user_sessions(conn: asyncpg.Connection, *, user_id: int) -> int:
    return len(await conn.fetch(REVOKE_USER_SESSIONS, user_id))


async def log_attempt(conn: asyncpg.Connection, *, email: str, user_id: int | None, ip_hash: str,
                      outcome: str) -> None:
    await conn.execute(LOG_ATTEMPT, email, user_id, ip_hash, outcome)


# --- account lifecycle -------------------------------------------------------------------------------

USER_FOR_UPDATE = "SELECT id, email, roles, active FROM users WHERE id = $1 FOR UPDATE"
# Every active admin, locked: two admins demoting each other at once are serialised here, and the second
# sees the first's change (READ COMMITTED re-checks the WHERE clause of a row it waited for).
LOCK_ACTIVE_ADMINS = "SELECT id FROM users WHERE active AND 'admin' = ANY (roles) ORDER BY id FOR UPDATE"
UPDATE_ACCOUNT = """
UPDATE users SET active = $2, roles = $3 WHERE id = $1
RETURNING id, email, roles, active, created_at, last_login_at
"""
SET_TEMPORARY_PASSWORD = """
UPDATE users SET password_hash = $2, password_state = 'temporary', password_expires_at = $3 WHERE id = $1
"""
# The one use of a temporary password: only one of two concurrent sign-ins with it gets the row.
USE_TEMPORARY_PASSWORD = """
UPDATE users SET password_state = 'temporary_used'
WHERE id = $1 AND password_state = 'temporary' AND password_expires_at > now()
RETURNING id
"""
SET_OWN_PASSWORD = """
UPDATE users SET password_hash = $2, password_state = 'set', password_expires_at = NULL,
                 password_changed_at = now()
WHERE id = $1
"""
PASSWORD_OF = "SELECT email, password_hash FROM users WHERE id = $1"


async def user_for_update(conn: asyncpg.Connection, *, user_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(USER_FOR_UPDATE, user_id)


async def lock_active_admins(conn: asyncpg.Connection) -> list[int]:
    return [r["id"] for r in await conn.fetch(LOCK_ACTIVE_ADMINS)]


async def update_account(conn: asyncpg.Connection, *, user_id: int, active: bool,
                         roles: list[str]) -> asyncpg.Record:
    return await conn.fetchrow(UPDATE_ACCOUNT, user_id, active, roles)


async def set_temporary_password(conn: asyncpg.Connection, *, user_id: int, password_hash: str,
                                 expires_at: datetime) -> None:
    await conn.execute(SET_TEMPORARY_PASSWORD, user_id, password_hash, expires_at)


async def use_temporary_password(conn: asyncpg.Connection, *, user_id: int) -> bool:
    return await conn.fetchval(USE_TEMPORARY_PASSWORD, user_id) is not None


async def set_own_password(conn: asyncpg.Connection, *, user_id: int, password_hash: str) -> None:
    await conn.execute(SET_OWN_PASSWORD, user_id, password_hash)


async def password_of(conn: asyncpg.Connection, *, user_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(PASSWORD_OF, user_id)


async def revoke_other_sessions(conn: asyncpg.Connection, *, user_id: int, keep_id_hash: str) -> int:
    return len(await conn.fetch(REVOKE_OTHER_SESSIONS, user_id, keep_id_hash))


# --- second factor -----------------------------------------------------------------------------------

TOTP_OF = "SELECT secret_enc, confirmed_at, last_step FROM staff_totp WHERE user_id = $1"
# A new pending secret replaces a pending one; a confirmed factor is never overwritten here.
START_TOTP = """
INSERT INTO staff_totp (user_id, secret_enc) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, created_at = now(), last_step = -1
    WHERE staff_totp.confirmed_at IS NULL
RETURNING user_id
"""
CONFIRM_TOTP = """
UPDATE staff_totp SET confirmed_at = now(), last_step = $2
WHERE user_id = $1 AND confirmed_at IS NULL AND last_step < $2
RETURNING user_id
"""
# The replay guard: a code's time step is accepted only if above the last accepted one, in one statement.
USE_TOTP_STEP = """
UPDATE staff_totp SET last_step = $2
WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2
RETURNING user_id
"""
DELETE_RECOVERY_CODES = "DELETE FROM staff_recovery_codes WHERE user_id = $1"
DELETE_TOTP = "DELETE FROM staff_totp WHERE user_id = $1 RETURNING confirmed_at IS NOT NULL AS was_confirmed"
INSERT_RECOVERY_CODES = "INSERT INTO staff_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])"
USE_RECOVERY_CODE = """
UPDATE staff_recovery_codes SET used_at = now()
WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
RETURNING user_id
"""
RECOVERY_CODES_LEFT = "SELECT count(*) FROM staff_recovery_codes WHERE user_id = $1 AND used_at IS NULL"


async def totp_of(conn: asyncpg.Connection, *, user_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(TOTP_OF, user_id)


async def start_totp(conn: asyncpg.Connection, *, user_id: int, secret_enc: bytes) -> bool:
    return await conn.fetchval(START_TOTP, user_id, secret_enc) is not None


async def confirm_totp(conn: asyncpg.Connection, *, user_id: int, step: int) -> bool:
    return await conn.fetchval(CONFIRM_TOTP, user_id, step) is not None


async def use_totp_step(conn: asyncpg.Connection, *, user_id: int, step: int) -> bool:
    return await conn.fetchval(USE_TOTP_STEP, user_id, step) is not None


async def replace_recovery_codes(conn: asyncpg.Connection, *, user_id: int, hashes: list[str]) -> None:
    await conn.execute(DELETE_RECOVERY_CODES, user_id)
    await conn.execute(INSERT_RECOVERY_CODES, user_id, hashes)


async def use_recovery_code(conn: asyncpg.Connection, *, user_id: int, code_hash: str) -> bool:
    return await conn.fetchval(USE_RECOVERY_CODE, user_id, code_hash) is not None


async def recovery_codes_left(conn: asyncpg.Connection, *, user_id: int) -> int:
    return await conn.fetchval(RECOVERY_CODES_LEFT, user_id)


async def delete_factor(conn: asyncpg.Connection, *, user_id: int) -> bool | None:
    """Removes the TOTP factor and the recovery codes; whether it was confirmed (None: there was none)."""
    await conn.execute(DELETE_RECOVERY_CODES, user_id)
    return await conn.fetchval(DELETE_TOTP, user_id)
