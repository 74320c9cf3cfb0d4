"""Sign-in and sign-out: POST /api/v1/session, DELETE /api/v1/session, GET /api/v1/session (who am I)."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody

from admin_service.auth.client import client_ip_hash
from admin_service.auth.context import Staff, staff_of
from admin_service.auth.cookies import cookie_secure, session_cookie, session_id
from admin_service.models import LoginIn, SessionOut, UserOut

__all__ = ["SessionController", "client_ip_hash", "cookie_secure", "session_cookie", "user_out"]


def user_out(staff: Staff) -> UserOut:
    return UserOut(id=str(staff.id), email=staff.email, roles=sorted(staff.roles))


class SessionController(Controller):
    path = "/session"
    tags = ["session"]

    @post("/", operation_id="login", status_code=200, opt={"public": True})
    async def login(self, request: Request, data: JSONBody[LoginIn]) -> Response[SessionOut]:
        raw, staff = await request.app.state.sessions.login(
            email=data.email, password=data.password, ip_hash=client_ip_hash(request),
            previous_cookie=session_id(request) or None)
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
