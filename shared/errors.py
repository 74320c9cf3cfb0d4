"""One error hierarchy for both services.

Domain code raises these; each service maps them to RFC 9457 problem documents in one place
(``shared.problem``). ``code`` strings are the contract of API.md; ``detail`` is English, for API clients.

What a person reads on a page comes from the message catalogues instead: an error may carry ``key`` (the
catalogue key ``msg.<key>``) and ``params`` (the values its text names: a field, a slug, a number), which the
web layer renders in the reader's language (admin_service/web/messages.py). Params named ``field`` are field
names and are translated too.
"""

from __future__ import annotations


class ConfigError(Exception):
    """A setting is missing or wrong; raised at start-up, never during a request."""


class AppError(Exception):
    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(self, detail: str | None = None, *, code: str | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, object] | None = None,
                 key: str | None = None, params: dict[str, object] | None = None) -> None:
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        self.headers = headers or {}
        self.extra = extra or {}
        self.key = key
        self.params = params or {}
        super().__init__(self.detail)


class InvalidRequest(AppError):
    status = 422
    code = "invalid_request"
    title = "Invalid request"


class BadRequest(InvalidRequest):
    status = 400


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class Unauthorized(AppError):
    status = 401
    code = "not_authenticated"
    title = "Not authenticated"


class InvalidCode(AppError):
    """A one-time code (a voter's SMS code, a staff member's TOTP code) that is wrong or expired."""
    status = 401
    code = "invalid_code"
    title = "Wrong or expired code"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, code: str | None = None,
                 key: str | None = None, params: dict[str, object] | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail, code=code, headers={"Retry-After": str(self.retry_after)}, key=key, params=params)


class Unavailable(AppError):
    status = 503
    code = "unavailable"
    title = "Service temporarily unavailable"

    def __init__(self, detail: str | None = None, *, code: str | None = None, key: str | None = None,
                 params: dict[str, object] | None = None) -> None:
        super().__init__(detail, code=code, headers={"Retry-After": "1"}, key=key, params=params)
