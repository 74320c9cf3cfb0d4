"""Rendering a portal page: the Jinja environment, the context every page shares, language choice, responses.

Templates are Jinja with autoescape on (data can never become markup) and StrictUndefined (a typo is an
error in the tests, not an empty string on the site). The context of a page that is the same for everyone
must not depend on anything personal: ``shared_context`` takes the language and the page's public address
only, so it can be rendered once and cached (voting_service/portal/cache.py). Personal pages (sign-in, my
votes, …) use ``page()``, which renders per request and is never stored.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.response import Redirect
from markupsafe import Markup

from shared import reference
from shared.cookies import cookie_secure
from shared.i18n import format_date, format_datetime, name_in
from shared.settings import Settings
from shared.web import PAGE_HEADERS, SECURITY_HEADERS
from voting_service.portal import staticfiles
from voting_service.portal.i18n import CATALOGUES, COOKIE, DEFAULT, LANGUAGES
from voting_service.portal.paths import TEMPLATES

# Kazakhstan keeps one time zone (UTC+5) since March 2024; dates and times on pages are shown in it.
KZ_TIME = dt.timezone(dt.timedelta(hours=5), "UTC+5")
HTML = "text/html"  # Litestar adds "; charset=utf-8"
LANG_COOKIE_AGE = 365 * 24 * 3600

# The slot of a cached page that a personal part may replace (voting_service/portal/cache.py). Autoescape
# turns every "<" of data into "&lt;", so data can never produce these comments.
SLOT_START = Markup("<!--slot-->")
SLOT_END = Markup("<!--/slot-->")


@functools.cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals["static"] = staticfiles.url
    env.globals["slot_start"] = SLOT_START
    env.globals["slot_end"] = SLOT_END
    return env


# --- language ---------------------------------------------------------------------------------------------------

def lang_of(connection: ASGIConnection) -> str:
    """``?lang=`` if it names a language, else the remembered one (cookie ``faces_lang``), else Kazakh."""
    asked = connection.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return CATALOGUES.pick(connection.cookies.get(COOKIE, DEFAULT))


def lang_cookies(connection: ASGIConnection, settings: Settings) -> list[Cookie]:
    """``?lang=xx`` switches the language and remembers it for a year. SameSite=Lax (not Strict): someone who
    follows a shared link keeps their language on the first page too."""
    asked = connection.query_params.get("lang")
    if asked in LANGUAGES and connection.cookies.get(COOKIE) != asked:
        return [Cookie(key=COOKIE, value=asked, path="/", httponly=True, samesite="lax",
                       secure=cookie_secure(connection, settings), max_age=LANG_COOKIE_AGE)]
    return []


@functools.cache
def region_names(lang: str) -> dict[str, str]:
    return {r["code"]: name_in(r["name"], lang) for r in reference.regions()}


@functools.cache
def sphere_names(lang: str) -> dict[str, str]:
    return {s["code"]: name_in(s["name"], lang) for s in reference.spheres()}


def base_url(connection: ASGIConnection, settings: Settings) -> str:
    """The site's public address: PUBLIC_URL, else this request's scheme and host."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"{connection.url.scheme}://{connection.url.netloc}"


def with_query(path: str, params: Mapping[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return path + (f"?{query}" if query else "")


# --- context and rendering --------------------------------------------------------------------------------------

def shared_context(lang: str, *, path: str, base: str, query: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """What every page's template gets: the same for everyone who asks this path in this language.

    ``path`` + ``query`` are the page's own address without ``lang`` (canonical and hreflang links are made
    from them)."""
    query = dict(query or {})
    here = with_query(path, query)
    return {
        "t": CATALOGUES.translator(lang),
        "lang": lang,
        "languages": LANGUAGES,
        "path": path,
        "canonical": base + here,
        "base": base,
        "alternates": [(code, base + with_query(path, {**query, "lang": code})) for code in LANGUAGES],
        "lang_url": lambda code: with_query(path, {**query, "lang": code}),
        "region_names": region_names(lang),
        "sphere_names": sphere_names(lang),
        "regions": reference.regions(),
        "spheres": reference.spheres(),
        "date": lambda value: format_date(value, lang, tz=KZ_TIME),
        "datetime": lambda value: format_datetime(value, lang, tz=KZ_TIME),
        "meta": {},
    }


def render(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(context)


def request_context(request: Request, settings: Settings, **query: str | None) -> dict[str, Any]:
    """``shared_context`` for this request's language, path and the given query parameters."""
    return shared_context(lang_of(request), path=request.url.path, base=base_url(request, settings), query=query)


def page(request: Request, settings: Settings, template: str, *, status: int = 200,
         cookies: list[Cookie] | None = None, headers: dict[str, str] | None = None,
         query: Mapping[str, str | None] | None = None, **context: Any) -> Response[bytes]:
    """A personal page (or any page not worth caching): rendered per request, never stored
    (``Cache-Control: no-store``). ``query``: the parameters that belong to the page's address."""
    ctx = {**request_context(request, settings, **(query or {})), **context}
    body = render(template, ctx).replace(SLOT_START, "").replace(SLOT_END, "")
    return Response(body.encode("utf-8"), status_code=status, media_type=HTML,
                    headers={**SECURITY_HEADERS, **(headers or {})},
                    cookies=[*lang_cookies(request, settings), *(cookies or [])])


def see_other(location: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    """303 after a form post (post/redirect/get)."""
    return Redirect(location, status_code=303, headers=dict(SECURITY_HEADERS), cookies=cookies or [])


__all__ = ["HTML", "KZ_TIME", "PAGE_HEADERS", "SECURITY_HEADERS", "environment", "lang_of", "lang_cookies",
           "page", "render", "request_context", "see_other", "shared_context"]
