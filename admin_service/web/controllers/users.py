"""Staff accounts page (admin only): the list with roles and last sign-in, a form to create an account
(the same rules as the JSON API: e-mail, password policy, 1 - 5 known roles), ending a user's sessions,
deactivating / reactivating, changing roles, issuing a temporary password (shown once, on the answer to
that post; never stored in clear) and removing a lost second factor."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from admin_service.auth.context import ROLES, staff_of
from admin_service.auth.guards import roles
from admin_service.models import UserIn, UserPatchIn
from admin_service.services import users as service
from admin_service.web.controllers.forms import form_list, form_of
from admin_service.web.render import page, see_other
from admin_service.state import AppServices, Services
from admin_service.services.common import invalid_input
from shared.errors import AppError, InvalidRequest


async def _users_page(request: Request, services: Services, *, status: int = 200, error: AppError | None = None,
                      typed: dict[str, object] | None = None, action_error: AppError | None = None,
                      temporary: dict[str, str] | None = None) -> Response:
    return page(request, "users.html", status=status, users=await service.list_users(services.pool),
                all_roles=ROLES, error=error, v=typed or {"email": "", "roles": []}, action_error=action_error,
                temporary=temporary)


class UserPages(Controller):
    path = "/users"
    guards = [roles("admin")]

    @get("/", operation_id="webUsers", include_in_schema=False)
    async def users(self, request: Request, services: AppServices) -> Response:
        return await _users_page(request, services)

    @post("/", operation_id="webUserCreate", include_in_schema=False, opt={"form": True})
    async def create(self, request: Request, services: AppServices) -> Response:
        fields = await form_of(request)
        typed = {"email": fields.get("email", ""), "roles": await form_list(request, "role")}
        try:
            data = msgspec.convert({**typed, "password": fields.get("password", "")}, UserIn)
            await service.create_user(services.pool, email=data.email, password=data.password,
                                      roles=list(data.roles), actor=staff_of(request),
                                      passwords=services.passwords)
        except msgspec.ValidationError as exc:  # the form again, with what was typed (never the password)
            return await _users_page(request, services, status=422, error=invalid_input(exc), typed=typed)
        except AppError as exc:
            if exc.status >= 500:
                raise
            return await _users_page(request, services, status=exc.status, error=exc, typed=typed)
        return see_other("/users?ok=user_created")

    @post("/{user_id:int}/end-sessions", operation_id="webUserEndSessions", include_in_schema=False,
          opt={"form": True})
    async def end_sessions(self, request: Request, services: AppServices, user_id: FromPath[int]) -> Response:
        await service.end_sessions(services.pool, user_id=user_id, actor=staff_of(request))
        return see_other("/users?ok=sessions_ended")

    async def _update(self, request: Request, services: Services, user_id: int, body: dict[str, object],
                      ok: str) -> Response:
        try:
            data = msgspec.convert(body, UserPatchIn)
            await service.update_account(services.pool, user_id=user_id, active=data.active,
                                         roles=None if data.roles is None else list(data.roles),
                                         actor=staff_of(request))
        except msgspec.ValidationError as exc:
            return await _users_page(request, services, status=422, action_error=invalid_input(exc))
        except AppError as exc:
            if exc.status >= 500:
                raise
            return await _users_page(request, services, status=exc.status, action_error=exc)
        return see_other(f"/users?ok={ok}")

    @post("/{user_id:int}/active", operation_id="webUserActive", include_in_schema=False, opt={"form": True})
    async def set_active(self, request: Request, services: AppServices, user_id: FromPath[int]) -> Response:
        """``active=true`` reactivates, ``active=false`` deactivates (and ends the sessions)."""
        value = (await form_of(request)).get("active", "")
        active = {"true": True, "false": False}.get(value)
        if active is None:
            return await _users_page(request, services, status=422, action_error=InvalidRequest(
                "active: true or false", extra={"field": "active"}, key="invalid", params={"field": "active"}))
        return await self._update(request, services, user_id, {"active": active},
                                  "user_activated" if active else "user_deactivated")

    @post("/{user_id:int}/roles", operation_id="webUserRoles", include_in_schema=False, opt={"form": True})
    async def set_roles(self, request: Request, services: AppServices, user_id: FromPath[int]) -> Response:
        return await self._update(request, services, user_id, {"roles": await form_list(request, "role")},
                                  "roles_changed")

    @post("/{user_id:int}/totp-reset", operation_id="webUserTotpReset", include_in_schema=False, opt={"form": True})
    async def reset_totp(self, request: Request, services: AppServices, user_id: FromPath[int]) -> Response:
        await service.reset_factor(services.pool, user_id=user_id, actor=staff_of(request))
        return see_other("/users?ok=totp_reset")

    @post("/{user_id:int}/password-reset", operation_id="webUserPasswordReset", include_in_schema=False,
          opt={"form": True})
    async def reset_password(self, request: Request, services: AppServices, user_id: FromPath[int]) -> Response:
        temporary = await service.reset_password(services.pool, user_id=user_id, actor=staff_of(request),
                                                 passwords=services.passwords)
        email = next((u["email"] for u in await service.list_users(services.pool) if u["id"] == user_id), "")
        return await _users_page(request, services, temporary={"email": email, "password": temporary})
