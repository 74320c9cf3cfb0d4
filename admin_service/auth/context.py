"""Who is acting: the staff member behind the current session."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection

from shared.errors import Unauthorized

ROLES = ("admin", "secretariat", "expert", "working_group", "auditor")
# Roles for which STAFF_MFA=required makes a second factor mandatory.
MFA_ROLES = frozenset({"admin", "working_group"})

# What a session must do before it may do anything else (``Staff.required_action``).
CHANGE_PASSWORD = "change_password"  # signed in with a temporary password
ENROL_TOTP = "enrol_totp"            # a role that requires a second factor, none enrolled yet


def mfa_mandatory(staff_mfa: str, roles: frozenset[str] | list[str]) -> bool:
    return staff_mfa == "required" and bool(MFA_ROLES.intersection(roles))


def required_action(*, staff_mfa: str, roles: frozenset[str] | list[str], password_state: str,
                    totp_enrolled: bool) -> str:
    if password_state != "set":
        return CHANGE_PASSWORD
    if not totp_enrolled and mfa_mandatory(staff_mfa, roles):
        return ENROL_TOTP
    return ""


@dataclass(frozen=True, slots=True)
class Staff:
    id: int
    email: str
    roles: frozenset[str]
    session_hash: str = ""
    csrf_token: str = ""
    required_action: str = ""  # "", CHANGE_PASSWORD or ENROL_TOTP: the session may do only that (and sign out)
    ip_hash: str = ""          # the keyed hash of the address this request came from (into the audit log)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def staff_of(connection: ASGIConnection) -> Staff:
    """The signed-in staff member (set by the authentication guard); 401 if there is none."""
    staff = connection.scope.get("state", {}).get("staff")
    if staff is None:
        raise Unauthorized("Sign in first.", key="sign_in_first")
    return staff
