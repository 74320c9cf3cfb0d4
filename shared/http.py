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


def _methods_by_template(app: Any) -> dict[str, str]:
    from litestar.routes import HTTPRoute

    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods.setdefault(route.path_format, set()).update(route.methods)
    return {template: ", ".join(sorted(ms)) for template, ms in methods.items()}


async def allow_every_method(message: Any, scope: Any) -> None:
    """``before_send`` hook: the ``Allow`` header of Litestar's automatic OPTIONS answer names every method of
    the path. Litestar computes it from the route object its OPTIONS handler was made with; when handlers of
    one path come from several controllers (or are registered one after another) that object knows only the
    first ones, so ``Allow`` listed only some methods."""
    if (message["type"] != "http.response.start" or scope.get("method") != "OPTIONS"
            or message.get("status") != 204 or "path_template" not in scope):
        return
    app = scope["litestar_app"]
    table = app.state.get("_allow_by_template")
    if table is None:
        table = app.state["_allow_by_template"] = _methods_by_template(app)
    allow = table.get(scope["path_template"])
    if allow is not None:
        message["headers"] = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
        message["headers"].append((b"allow", allow.encode("latin-1")))
