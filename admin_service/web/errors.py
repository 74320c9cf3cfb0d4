"""Errors on web pages: HTML instead of problem+json, and a redirect to the sign-in page without a session.

Registered on the web router only, so the JSON API keeps its problem documents.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

import asyncpg
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from admin_service.auth.guards import ActionRequired, LoginRequired
from admin_service.web.render import SECURITY_HEADERS, page, safe_next, see_other
from shared.errors import AppError

log = logging.getLogger("admin_service.web")


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


def error_page(request: Request, status: int, code: str, detail: str,
               headers: dict[str, str] | None = None) -> Response[Any]:
    return page(request, "error.html", status=status, headers=headers, status_code=status, code=code,
                detail=detail, back=_back(request))


def _app_error(request: Request, exc: AppError) -> Response[Any]:
    return error_page(request, exc.status, exc.code, exc.detail, headers=exc.headers or None)


def _http_error(request: Request, exc: HTTPException) -> Response[Any]:
    if isinstance(exc, ValidationException):
        return error_page(request, 400, "invalid_request", str(exc.detail))
    if isinstance(exc, NotFoundException):
        return error_page(request, 404, "not_found", str(exc.detail))
    status = exc.status_code if 400 <= exc.status_code < 600 else 500
    return error_page(request, status, "invalid_request" if status < 500 else "internal_error", str(exc.detail))


def _unavailable(request: Request, exc: Exception) -> Response[Any]:
    log.warning("a page could not reach Postgres or Redis: %r", exc)
    return error_page(request, 503, "unavailable", "", headers={"Retry-After": "1"})


def _unexpected(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error on a page", exc_info=exc)
    return error_page(request, 500, "internal_error", "")


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
