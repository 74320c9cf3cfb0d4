"""Staff accounts (admin only): create, list, end a user's sessions, deactivate / reactivate / change roles,
issue a temporary password, remove a lost second factor."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody, Parameter

from admin_service.auth.context import staff_of
from admin_service.auth.guards import roles
from admin_service.models import FactorResetOut, RevokedOut, TemporaryPasswordOut, UserIn, UserOut, UserPatchIn
from admin_service.services import users as service
from admin_service.state import AppServices

UserId = Annotated[int, Parameter(ge=1, le=2**53 - 1)]  # JSON-safe; a larger id is a 422, never a database error


def _out(row: asyncpg.Record) -> UserOut:
    return UserOut(id=str(row["id"]), email=row["email"], roles=list(row["roles"]), active=row["active"],
                   created_at=row["created_at"], last_login_at=row.get("last_login_at"),
                   totp_enrolled=row.get("totp_enrolled"))


class UserController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [roles("admin")]

    @post("/", operation_id="createUser", status_code=201)
    async def create(self, request: Request, services: AppServices, data: JSONBody[UserIn]) -> UserOut:
        row = await service.create_user(services.pool, email=data.email, password=data.password,
                                        roles=list(data.roles), actor=staff_of(request),
                                        passwords=services.passwords)
        return _out(row)

    @get("/", operation_id="listUsers")
    async def list_users(self, services: AppServices) -> list[UserOut]:
        return [_out(r) for r in await service.list_users(services.pool)]

    @delete("/{user_id:int}/sessions", operation_id="endUserSessions", status_code=200)
    async def end_sessions(self, request: Request, services: AppServices,
                           user_id: UserId) -> RevokedOut:
        n = await service.end_sessions(services.pool, user_id=user_id, actor=staff_of(request))
        return RevokedOut(revoked=n)

    @patch("/{user_id:int}", operation_id="updateUser", status_code=200,
           opt={"problems": (404, 409, 422)})  # not_found, last_admin, invalid_request
    async def update(self, request: Request, services: AppServices, user_id: UserId,
                     data: JSONBody[UserPatchIn]) -> UserOut:
        """Deactivate / reactivate and change roles; any change ends all of the user's sessions."""
        row = await service.update_account(services.pool, user_id=user_id, active=data.active,
                                           roles=None if data.roles is None else list(data.roles),
                                           actor=staff_of(request))
        return _out(row)

    @post("/{user_id:int}/password-reset", operation_id="resetUserPassword", status_code=200,
          opt={"problems": (404,)})
    async def reset_password(self, request: Request, services: AppServices, user_id: UserId) -> TemporaryPasswordOut:
        """A temporary password, shown once: one sign-in within 24 h, then it must be changed."""
        temporary = await service.reset_password(services.pool, user_id=user_id, actor=staff_of(request),
                                                 passwords=services.passwords)
        return TemporaryPasswordOut(temporary_password=temporary)

    @delete("/{user_id:int}/totp", operation_id="resetUserTotp", status_code=200,
            opt={"problems": (404,)})
    async def reset_totp(self, request: Request, services: AppServices, user_id: UserId) -> FactorResetOut:
        """Removes the user's TOTP factor and recovery codes (lost phone); ends the user's sessions."""
        had = await service.reset_factor(services.pool, user_id=user_id, actor=staff_of(request))
        return FactorResetOut(had_factor=had)
