"""An ASGI app served through granian's RSGI interface: ``ASGIOverRSGI(app)``.

Why: granian answers a request through RSGI for markedly less CPU than through ASGI (a raw app on this
2-vCPU box: ~41 000 against ~31 000 requests/s, docs/performance.md), and the vote is the one route where
that matters. The voting service therefore runs as an RSGI app whose vote route is served natively
(voting_service/fastpath.py) while every other request goes through this bridge to the Litestar app,
which sees the ASGI 3 messages it would get from granian's own ASGI interface. (``rsgiadapter`` on PyPI
does the same job but buffers every response through a temporary file, decodes headers as UTF-8 and
swallows the app's exceptions; hence this small module.)

Covered: HTTP requests (body streamed in, response sent whole or streamed out, ``http.disconnect``) and
the lifespan (through granian's own ``LifespanProtocol``, run from ``__rsgi_init__`` / ``__rsgi_del__``).
Not covered: websockets (the services serve none; granian runs with ``--no-ws``). Differences from
granian's ASGI that follow from RSGI itself: ``raw_path`` is the decoded path quoted again (RSGI does not
keep the original), and request header values that are not ASCII do not reach the app (granian leaves them
out of the RSGI headers); response headers must be ASCII.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from granian.asgi import LifespanProtocol

log = logging.getLogger(__name__)

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]

_PATH_SAFE = "/:@!$&'()*+,;=~"
_ASGI = {"version": "3.0", "spec_version": "2.3"}
WHOLE_BODY_MAX = 1 << 20  # a body of declared length up to this is read in one call, larger ones streamed
READ_WHOLE: Any = object()


def _address(value: str) -> tuple[str, int] | None:
    """RSGI's ``"1.2.3.4:5678"`` / ``"[::1]:5678"`` as ASGI's ``(host, port)``; ``None`` when not TCP."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


class ASGIOverRSGI:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lifespan: LifespanProtocol | None = None

    # granian calls these on the worker's loop before it serves and after it stops.

    def startup(self, loop: asyncio.AbstractEventLoop) -> None:
        self._lifespan = LifespanProtocol(self.app)
        loop.run_until_complete(self._lifespan.startup())
        if self._lifespan.interrupt:
            log.error("ASGI lifespan startup failed", exc_info=self._lifespan.exc)
            sys.exit(1)

    def shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._lifespan is not None:
            loop.run_until_complete(self._lifespan.shutdown())

    async def __call__(self, scope: Any, proto: Any, body: bytes | None = None) -> None:
        """Serve one RSGI HTTP request with the ASGI app; ``body``: the request body if already read."""
        if scope.proto != "http":
            return
        path = scope.path
        asgi_scope = {
            "type": "http",
            "asgi": _ASGI,
            "http_version": scope.http_version,
            "method": scope.method,
            "scheme": scope.scheme,
            "path": path,
            "raw_path": quote(path, safe=_PATH_SAFE).encode("ascii"),  # RSGI gives the path decoded only
            "query_string": scope.query_string.encode("utf-8"),
            "root_path": "",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()],
            "client": _address(scope.client),
            "server": _address(scope.server),
            "state": dict(self._lifespan.state) if self._lifespan is not None else {},
        }
        if body is None and scope.http_version.startswith("1"):
            length = scope.headers.get("content-length")
            if length is None and "transfer-encoding" not in scope.headers:
                body = b""  # HTTP/1 without length or chunking: there is no body
            elif length is not None and length.isdigit() and int(length) <= WHOLE_BODY_MAX:
                body = READ_WHOLE  # read in one call, when the app first asks for it
        chunks: Any = None
        body_done = False

        async def receive() -> dict[str, Any]:
            nonlocal body_done, chunks
            if not body_done:
                if body is not None:
                    body_done = True
                    return {"type": "http.request", "body": await proto() if body is READ_WHOLE else body,
                            "more_body": False}
                if chunks is None:
                    chunks = proto.__aiter__()
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    body_done = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                return {"type": "http.request", "body": chunk, "more_body": True}
            await proto.client_disconnect()
            return {"type": "http.disconnect"}

        status = 0
        headers: list[tuple[str, str]] = []
        stream = None
        finished = False

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers, stream, finished
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
            elif kind == "http.response.body" and status and not finished:
                data = message.get("body", b"")
                more = message.get("more_body", False)
                if stream is None:
                    if not more:
                        finished = True
                        proto.response_bytes(status, headers, data)
                        return
                    stream = proto.response_stream(status, headers)
                if data:
                    await stream.send_bytes(data)
                finished = not more

        try:
            await self.app(asgi_scope, receive, send)
        except Exception:
            log.exception("unhandled error serving %s %s", scope.method, path)
            if not status:
                proto.response_bytes(500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error")
            return
        if not status:  # the app returned without answering
            proto.response_bytes(500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error")
        elif stream is None and not finished:  # started but never sent a body
            proto.response_empty(status, headers)

    # granian's RSGI protocol: an instance is itself a servable target.
    __rsgi_init__ = startup
    __rsgi_del__ = shutdown
    __rsgi__ = __call__
