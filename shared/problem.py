"""The one mapping from exceptions to ``application/problem+json`` responses."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
import redis.exceptions
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE

from shared.errors import AppError

log = logging.getLogger("shared.problem")

PROBLEM_JSON = "application/problem+json"
_encoder = msgspec.json.Encoder()


def problem_response(status: int, code: str, title: str, detail: str,
                     headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> Response[bytes]:
    body: dict[str, Any] = {
        "type": f"https://errors.100faces.kz/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if extra:
        body.update(extra)
    return Response(_encoder.encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _app_error(_: Request, exc: AppError) -> Response[bytes]:
    return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.headers, exc.extra)


def _http_error(_: Request, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        # Litestar's own body/parameter validation: malformed JSON, wrong types, unknown fields.
        code, title, status = "invalid_request", "Invalid request", 400 if "decode" in str(exc.detail).lower() else 422
        extra = {"errors": exc.extra} if exc.extra else None
        detail = str(exc.detail)
        first = exc.extra[0] if isinstance(exc.extra, list) and exc.extra else None
        if isinstance(first, dict) and first.get("message"):
            # Name the field in the detail: "`full_name` is blank - at `$.nominee`", "... - at `story`".
            message, key = str(first["message"]), first.get("key")
            if key and f"`{key}`" not in message and " - at `" not in message:
                message = f"{message} - at `{key}`"
            detail = f"{detail}: {message}"
        return problem_response(status, code, title, detail, extra=extra)
    if isinstance(exc, NotFoundException):
        return problem_response(404, "not_found", "Not found", str(exc.detail))
    if isinstance(exc, MethodNotAllowedException):
        return problem_response(405, "method_not_allowed", "Method not allowed", str(exc.detail), exc.headers)
    if isinstance(exc, NotAuthorizedException):
        return problem_response(401, "not_authenticated", "Not authenticated", str(exc.detail))
    if isinstance(exc, PermissionDeniedException):
        return problem_response(403, "forbidden", "Forbidden", str(exc.detail))
    if status == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        return problem_response(413, "payload_too_large", "Request body too large", str(exc.detail))
    if status == 415:
        return problem_response(415, "unsupported_media_type", "Unsupported media type", str(exc.detail))
    code = "invalid_request" if 400 <= status < 500 else "internal_error"
    return problem_response(status, code, str(exc.detail), str(exc.detail), exc.headers)


def _redis_down(_: Request, exc: Exception) -> Response[bytes]:
    log.warning("redis unavailable: %r", exc)
    return problem_response(503, "unavailable", "Service temporarily unavailable",
                            "The vote store is not answering; try again shortly.", {"Retry-After": "1"})


def _postgres_down(_: Request, exc: Exception) -> Response[bytes]:
    log.warning("postgres unavailable: %r", exc)
    return problem_response(503, "unavailable", "Service temporarily unavailable",
                            "The database is not answering; try again shortly.", {"Retry-After": "1"})


def _unstorable_text(_: Request, exc: Exception) -> Response[bytes]:
    # e.g. a NUL character: valid JSON, but text Postgres cannot store. Nothing was written.
    return problem_response(422, "invalid_request", "Invalid request",
                            "The text contains characters that cannot be stored (such as NUL).")


def _unexpected(_: Request, exc: Exception) -> Response[bytes]:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, "internal_error", "Internal error", "An unexpected error occurred.")


def exception_handlers() -> dict[Any, Any]:
    return {
        AppError: _app_error,
        HTTPException: _http_error,
        redis.exceptions.ConnectionError: _redis_down,
        redis.exceptions.TimeoutError: _redis_down,
        # Redis Cluster mid-failover: a slot without a primary, CLUSTERDOWN, TRYAGAIN: unavailable, not a bug.
        redis.exceptions.ClusterError: _redis_down,
        redis.exceptions.RedisClusterException: _redis_down,
        redis.exceptions.TryAgainError: _redis_down,
        TimeoutError: _redis_down,
        asyncpg.exceptions.CharacterNotInRepertoireError: _unstorable_text,
        asyncpg.exceptions.UntranslatableCharacterError: _unstorable_text,
        asyncpg.exceptions.CannotConnectNowError: _postgres_down,
        asyncpg.exceptions.ConnectionDoesNotExistError: _postgres_down,
        asyncpg.exceptions.InterfaceError: _postgres_down,
        ConnectionError: _postgres_down,
        OSError: _postgres_down,
        Exception: _unexpected,
    }


__all__ = ["PROBLEM_JSON", "exception_handlers", "problem_response", "MediaType"]
