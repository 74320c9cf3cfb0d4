"""Authentication, CSRF and role guards.

``authenticate`` runs on every ``/api/v1`` route (and every page of the web UI): it resolves the session
cookie (401 ``not_authenticated`` without one), and on any state-changing method requires the session's
``X-CSRF-Token`` (403 ``csrf_failed``) and an Origin, if the browser sent one, that is this site's own.
Routes marked ``opt={"public": True}`` (sign-in) skip the session but keep the Origin check.
``roles(...)`` then checks the role (403 ``forbidden``).

A session with a ``required_action`` (signed in with a temporary password, or without the second factor its
role requires) reaches only the routes whose ``opt["pending_ok"]`` names that action (whoami, sign-out,
the password change, TOTP enrolment); elsewhere 403 ``password_change_required`` /
``mfa_enrolment_required`` (web pages redirect to /account).
"""

from __future__ import annotations

import dataclasses

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from admin_service.auth.client import client_ip_hash
from admin_service.auth.context import CHANGE_PASSWORD, Staff
from admin_service.auth.cookies import session_id
from admin_service.deps import services_of
from shared.errors import Forbidden, Unauthorized
from shared.text import same_secret

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = "Missing or wrong CSRF token"


class ActionRequired(Forbidden):
    """The session must change its password or enrol a second factor first."""


class PasswordChangeRequired(ActionRequired):
    code = "password_change_required"
    title = "Change the temporary password first"


class MfaEnrolmentRequired(ActionRequired):
    code = "mfa_enrolment_required"
    title = "Enrol a second factor first"


class LoginRequired(Unauthorized):
    """Raised for web pages; the web error handler turns it into a redirect to the sign-in page."""


def _own_origin(connection: ASGIConnection) -> str:
    return f"{connection.url.scheme}://{connection.headers.get('host', connection.url.netloc)}"


def check_origin(connection: ASGIConnection) -> None:
    origin = connection.headers.get("origin")
    if origin is None or connection.method in SAFE_METHODS:
        return
    allowed = {_own_origin(connection)}
    extra = services_of(connection.app).settings.admin_allowed_origins
    allowed.update(o.strip().rstrip("/") for o in extra.split(",") if o.strip())
    if origin.rstrip("/") not in allowed:
        raise CsrfFailed("Cross-origin request refused.", key="csrf_origin")


async def authenticate(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if connection.method == "OPTIONS":
        return  # Litestar's own answer (204 + Allow), which reveals nothing and changes nothing
    check_origin(connection)
    if handler.opt.get("public"):
        return
    raw = session_id(connection)
    staff: Staff | None = await services_of(connection.app).sessions.resolve(raw) if raw else None
    if staff is None:
        if handler.opt.get("web"):
            raise LoginRequired("Sign in first.", key="sign_in_first")
        raise Unauthorized("Sign in first.", key="sign_in_first")
    staff = dataclasses.replace(staff, ip_hash=client_ip_hash(connection))  # the real address, for the audit log
    connection.scope.setdefault("state", {})["staff"] = staff
    if connection.method not in SAFE_METHODS:
        sent = connection.headers.get("x-csrf-token", "")
        if not sent and handler.opt.get("web"):
            form = await connection.form() if hasattr(connection, "form") else {}  # type: ignore[attr-defined]
            sent = str(form.get("csrf_token", ""))
        if not sent or not same_secret(sent, staff.csrf_token):
            raise CsrfFailed("Send the X-CSRF-Token header you received at sign-in.", key="csrf_stale")
    if staff.required_action and staff.required_action not in handler.opt.get("pending_ok", ()):
        if staff.required_action == CHANGE_PASSWORD:
            raise PasswordChangeRequired("Change your temporary password first (POST /api/v1/session/password).",
                                         key="password_change_required")
        raise MfaEnrolmentRequired("Your role needs a second factor: enrol one first (POST /api/v1/session/totp).",
                                   key="mfa_enrolment_required")


def roles(*allowed: str):  # noqa: ANN201 - a Litestar guard
    """Guard: the signed-in staff member must hold one of ``allowed``."""
    wanted = frozenset(allowed)

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if connection.method == "OPTIONS":
            return
        staff: Staff | None = connection.scope.get("state", {}).get("staff")
        if staff is None:
            raise Unauthorized("Sign in first.", key="sign_in_first")
        if not staff.roles & wanted:
            raise Forbidden(f"This needs one of the roles: {', '.join(sorted(wanted))}.", key="role_needed",
                            params={"roles": sorted(wanted)})

    guard.__name__ = f"roles_{'_'.join(sorted(wanted))}"
    return guard


ANY_ROLE = ("admin", "secretariat", "expert", "working_group", "auditor")
