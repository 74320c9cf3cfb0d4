"""HTTP pieces both apps share: strict JSON requests."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from shared.errors import UnsupportedMediaType


class JSONRequest(Request):
    """Litestar turns only ``msgspec.DecodeError`` into a 400; msgspec raises UnicodeDecodeError for invalid
    UTF-8 inside a string and RecursionError for absurd nesting, which would otherwise be a 500."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except (UnicodeDecodeError, RecursionError) as exc:
            raise SerializationException(f"Malformed JSON body ({type(exc).__name__}).") from exc


async def require_json(request: Request) -> None:
    """JSON API bodies are JSON only; anything else is refused before it is read. Routes that take HTML
    forms say so with ``opt={"form": True}``. A request without a body (``Content-Length: 0`` or none, not
    chunked) has nothing to refuse: actions such as POST /users/{id}/password-reset take none."""
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return
    if request.method in ("POST", "PUT", "PATCH") and not request.route_handler.opt.get("form"):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise UnsupportedMediaType("Send the body as application/json.")
