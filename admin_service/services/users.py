"""Staff accounts: created by an admin (or the command line for the first one), never by default."""

from __future__ import annotations

import asyncpg

from admin_service.auth.context import Staff
from admin_service.auth.passwords import check_policy, hash_password
from admin_service.repos import staff as repo
from admin_service.services import audit
from shared.errors import Conflict, NotFound


async def create_user(pool: asyncpg.Pool, *, email: str, password: str, roles: list[str],
                      actor: Staff | None) -> asyncpg.Record:
    email = email.strip().lower()
    check_policy(password, email=email)
    password_hash = hash_password(password)
    async with pool.acquire() as conn, conn.transaction():
        try:
            row = await repo.insert_user(conn, email=email, password_hash=password_hash,
                                         roles=sorted(set(roles)))
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"A user with e-mail {email} exists.") from exc
        await audit.record(conn, actor=actor, action="user.create", entity_type="user", entity_id=row["id"],
                           new={"email": email, "roles": sorted(set(roles))})
    return row


async def list_users(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await repo.list_users(conn)


async def end_sessions(pool: asyncpg.Pool, *, user_id: int, actor: Staff) -> int:
    async with pool.acquire() as conn, conn.transaction():
        if await repo.user_by_id(conn, user_id=user_id) is None:
            raise NotFound(f"No user {user_id}.")
        n = await repo.revoke_user_sessions(conn, user_id=user_id)
        await audit.record(conn, actor=actor, action="user.end_sessions", entity_type="user", entity_id=user_id,
                           new={"revoked": n})
    return n
