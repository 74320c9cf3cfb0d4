"""SQL for staff accounts, sessions and the login log."""

from __future__ import annotations

from datetime import datetime

import asyncpg

INSERT_USER = """
INSERT INTO users (email, password_hash, roles) VALUES ($1, $2, $3)
RETURNING id, email, roles, active, created_at
"""
USER_BY_EMAIL = "SELECT id, email, password_hash, roles, active FROM users WHERE email = $1"
USER_BY_ID = "SELECT id, email, roles, active, created_at, last_login_at FROM users WHERE id = $1"
LIST_USERS = "SELECT id, email, roles, active, created_at, last_login_at FROM users ORDER BY id"
SET_PASSWORD_HASH = "UPDATE users SET password_hash = $2 WHERE id = $1"
TOUCH_LOGIN = "UPDATE users SET last_login_at = now() WHERE id = $1"

INSERT_SESSION = """
INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, ip_hash) VALUES ($1, $2, $3, $4, $5)
"""
# A session is alive while not revoked, before its absolute expiry, and seen within the idle timeout.
SESSION = """
SELECT s.id_hash, s.csrf_token, s.last_seen_at, s.expires_at, u.id AS user_id, u.email, u.roles
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND u.active
  AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)
"""
TOUCH_SESSION = "UPDATE sessions SET last_seen_at = now() WHERE id_hash = $1"
REVOKE_SESSION = "UPDATE sessions SET revoked_at = now() WHERE id_hash = $1 AND revoked_at IS NULL"
REVOKE_USER_SESSIONS = """
UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id_hash
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
