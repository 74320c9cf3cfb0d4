"""Rendering a page: the template context every page shares, security headers, the language cookie.

Pages are server-rendered with Jinja (autoescape on); the Content-Security-Policy allows scripts, styles and
requests from this origin only, so nothing that comes from data can run, and htmx is configured by a static
file (static/app.js) rather than inline code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from admin_service.auth.cookies import cookie_secure
from admin_service.auth.context import Staff
from admin_service.web.i18n import COOKIE as LANG_COOKIE
from admin_service.web.i18n import DEFAULT, LANGUAGES, catalogue, name_in, pick, translator
from admin_service.web.messages import explainer, signal_text
from shared import reference
from shared.web import SECURITY_HEADERS
from shared.web import safe_next as _safe_next


# Navigation: (path, catalogue key, roles that see the link).
NAV = (
    ("/candidates", "nav.candidates", ("admin", "secretariat", "expert", "working_group", "auditor")),
    ("/nominations", "nav.nominations", ("secretariat", "auditor")),
    ("/campaigns", "nav.campaigns", ("admin", "secretariat", "expert", "working_group", "auditor")),
    ("/audit", "nav.audit", ("admin", "auditor")),
    ("/users", "nav.users", ("admin",)),
)


def staff_or_none(connection: ASGIConnection) -> Staff | None:
    return connection.scope.get("state", {}).get("staff")


def lang_of(connection: ASGIConnection) -> str:
    asked = connection.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return pick(connection.cookies.get(LANG_COOKIE, DEFAULT))


def lang_cookies(connection: ASGIConnection) -> list[Cookie]:
    """?lang=xx switches the language and remembers it (a year, this site only)."""
    asked = connection.query_params.get("lang")
    if asked in LANGUAGES and connection.cookies.get(LANG_COOKIE) != asked:
        return [Cookie(key=LANG_COOKIE, value=asked, path="/", httponly=True, samesite="strict",
                       secure=cookie_secure(connection), max_age=365 * 24 * 3600)]
    return []


def url_with(connection: ASGIConnection, **changes: Any) -> str:
    """The current path with some query parameters replaced (None removes one)."""
    params = {k: v for k, v in connection.query_params.items()}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return connection.url.path + (f"?{query}" if query else "")


def fmt_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _flash(connection: ASGIConnection) -> str | None:
    """?ok=KEY after a post/redirect/get shows the catalogue's ``flash.KEY``; unknown keys show nothing."""
    key = connection.query_params.get("ok")
    return key if key and f"flash.{key}" in catalogue(DEFAULT) else None


def base_context(connection: ASGIConnection) -> dict[str, Any]:
    lang = lang_of(connection)
    staff = staff_or_none(connection)
    held = staff.roles if staff else frozenset()
    return {
        "t": translator(lang),
        "say": explainer(lang),  # an error's message in this language (web/messages.py)
        "say_signal": lambda signal, cluster: signal_text(signal, cluster, lang),  # a fraud signal, explained
        "lang": lang,
        "languages": LANGUAGES,
        "staff": staff,
        "csrf": staff.csrf_token if staff else "",
        "nav": [(path, key) for path, key, allowed in NAV if held.intersection(allowed)],
        "path": connection.url.path,
        "lang_url": lambda code: url_with(connection, lang=code),
        "url_with": lambda **kw: url_with(connection, **kw),
        "region_names": {r["code"]: name_in(r["name"], lang) for r in reference.regions()},
        "sphere_names": {s["code"]: name_in(s["name"], lang) for s in reference.spheres()},
        "fmt_time": fmt_time,
        "flash": _flash(connection),
    }


def page(request: Request, template: str, *, status: int = 200, cookies: list[Cookie] | None = None,
         headers: dict[str, str] | None = None, **context: Any) -> Template:
    return Template(template, context={**base_context(request), **context}, status_code=status,
                    headers={**SECURITY_HEADERS, **(headers or {})},
                    cookies=[*lang_cookies(request), *(cookies or [])])


def see_other(location: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    """303 after a form post (post/redirect/get)."""
    return Redirect(location, status_code=303, headers=dict(SECURITY_HEADERS), cookies=cookies or [])


def safe_next(target: str | None, default: str = "/candidates") -> str:
    """Only a path on this site (shared/web.py); the staff home by default."""
    return _safe_next(target, default)
