""""My account" (/account): the signed-in staff member changes their password and enrols the TOTP second
factor (the same AccountService as POST /api/v1/session/password and /session/totp).

A session that must change its password or enrol a factor is sent here by the guard (web/errors.py), and
these routes are the only pages it may use besides sign-out. The enrolment shows the secret and the otpauth
URI as text and as a QR code: an SVG image in a data: URI (img-src allows data:), so no script or style is
inline. Recovery codes are shown once, on the answer to the confirmation, never again.
"""

from __future__ import annotations

from dataclasses import replace

from litestar import Controller, Request, Response, get, post

from admin_service.auth.client import client_ip_hash
from admin_service.auth.context import CHANGE_PASSWORD, ENROL_TOTP, staff_of
from admin_service.auth.passwords import WeakPassword
from admin_service.services.account import AlreadyEnrolled, NoEnrolment
from shared.errors import InvalidCode
from admin_service.services.sessions import InvalidCredentials
from admin_service.web.controllers.forms import form_of
from admin_service.web.render import page, see_other
from admin_service.state import AppServices, Services
from shared.errors import RateLimited

BOTH = {"pending_ok": (CHANGE_PASSWORD, ENROL_TOTP)}
ENROL = {"pending_ok": (ENROL_TOTP,)}


def qr_data_uri(uri: str) -> str:
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


async def _account_page(request: Request, services: Services, *, status: int = 200, error: str | None = None,
                        detail: WeakPassword | None = None, recovery_codes: list[str] | None = None) -> Response:
    staff = staff_of(request)
    state, pending, left = await services.account.factor_state(staff)
    return page(request, "account.html", status=status, error=error, detail=detail, factor=state,
                pending_uri=pending[0] if pending else None, pending_secret=pending[1] if pending else None,
                qr=qr_data_uri(pending[0]) if pending else None, codes_left=left,
                recovery_codes=recovery_codes or [], required=staff.required_action)


class AccountPages(Controller):
    path = "/account"

    @get("/", operation_id="webAccount", include_in_schema=False, opt=BOTH)
    async def account(self, request: Request, services: AppServices) -> Response:
        return await _account_page(request, services)

    @post("/password", operation_id="webAccountPassword", include_in_schema=False, opt={"form": True, **BOTH})
    async def change_password(self, request: Request, services: AppServices) -> Response:
        fields = await form_of(request)  # stripped, as on the sign-in and the new-account forms
        current, new = fields.get("current_password", "")[:1024], fields.get("new_password", "")[:1024]
        if new != fields.get("new_password2", "")[:1024]:
            return await _account_page(request, services, status=422, error="account.error.mismatch")
        try:
            await services.account.change_password(staff_of(request), current=current, new=new,
                                                            ip_hash=client_ip_hash(request))
        except WeakPassword as exc:
            return await _account_page(request, services, status=422, error="account.error.weak", detail=exc)
        except InvalidCredentials:
            return await _account_page(request, services, status=401, error="account.error.current")
        except RateLimited:
            return await _account_page(request, services, status=429, error="login.error.throttled")
        return see_other("/account?ok=password_changed")

    @post("/totp", operation_id="webAccountTotp", include_in_schema=False, opt={"form": True, **ENROL})
    async def start_totp(self, request: Request, services: AppServices) -> Response:
        try:
            await services.account.start_totp(staff_of(request))
        except AlreadyEnrolled:
            return await _account_page(request, services, status=409, error="account.error.enrolled")
        return see_other("/account#totp")

    @post("/totp/confirm", operation_id="webAccountTotpConfirm", include_in_schema=False,
          opt={"form": True, **ENROL})
    async def confirm_totp(self, request: Request, services: AppServices) -> Response:
        code = (await form_of(request)).get("code", "")[:64]
        try:
            codes = await services.account.confirm_totp(staff_of(request), code=code)
        except InvalidCode:
            return await _account_page(request, services, status=401, error="account.error.code")
        except (AlreadyEnrolled, NoEnrolment):
            return await _account_page(request, services, status=409, error="account.error.no_pending")
        staff = staff_of(request)
        if staff.required_action == ENROL_TOTP:  # fulfilled: this answer already shows the full session
            request.scope["state"]["staff"] = replace(staff, required_action="")
        return await _account_page(request, services, recovery_codes=codes)
