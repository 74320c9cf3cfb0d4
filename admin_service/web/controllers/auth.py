"""Sign-in and sign-out pages (the same SessionService as POST /api/v1/session)."""

from __future__ import annotations

import secrets

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie

from admin_service.auth.client import client_ip_hash
from admin_service.auth.context import staff_of
from admin_service.auth.cookies import LOGIN, cookie_name, session_cookie, session_id, staff_cookie
from admin_service.services.sessions import InvalidCredentials, MfaRequired
from admin_service.web.controllers.forms import form_of
from admin_service.web.render import page, safe_next, see_other
from admin_service.state import AppServices
from shared.errors import RateLimited
from shared.text import same_secret

# Sign-in happens before there is a session (and its CSRF token): a double-submit token in a short-lived
# cookie (``__Host-``, so path /) protects the form, on top of the Origin check and the SameSite=Strict cookies.


def _login_cookie(request: Request, value: str, *, max_age: int) -> Cookie:
    return staff_cookie(request, LOGIN, value, max_age=max_age)


def _form(request: Request, *, status: int = 200, error: str | None = None, email: str = "",
          next_path: str = "/candidates") -> Response:
    token = secrets.token_urlsafe(24)
    return page(request, "login.html", status=status, error=error, email=email, next_path=next_path,
                mfa=error == "login.error.mfa_required", login_token=token,
                cookies=[_login_cookie(request, token, max_age=3600)])


class AuthPages(Controller):
    path = "/"
    opt = {"public": True}

    @get("/login", operation_id="webLoginForm", include_in_schema=False)
    async def login_form(self, request: Request, services: AppServices) -> Response:
        next_path = safe_next(request.query_params.get("next"))
        raw = session_id(request)
        if raw and await services.sessions.resolve(raw) is not None:
            return see_other(next_path)
        return _form(request, next_path=next_path)

    @post("/login", operation_id="webLogin", include_in_schema=False, opt={"form": True})
    async def login(self, request: Request, services: AppServices) -> Response:
        fields = await form_of(request)
        next_path = safe_next(fields.get("next"))
        sent = str((await request.form()).get("login_token", ""))
        expected = request.cookies.get(cookie_name(request, LOGIN), "")
        if not sent or not expected or not same_secret(sent, expected):
            return _form(request, status=403, error="login.error.expired", email=fields.get("email", ""),
                         next_path=next_path)
        try:
            raw, staff = await services.sessions.login(
                email=fields.get("email", "")[:254], password=fields.get("password", "")[:1024],
                totp=fields.get("totp", "")[:64] or None, ip_hash=client_ip_hash(request),
                previous_cookie=session_id(request) or None)
        except MfaRequired:
            return _form(request, status=401, error="login.error.mfa_required", email=fields.get("email", ""),
                         next_path=next_path)
        except InvalidCredentials:
            return _form(request, status=401, error="login.error.credentials", email=fields.get("email", ""),
                         next_path=next_path)
        except RateLimited:
            return _form(request, status=429, error="login.error.throttled", email=fields.get("email", ""),
                         next_path=next_path)
        settings = services.settings
        if staff.required_action:  # a temporary password to change or a second factor to enrol first
            next_path = "/account"
        return see_other(next_path, cookies=[session_cookie(request, raw, max_age=settings.admin_session_absolute_s),
                                             _login_cookie(request, "", max_age=0)])


class SignOutPage(Controller):
    path = "/logout"
    opt = {"pending_ok": ("change_password", "enrol_totp")}

    @post("/", operation_id="webLogout", include_in_schema=False, opt={"form": True})
    async def logout(self, request: Request, services: AppServices) -> Response:
        await services.sessions.logout(staff_of(request))
        return see_other("/login", cookies=[session_cookie(request, "", max_age=0)])

    @get("/", operation_id="webLogoutPage", include_in_schema=False)
    async def logout_page(self, request: Request) -> Response:
        return page(request, "logout.html")
