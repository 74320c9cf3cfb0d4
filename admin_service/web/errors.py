"""Errors on web pages: HTML instead of problem+json, and a redirect to the sign-in page without a session.

``web_exception_handlers`` is registered on the web router, so the JSON API keeps its problem documents. A
request that matched no route at all (``/no-such-page``, ``GET`` on a form's action) reaches the app's
handlers: ``html_or_problem`` wraps them so that a browser (``Accept: text/html``, outside ``/api/``,
``/health``, ``/metrics``, ``/schema`` and the static files) gets the error page in the reader's language, with
the navigation when signed in (``staff_for_error_page``, an ``after_exception`` hook, resolves the session,
which no guard did for an unmatched URL) and a sign-in link otherwise; API clients keep problem+json.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import asyncpg
import redis.exceptions
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.types import Scope

from admin_service.auth.cookies import session_id
from admin_service.auth.guards import ActionRequired, LoginRequired
from admin_service.deps import services_of
from admin_service.web.render import SECURITY_HEADERS, page, safe_next, see_other
from shared.errors import AppError

log = logging.getLogger("admin_service.web")

# Paths that are never pages: their errors stay problem documents whatever the client accepts.
NOT_PAGES = ("/api/", "/health", "/metrics", "/schema", "/static/", "/api-docs/")


def wants_page(connection: ASGIConnection) -> bool:
    """A browser asking for a page (for a request that no page route answered)."""
    return ("text/html" in connection.headers.get("accept", "")
            and not connection.url.path.startswith(NOT_PAGES))


def _login_required(request: Request, _: LoginRequired) -> Response[Any]:
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?next={quote(wanted, safe='')}"
    if request.headers.get("hx-request"):
        # An XHR would follow a 303 and swap the sign-in page into a fragment: tell htmx to navigate.
        return Response(b"", status_code=401, headers={**SECURITY_HEADERS, "HX-Redirect": target})
    return see_other(target)


def _action_required(request: Request, _: ActionRequired) -> Response[Any]:
    """A session that must change its password or enrol a second factor is sent to "My account"."""
    if request.headers.get("hx-request"):
        return Response(b"", status_code=403, headers={**SECURITY_HEADERS, "HX-Redirect": "/account"})
    return see_other("/account")


def _back(request: Request) -> str | None:
    """Where the failed form was (the Referer, if it is a page of this site)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.headers.get("host", request.url.netloc):
        return None
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(target, default="") or None


def error_page(request: Request, status: int, code: str, error: AppError | None = None,
               headers: dict[str, str] | None = None) -> Response[Any]:
    """The error page: the status, the text of the code and, for an error that has one, its own message in the
    reader's language (web/messages.py; never the English detail of the API)."""
    return page(request, "error.html", status=status, headers=headers, status_code=status, code=code,
                error=error, back=_back(request))


def _app_error(request: Request, exc: AppError) -> Response[Any]:
    return error_page(request, exc.status, exc.code, exc, headers=exc.headers or None)


def _http_error(request: Request, exc: HTTPException) -> Response[Any]:
    if isinstance(exc, ValidationException):
        return error_page(request, 400, "invalid_request")
    if isinstance(exc, NotFoundException):
        return error_page(request, 404, "not_found")
    status = exc.status_code if 400 <= exc.status_code < 600 else 500
    return error_page(request, status, "invalid_request" if status < 500 else "internal_error",
                      headers=exc.headers or None)


def _unavailable(request: Request, exc: Exception) -> Response[Any]:
    log.warning("a page could not reach Postgres or Redis: %r", exc)
    return error_page(request, 503, "unavailable", headers={"Retry-After": "1"})


def _unexpected(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error on a page", exc_info=exc)
    return error_page(request, 500, "internal_error")


def web_exception_handlers() -> dict[Any, Any]:
    # Looked up along the exception's MRO over the app's and this router's maps together: the outages the
    # app maps to a 503 problem document are listed again here so that a page gets a 503 page instead.
    outages = {exc: _unavailable for exc in (
        redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, TimeoutError, ConnectionError, OSError,
        asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.ConnectionDoesNotExistError,
        asyncpg.exceptions.InterfaceError)}
    return {LoginRequired: _login_required, ActionRequired: _action_required, AppError: _app_error,
            HTTPException: _http_error, **outages,
            Exception: _unexpected}


def html_or_problem(handlers: dict[Any, Callable[..., Response[Any]]]) -> dict[Any, Any]:
    """The app's handlers (shared/problem.py), answering a browser's request for a page with a page."""
    pages = web_exception_handlers()

    def negotiated(exc_type: Any, api_handler: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
        page_handler = next((pages[c] for c in exc_type.__mro__ if c in pages), _unexpected)

        def handler(request: Request, exc: Any) -> Response[Any]:
            return page_handler(request, exc) if wants_page(request) else api_handler(request, exc)

        return handler

    return {exc_type: negotiated(exc_type, fn) for exc_type, fn in handlers.items()}


async def staff_for_error_page(_: Exception, scope: Scope) -> None:
    """``after_exception`` hook: before a browser's error page for an unmatched URL is rendered, the session
    (if any) is resolved so that the page shows the signed-in navigation. Routes that ran the guard already
    have it; API paths and clients that do not ask for HTML are left alone (nothing is read)."""
    state = scope.setdefault("state", {})
    if scope.get("type") != "http" or "staff" in state:
        return
    connection: ASGIConnection = ASGIConnection(scope)
    raw = session_id(connection) if wants_page(connection) else ""
    if not raw:
        return
    try:
        staff = await services_of(connection.app).sessions.resolve(raw)
    except Exception:  # noqa: BLE001 - an error page must not fail on a store that is down: no navigation then
        log.warning("the session of an error page could not be read", exc_info=True)
        return
    if staff is not None:
        state["staff"] = staff
