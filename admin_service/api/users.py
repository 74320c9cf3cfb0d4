"""Staff accounts (admin only): create, list, end a user's sessions."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, Parameter

from admin_service.auth.context import staff_of
from admin_service.auth.guards import roles
from admin_service.models import RevokedOut, UserIn, UserOut
from admin_service.services import users as service


def _out(row: asyncpg.Record) -> UserOut:
    return UserOut(id=str(row["id"]), email=row["email"], roles=list(row["roles"]), active=row["active"],
                   created_at=row["created_at"], last_login_at=row.get("last_login_at"))


class UserController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [roles("admin")]

    @post("/", operation_id="createUser", status_code=201)
    async def create(self, request: Request, data: JSONBody[UserIn]) -> UserOut:
        row = await service.create_user(request.app.state.pool, email=data.email, password=data.password,
                                        roles=list(data.roles), actor=staff_of(request))
        return _out(row)

    @get("/", operation_id="listUsers")
    async def list_users(self, request: Request) -> list[UserOut]:
        return [_out(r) for r in await service.list_users(request.app.state.pool)]

    @delete("/{user_id:int}/sessions", operation_id="endUserSessions", status_code=200)
    async def end_sessions(self, request: Request,
                           user_id: Annotated[int, Parameter(ge=1, le=2**63 - 1)]) -> RevokedOut:  # a bigint
        n = await service.end_sessions(request.app.state.pool, user_id=user_id, actor=staff_of(request))
        return RevokedOut(revoked=n)
