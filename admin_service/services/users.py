"""Staff accounts: created by an admin (or the command line for the first one), never by default.

Lifecycle (admin only): deactivate / reactivate, change roles, issue a temporary password, remove a lost
second factor (the user enrols a new one; with STAFF_MFA=required at the next sign-in). Each ends all of
the target's sessions and is audited in the same transaction. The last active admin can neither be
deactivated nor lose the admin role (409 ``last_admin``): the active admins are locked while that is checked.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import asyncpg

from admin_service.auth.context import Staff
from admin_service.auth.passwords import Passwords, check_policy, production
from admin_service.repos import staff as repo
from admin_service.services import audit
from shared.errors import Conflict, InvalidRequest, NotFound

TEMPORARY_PASSWORD_TTL = timedelta(hours=24)
UNAMBIGUOUS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class LastAdmin(Conflict):
    code = "last_admin"
    title = "The last active admin must stay"


async def create_user(pool: asyncpg.Pool, *, email: str, password: str, roles: list[str],
                      actor: Staff | None, passwords: Passwords | None = None) -> asyncpg.Record:
    email = email.strip().lower()
    check_policy(password, email=email)
    password_hash = await (passwords or production()).hash(password)
    async with pool.acquire() as conn, conn.transaction():
        try:
            row = await repo.insert_user(conn, email=email, password_hash=password_hash,
                                         roles=sorted(set(roles)))
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"A user with e-mail {email} exists.", key="user_exists", params={"email": email},
                           extra={"field": "email"}) from exc
        await audit.record(conn, actor=actor, action="user.create", entity_type="user", entity_id=row["id"],
                           new={"email": email, "roles": sorted(set(roles))})
    return row


async def list_users(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await repo.list_users(conn)


async def end_sessions(pool: asyncpg.Pool, *, user_id: int, actor: Staff) -> int:
    async with pool.acquire() as conn, conn.transaction():
        if await repo.user_by_id(conn, user_id=user_id) is None:
            raise NotFound(f"No user {user_id}.", key="no_user", params={"id": user_id})
        n = await repo.revoke_user_sessions(conn, user_id=user_id)
        await audit.record(conn, actor=actor, action="user.end_sessions", entity_type="user", entity_id=user_id,
                           new={"revoked": n})
    return n


async def update_account(pool: asyncpg.Pool, *, user_id: int, active: bool | None, roles: list[str] | None,
                         actor: Staff) -> asyncpg.Record:
    if active is None and roles is None:
        raise InvalidRequest("Send active, roles or both.", key="user_change_empty")
    async with pool.acquire() as conn, conn.transaction():
        admins = await repo.lock_active_admins(conn)
        row = await repo.user_for_update(conn, user_id=user_id)
        if row is None:
            raise NotFound(f"No user {user_id}.", key="no_user", params={"id": user_id})
        new_active = row["active"] if active is None else active
        new_roles = sorted(set(row["roles"] if roles is None else roles))
        if sorted(row["roles"]) == new_roles and row["active"] == new_active:
            return await repo.user_by_id(conn, user_id=user_id)  # nothing to change, nothing ended
        stays_admin = new_active and "admin" in new_roles
        if user_id in admins and not stays_admin and len(admins) == 1:
            raise LastAdmin("This is the last active admin: make another admin first.", key="last_admin")
        updated = await repo.update_account(conn, user_id=user_id, active=new_active, roles=new_roles)
        ended = await repo.revoke_user_sessions(conn, user_id=user_id)
        await audit.record(conn, actor=actor, action="user.update", entity_type="user", entity_id=user_id,
                           old={"active": row["active"], "roles": sorted(row["roles"])},
                           new={"active": new_active, "roles": new_roles, "sessions_ended": ended})
    return updated


async def reset_password(pool: asyncpg.Pool, *, user_id: int, actor: Staff,
                         passwords: Passwords | None = None) -> str:
    """A random temporary password (returned once, never stored in clear): one sign-in within 24 hours,
    and that session may only change it."""
    # 20 characters of an alphabet without look-alikes (read out or typed from paper): 99 bits
    chars = "".join(secrets.choice(UNAMBIGUOUS) for _ in range(20))
    temporary = "-".join(chars[i:i + 5] for i in range(0, 20, 5))
    password_hash = await (passwords or production()).hash(temporary)
    async with pool.acquire() as conn, conn.transaction():
        if await repo.user_for_update(conn, user_id=user_id) is None:
            raise NotFound(f"No user {user_id}.", key="no_user", params={"id": user_id})
        await repo.set_temporary_password(conn, user_id=user_id, password_hash=password_hash,
                                          expires_at=datetime.now(UTC) + TEMPORARY_PASSWORD_TTL)
        ended = await repo.revoke_user_sessions(conn, user_id=user_id)
        await audit.record(conn, actor=actor, action="user.password_reset", entity_type="user", entity_id=user_id,
                           new={"sessions_ended": ended,
                                "expires_in_h": int(TEMPORARY_PASSWORD_TTL.total_seconds() // 3600)})
    return temporary


async def reset_factor(pool: asyncpg.Pool, *, user_id: int, actor: Staff) -> bool:
    """Removes the user's TOTP factor and recovery codes (a lost phone). Whether there was a confirmed one."""
    async with pool.acquire() as conn, conn.transaction():
        if await repo.user_for_update(conn, user_id=user_id) is None:
            raise NotFound(f"No user {user_id}.", key="no_user", params={"id": user_id})
        was = await repo.delete_factor(conn, user_id=user_id)
        ended = await repo.revoke_user_sessions(conn, user_id=user_id)
        await audit.record(conn, actor=actor, action="user.totp_reset", entity_type="user", entity_id=user_id,
                           old={"factor": "enrolled" if was else "pending" if was is not None else None},
                           new={"sessions_ended": ended})
    return bool(was)
