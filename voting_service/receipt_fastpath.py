"""A fast path for the receipt lookup, ``GET /api/v1/receipts/{receipt}``, over RSGI and ASGI.

After finalisation every voter may check their receipt and its inclusion proof (issue 11, docs/verify.md), so
this read is the second hot route. Litestar's request machinery (routing, DI, the Prometheus middleware,
the response pipeline) cost about three times the lookup itself; the fast path runs the very same lookup
(``Receipts.lookup``: one Postgres row, the cached tree head and upper levels) and encodes its ``Receipt``
with msgspec, as the Litestar route does.

It answers only what it can answer identically: a GET without a body whose lookup succeeds (200). Anything
else — a body, a receipt not found, a malformed one, Postgres or Redis down — goes to Litestar untouched,
which looks the receipt up again and answers (404 problem+json or the portal's HTML page for a browser, 503
...) exactly as it always has: the errors cost one more lookup, the 200s none of the framework.
tests/integration/voting/test_receipt_fastpath.py checks the answers are byte-identical to the route's.

Request metrics (``litestar_request*`` with the route template label) are counted like the vote's
(``metrics.HotRouteMetrics``).
"""

from __future__ import annotations

import re
import time
from typing import Any

import msgspec
from litestar.types import Receive, Scope, Send

from voting_service.fastpath import tune_gc_once
from voting_service.metrics import HotRouteMetrics
from voting_service.state import Services

RECEIPT_PATH = re.compile(r"/api/v1/receipts/([^/]+)")
RECEIPT_TEMPLATE = "/api/v1/receipts/{receipt}"

_encode = msgspec.json.Encoder().encode
_JSON_HEADERS = [("content-type", "application/json")]


class ReceiptFastPath:
    def __init__(self, app: Any, metrics: HotRouteMetrics) -> None:
        self._app = app  # the Litestar app: its ``state.services`` is what the route's handler is given
        self.metrics = metrics

    async def _answer(self, receipt: str) -> bytes | None:
        """The 200 body, or None when Litestar must answer (not found, bad receipt, a store down...)."""
        tune_gc_once()
        svc: Services = self._app.state.services
        started = time.perf_counter()
        self.metrics.started()
        try:
            found = await svc.receipts.lookup(receipt)
        except Exception:
            self.metrics.cancelled()
            return None
        except BaseException:
            self.metrics.finished(500, time.perf_counter() - started)
            raise
        payload = _encode(found)
        self.metrics.finished(200, time.perf_counter() - started)
        return payload

    # -- ASGI ---------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send, receipt: str, fallback: Any) -> None:
        for name, value in scope["headers"]:
            if (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
                return await fallback(scope, receive, send)
        payload = await self._answer(receipt)
        if payload is None:
            return await fallback(scope, receive, send)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"%d" % len(payload))]})
        await send({"type": "http.response.body", "body": payload})
        return None

    # -- RSGI ---------------------------------------------------------------------------------------------

    async def rsgi(self, scope: Any, proto: Any, receipt: str, fallback: Any) -> None:
        headers = scope.headers
        length = headers.get_all("content-length")
        if headers.get_all("transfer-encoding") or any(v != "0" for v in length):
            return await fallback(scope, proto)
        payload = await self._answer(receipt)
        if payload is None:
            return await fallback(scope, proto)
        proto.response_bytes(200, _JSON_HEADERS, payload)
        return None
