"""Staff cookies: ``__Host-`` prefixed and ``Secure`` everywhere except development over plain http on
loopback, by the rule of shared/cookies.py (the same for the public portal's cookies).
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from admin_service.deps import services_of
from shared import cookies as shared_cookies

SESSION = "faces_admin_session"
LOGIN = "faces_admin_login"   # the sign-in form's double-submit token (there is no session yet)


def cookie_secure(connection: ASGIConnection) -> bool:
    return shared_cookies.cookie_secure(connection, services_of(connection.app).settings)


def cookie_name(connection: ASGIConnection, base: str) -> str:
    return shared_cookies.cookie_name(connection, services_of(connection.app).settings, base)


def staff_cookie(connection: ASGIConnection, base: str, value: str, *, max_age: int) -> Cookie:
    return shared_cookies.strict_cookie(connection, services_of(connection.app).settings, base, value,
                                        max_age=max_age)


def session_cookie(connection: ASGIConnection, value: str, *, max_age: int) -> Cookie:
    return staff_cookie(connection, SESSION, value, max_age=max_age)


def session_id(connection: ASGIConnection) -> str:
    """The session cookie's value as this request's policy names it ('' when absent)."""
    return connection.cookies.get(cookie_name(connection, SESSION), "")
