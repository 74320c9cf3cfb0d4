"""Who is acting: the staff member behind the current session."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection

from shared.errors import Unauthorized

ROLES = ("admin", "secretariat", "expert", "working_group", "auditor")


@dataclass(frozen=True, slots=True)
class Staff:
    id: int
    email: str
    roles: frozenset[str]
    session_hash: str = ""
    csrf_token: str = ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def staff_of(connection: ASGIConnection) -> Staff:
    """The signed-in staff member (set by the authentication guard); 401 if there is none."""
    staff = connection.scope.get("state", {}).get("staff")
    if staff is None:
        raise Unauthorized("Sign in first.")
    return staff
