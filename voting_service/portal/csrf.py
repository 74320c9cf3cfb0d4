"""CSRF protection of every form the portal posts (sign-in, code, sign-out, vote, nomination).

Two independent checks, both required:

* the browser says the post comes from this site: an ``Origin`` header, when sent, names this host (or the
  configured public address); without one, ``Sec-Fetch-Site``, when sent, is ``same-origin``;
* the form carries ``csrf_token`` = HMAC-SHA256 (a sub-key of the pseudonym key, labelled for this one use) of a
  random per-browser value kept in the ``faces_csrf`` cookie (HttpOnly, SameSite=Strict, ``__Host-``). Another
  site can neither read the cookie nor compute the token.

Pages cached for everyone never carry a token: forms that need one are on personal pages (not cached), and the
ballot's vote buttons submit the personal ``vote-form`` through their ``form`` attribute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from shared.crypto import b64u, subkey
from shared.errors import Forbidden
from shared.text import same_secret
from voting_service.portal import session
from voting_service.state import Services

COOKIE = "faces_csrf"
FIELD = "csrf_token"
_LABEL = "faces portal csrf v1"


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = "The form expired or came from another site"


def _token_for(services: Services, browser: str) -> str:
    key = subkey(services.settings.secrets.pseudonym_key, _LABEL)  # type: ignore[attr-defined]
    return b64u(hmac.new(key, browser.encode(), hashlib.sha256).digest()[:18])


def form_token(connection: ASGIConnection, services: Services) -> tuple[str, list[Cookie]]:
    """The token for the forms of this (personal) page, and the cookie to set when the browser has none yet."""
    browser = session.read(connection, services, COOKIE)
    if len(browser) == 24:
        return _token_for(services, browser), []
    browser = b64u(secrets.token_bytes(18))
    # A browser-session cookie: nothing is recorded about it, it only ties forms to this browser.
    return _token_for(services, browser), [session.cookie(connection, services, COOKIE, browser, max_age=None)]


def _hostport(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc or "").lower()


def same_site(connection: ASGIConnection, services: Services) -> bool:
    origin = connection.headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, some redirects) and anything odd
        allowed = {connection.headers.get("host", connection.url.netloc).lower()}
        if services.settings.public_url:
            allowed.add(_hostport(services.settings.public_url))
        return parts.netloc.lower() in allowed
    fetch_site = connection.headers.get("sec-fetch-site")
    return fetch_site is None or fetch_site in ("same-origin", "none")


def verify(connection: ASGIConnection, services: Services, sent: str) -> None:
    """Raise ``CsrfFailed`` unless the post is from this site and carries this browser's token."""
    if not same_site(connection, services):
        raise CsrfFailed("This form was sent from another site.")
    browser = session.read(connection, services, COOKIE)
    if not sent or len(browser) != 24 or not same_secret(sent, _token_for(services, browser)):
        raise CsrfFailed("This form has expired; open the page again and resend it.")
