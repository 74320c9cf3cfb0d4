"""The receipt lookup's fast path (voting_service/receipt_fastpath.py) answers exactly as the Litestar route:
each request is sent to the app as served (fast path in front) and to the same app with the fast path
bypassed (Litestar alone); status, headers and body must be identical. Cases: a counted vote's receipt with
its inclusion proof, an invalidated one, an unknown one, a malformed one, a GET with a body, a browser."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from admin_service.services import finalise as finalise_service
from tests.integration.admin.test_verifiable_result import _finalised
from tests.integration.voting.conftest import client, voting_app  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def short_reconcile_wait(monkeypatch):
    monkeypatch.setattr(finalise_service, "RECONCILE_WAIT_S", 0.3)


async def _answer(client: httpx.AsyncClient, bypass: bool, path: str, headers: dict[str, str], body: bytes):
    app = client._transport.app  # type: ignore[attr-defined]

    async def litestar_only(scope, receive, send):
        await Litestar.__call__(app, scope, receive, send)

    transport = httpx.ASGITransport(app=litestar_only if bypass else app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vote.test") as c:
        r = await c.request("GET", path, headers=headers, content=body)
    return r.status_code, [(k, v) for k, v in r.headers.raw if k.lower() != b"date"], r.content


async def test_receipt_fast_path_answers_like_litestar(staff, pool, redis, settings, client, flusher_pool,
                                                       flusher_redis):
    camp, receipts, bad, _ = await _finalised(staff, pool, redis, settings, client, flusher_pool, flusher_redis)
    counted = next(r for r, _ in receipts if r not in bad)
    invalidated = next(iter(bad))
    unknown = counted[:-1] + ("0" if counted[-1] != "0" else "1")
    cases = {
        "counted": (f"/api/v1/receipts/{counted}", {}, b""),
        "invalidated": (f"/api/v1/receipts/{invalidated}", {}, b""),
        "unknown": (f"/api/v1/receipts/{unknown}", {}, b""),
        "malformed": ("/api/v1/receipts/not-a-receipt", {}, b""),
        "browser_unknown": (f"/api/v1/receipts/{unknown}", {"accept": "text/html"}, b""),
        "with_body": (f"/api/v1/receipts/{counted}", {"content-type": "application/json"}, b"{}"),
        "query": (f"/api/v1/receipts/{counted}?x=1", {}, b""),
    }
    seen = {}
    for name, (path, headers, body) in cases.items():
        fast = await _answer(client, False, path, headers, body)
        plain = await _answer(client, True, path, headers, body)
        assert fast == plain, name
        seen[name] = fast[0]
    assert seen["counted"] == seen["invalidated"] == 200 and seen["unknown"] == seen["malformed"] == 404
    body = (await client.get(f"/api/v1/receipts/{counted}")).json()
    assert body["proof"]["tree_size"] == len(receipts) - len(bad) and body["tree_head"]["tree_size"]
    assert "proof" not in (await client.get(f"/api/v1/receipts/{invalidated}")).json()


async def test_receipt_fast_path_counts_its_requests(staff, pool, redis, settings, client, flusher_pool,
                                                     flusher_redis):
    camp, receipts, bad, _ = await _finalised(staff, pool, redis, settings, client, flusher_pool, flusher_redis)

    def served(text: str) -> float:
        total = 0.0
        for line in text.splitlines():
            if (line.startswith("litestar_requests_total{") and 'path="/api/v1/receipts/{receipt}"' in line
                    and 'method="GET"' in line and 'status_code="200"' in line):
                total += float(line.rsplit(" ", 1)[1])
        return total

    before = served((await client.get("/metrics")).text)
    for r, _ in receipts[:5]:
        assert (await client.get(f"/api/v1/receipts/{r}")).status_code == 200
    assert served((await client.get("/metrics")).text) == before + 5
