"""Sign-in and sign-out: POST /api/v1/session, DELETE /api/v1/session, GET /api/v1/session (who am I); the
signed-in user's own account: POST /api/v1/session/password, POST /api/v1/session/totp (+ /confirm)."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody

from admin_service.auth.client import client_ip_hash
from admin_service.auth.context import CHANGE_PASSWORD, ENROL_TOTP, Staff, staff_of
from admin_service.auth.cookies import session_cookie, session_id
from admin_service.models import (
    LoginIn,
    PasswordChangedOut,
    PasswordChangeIn,
    RecoveryCodesOut,
    SessionOut,
    TotpConfirmIn,
    TotpEnrolmentOut,
    UserOut,
)
from admin_service.state import AppServices


def user_out(staff: Staff) -> UserOut:
    return UserOut(id=str(staff.id), email=staff.email, roles=sorted(staff.roles))


def session_out(staff: Staff) -> SessionOut:
    return SessionOut(user=user_out(staff), csrf_token=staff.csrf_token,
                      required_action=staff.required_action or None)  # type: ignore[arg-type]


# Routes a session with a required action may still use (see auth/guards.py).
BOTH = {"pending_ok": (CHANGE_PASSWORD, ENROL_TOTP)}


class SessionController(Controller):
    path = "/session"
    tags = ["session"]

    @post("/", operation_id="login", status_code=200,
          opt={"public": True, "problems": (401, 429)})  # invalid_credentials, mfa_required; rate_limited
    async def login(self, request: Request, services: AppServices, data: JSONBody[LoginIn]) -> Response[SessionOut]:
        raw, staff = await services.sessions.login(
            email=data.email, password=data.password, totp=data.totp, ip_hash=client_ip_hash(request),
            previous_cookie=session_id(request) or None)
        settings = services.settings
        return Response(session_out(staff),
                        cookies=[session_cookie(request, raw, max_age=settings.admin_session_absolute_s)])

    @get("/", operation_id="whoami", opt=BOTH)
    async def whoami(self, request: Request) -> SessionOut:
        return session_out(staff_of(request))

    @post("/password", operation_id="changeOwnPassword", status_code=200,
          opt={**BOTH, "problems": (401, 422, 429)})  # invalid_credentials; weak_password; rate_limited
    async def change_password(self, request: Request, services: AppServices,
                              data: JSONBody[PasswordChangeIn]) -> PasswordChangedOut:
        """Needs the current password; every other session of the user ends."""
        ended = await services.account.change_password(
            staff_of(request), current=data.current_password, new=data.new_password,
            ip_hash=client_ip_hash(request))
        return PasswordChangedOut(other_sessions_ended=ended)

    @post("/totp", operation_id="startTotpEnrolment", status_code=200,
          opt={"pending_ok": (ENROL_TOTP,), "problems": (409,)})  # already_enrolled
    async def start_totp(self, request: Request, services: AppServices) -> TotpEnrolmentOut:
        """A new secret, pending until confirmed (a pending one is replaced)."""
        uri, secret = await services.account.start_totp(staff_of(request))
        return TotpEnrolmentOut(otpauth_uri=uri, secret=secret)

    @post("/totp/confirm", operation_id="confirmTotpEnrolment", status_code=200,
          opt={"pending_ok": (ENROL_TOTP,), "problems": (401, 409)})  # invalid_code; already_enrolled, no_pending_…
    async def confirm_totp(self, request: Request, services: AppServices,
                           data: JSONBody[TotpConfirmIn]) -> RecoveryCodesOut:
        """A current code of the pending secret confirms it; the 10 recovery codes are shown this once."""
        codes = await services.account.confirm_totp(staff_of(request), code=data.code)
        return RecoveryCodesOut(recovery_codes=codes)

    @delete("/", operation_id="logout", status_code=204, opt=BOTH)
    async def logout(self, request: Request, services: AppServices) -> Response[None]:
        await services.sessions.logout(staff_of(request))
        return Response(None, status_code=204, cookies=[session_cookie(request, "", max_age=0)])
