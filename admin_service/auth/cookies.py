"""Staff cookies: ``__Host-`` prefixed and ``Secure`` everywhere except development over plain http on
loopback (where a browser would refuse a Secure cookie on ``http://127.0.0.1``).

``__Host-`` makes the browser refuse the cookie unless it is Secure, for path ``/`` and without a Domain: a
sibling site or a plain-http page cannot plant or overwrite a staff session. Production is reached through a
TLS-terminating proxy (which may talk plain http to us), so the scheme we see says nothing there.
"""

from __future__ import annotations

import ipaddress

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from admin_service.deps import services_of

SESSION = "faces_admin_session"
LOGIN = "faces_admin_login"   # the sign-in form's double-submit token (there is no session yet)
HOST_PREFIX = "__Host-"


def _loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_dev(connection: ASGIConnection) -> bool:
    """Development or test, over plain http, to a loopback host: the one case without the prefix."""
    return (services_of(connection.app).settings.is_development and connection.url.scheme == "http"
            and _loopback(connection.url.hostname))


def cookie_secure(connection: ASGIConnection) -> bool:
    return not plain_http_dev(connection)


def cookie_name(connection: ASGIConnection, base: str) -> str:
    return base if plain_http_dev(connection) else HOST_PREFIX + base


def staff_cookie(connection: ASGIConnection, base: str, value: str, *, max_age: int) -> Cookie:
    secure = cookie_secure(connection)
    return Cookie(key=base if not secure else HOST_PREFIX + base, value=value, path="/", httponly=True,
                  samesite="strict", secure=secure, max_age=max_age)


def session_cookie(connection: ASGIConnection, value: str, *, max_age: int) -> Cookie:
    return staff_cookie(connection, SESSION, value, max_age=max_age)


def session_id(connection: ASGIConnection) -> str:
    """The session cookie's value as this request's policy names it ('' when absent)."""
    return connection.cookies.get(cookie_name(connection, SESSION), "")
