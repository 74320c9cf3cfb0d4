"""Cookies of both services: ``__Host-`` prefixed, ``Secure``, HttpOnly, SameSite=Strict, path ``/``, except in
development or test over plain http to a loopback host.

``__Host-`` makes the browser refuse the cookie unless it is Secure, for path ``/`` and without a Domain: a
sibling site or a plain-http page cannot plant or overwrite it. Production is reached through a TLS-terminating
proxy (which may talk plain http to us), so the scheme we see says nothing there; a browser refuses a Secure
cookie on ``http://127.0.0.1``, hence the one exception (plain name, not Secure).
"""

from __future__ import annotations

import ipaddress

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from shared.settings import Settings

HOST_PREFIX = "__Host-"


def loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_dev(connection: ASGIConnection, settings: Settings) -> bool:
    """Development or test, over plain http, to a loopback host: the one case without Secure and prefix."""
    return settings.is_development and connection.url.scheme == "http" and loopback(connection.url.hostname)


def cookie_secure(connection: ASGIConnection, settings: Settings) -> bool:
    return not plain_http_dev(connection, settings)


def cookie_name(connection: ASGIConnection, settings: Settings, base: str) -> str:
    """The name this request's policy gives the cookie ``base`` (to read it back)."""
    return base if plain_http_dev(connection, settings) else HOST_PREFIX + base


def strict_cookie(connection: ASGIConnection, settings: Settings, base: str, value: str, *,
                  max_age: int | None) -> Cookie:
    """HttpOnly, SameSite=Strict, path /, Secure and ``__Host-`` prefixed unless plain-http development.
    ``max_age=None``: a browser-session cookie; 0 deletes it."""
    secure = cookie_secure(connection, settings)
    return Cookie(key=HOST_PREFIX + base if secure else base, value=value, path="/", httponly=True,
                  samesite="strict", secure=secure, max_age=max_age)
