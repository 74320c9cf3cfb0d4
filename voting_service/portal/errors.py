"""Errors as pages for browsers, problem documents for everyone else.

The portal's routes render every error as a page in the visitor's language (``page_exception_handlers``, on
the portal router). A request that matched no route at all (``/no-such-page``) reaches the app's handlers:
``html_or_problem`` wraps them so that a browser (``Accept: text/html``, outside ``/api/``, ``/health``,
``/metrics`` and ``/schema``) gets the 404 page and API clients keep ``application/problem+json``.

A 503 (Postgres or Redis not answering) is the "service busy, your vote was not lost" page: a vote is
either accepted with a receipt or not taken, never half.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import asyncpg
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException

from shared.errors import AppError
from shared.problem import exception_handlers as problem_handlers
from shared.wiring import SERVICES
from voting_service.portal.render import page

log = logging.getLogger("voting_service.portal")

NOT_PAGES = ("/api/", "/health", "/metrics", "/schema", "/static/", "/photos/", "/api-docs/")
# Statuses that have their own page text (errors.title.N / errors.text.N); others use 400 or 500.
KNOWN = (400, 403, 404, 405, 413, 415, 422, 429, 500, 503)
OUTAGES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, TimeoutError, ConnectionError,
           OSError, asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.ConnectionDoesNotExistError,
           asyncpg.exceptions.InterfaceError)


def wants_html(request: Request) -> bool:
    """For a request no route matched: a browser asking for a page."""
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(NOT_PAGES)


def wants_json(request: Request) -> bool:
    """For a portal route: a client that asked for JSON and not for HTML gets a problem document."""
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _problem(request: Request, exc: Exception) -> Response[Any]:
    handlers = problem_handlers()
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls](request, exc)
    return handlers[Exception](request, exc)


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> Response[bytes]:
    shown = status if status in KNOWN else (500 if status >= 500 else 400)
    return page(request, request.app.state[SERVICES].settings, "error.html", status=status, headers=headers,
                status_code=shown)


def _app_error(request: Request, exc: AppError) -> Response[bytes]:
    status = 404 if exc.status == 404 else exc.status
    return error_page(request, status, headers=exc.headers or None)


def _http_error(request: Request, exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, NotFoundException):
        return error_page(request, 404)
    status = exc.status_code if 400 <= exc.status_code < 600 else 500
    return error_page(request, status, headers=exc.headers or None)


def _unavailable(request: Request, exc: Exception) -> Response[bytes]:
    log.warning("a portal page could not reach Postgres or Redis: %r", exc)
    return error_page(request, 503, headers={"Retry-After": "5"})


def _unexpected(request: Request, exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on a portal page", exc_info=exc)
    return error_page(request, 500)


def _pages() -> dict[Any, Callable[..., Response[Any]]]:
    return {AppError: _app_error, HTTPException: _http_error, **{exc: _unavailable for exc in OUTAGES},
            Exception: _unexpected}


def page_exception_handlers() -> dict[Any, Any]:
    """The portal router's handlers (every outage the app maps to a 503 document is listed again here, so
    that a page gets the 503 page: handlers are looked up along the exception's MRO over both maps)."""

    def negotiated(page_handler: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
        def handler(request: Request, exc: Any) -> Response[Any]:
            return _problem(request, exc) if wants_json(request) else page_handler(request, exc)
        return handler

    return {exc_type: negotiated(fn) for exc_type, fn in _pages().items()}


def html_or_problem(handlers: dict[Any, Callable[..., Response[Any]]] | None = None) -> dict[Any, Any]:
    """The app's handlers (shared/problem.py), answering a browser's request for a page with a page."""
    handlers = handlers if handlers is not None else problem_handlers()
    pages = _pages()

    def negotiated(exc_type: Any, api_handler: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
        page_handler = pages.get(exc_type) or (_unavailable if issubclass(exc_type, OUTAGES) else
                                               _http_error if issubclass(exc_type, HTTPException) else
                                               _app_error if issubclass(exc_type, AppError) else _unexpected)

        def handler(request: Request, exc: Any) -> Response[Any]:
            if wants_html(request):
                return page_handler(request, exc)
            return api_handler(request, exc)

        return handler

    return {exc_type: negotiated(exc_type, fn) for exc_type, fn in handlers.items()}
