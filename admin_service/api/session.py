"""Sign-in and sign-out: POST /api/v1/session, DELETE /api/v1/session, GET /api/v1/session (who am I)."""

from __future__ import annotations

import hashlib
import hmac

from litestar import Controller, Request, Response, delete, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from admin_service.auth.context import Staff, staff_of
from admin_service.models import LoginIn, SessionOut, UserOut
from admin_service.services.sessions import COOKIE
from shared.crypto import b64u


def client_ip_hash(request: Request) -> str:
    peer = request.client.host if request.client else "0.0.0.0"
    key = request.app.state.settings.secrets.pseudonym_key
    return b64u(hmac.new(key, f"ip:{peer}".encode(), hashlib.sha256).digest()[:9])


def cookie_secure(connection: ASGIConnection) -> bool:
    """Secure behind TLS: the request came over https, or this is production, where the admin service is
    only reached through a TLS-terminating proxy (which may talk plain http to us)."""
    return connection.url.scheme == "https" or connection.app.state.settings.is_production


def session_cookie(request: Request, value: str, *, max_age: int) -> Cookie:
    return Cookie(key=COOKIE, value=value, path="/", httponly=True, samesite="strict",
                  secure=cookie_secure(request), max_age=max_age)


def user_out(staff: Staff) -> UserOut:
    return UserOut(id=str(staff.id), email=staff.email, roles=sorted(staff.roles))


class SessionController(Controller):
    path = "/session"
    tags = ["session"]

    @post("/", operation_id="login", status_code=200, opt={"public": True})
    async def login(self, request: Request, data: JSONBody[LoginIn]) -> Response[SessionOut]:
        raw, staff = await request.app.state.sessions.login(
            email=data.email, password=data.password, ip_hash=client_ip_hash(request),
            previous_cookie=request.cookies.get(COOKIE))
        settings = request.app.state.settings
        return Response(SessionOut(user=user_out(staff), csrf_token=staff.csrf_token),
                        cookies=[session_cookie(request, raw, max_age=settings.admin_session_absolute_s)])

    @get("/", operation_id="whoami")
    async def whoami(self, request: Request) -> SessionOut:
        staff = staff_of(request)
        return SessionOut(user=user_out(staff), csrf_token=staff.csrf_token)

    @delete("/", operation_id="logout", status_code=204)
    async def logout(self, request: Request) -> Response[None]:
        await request.app.state.sessions.logout(staff_of(request))
        return Response(None, status_code=204, cookies=[session_cookie(request, "", max_age=0)])
