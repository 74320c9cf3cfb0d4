"""Liveness, readiness, Prometheus metrics (labelled by route template) and the OpenAPI document."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_campaign
from tests.integration.voting.conftest import app_client, bearer, cast, settings_with, sign_in

PHONE = "+77078889900"

# Every route of the voting table in API.md, as OpenAPI paths.
API_PATHS = {
    "/health/live": "get",
    "/health/ready": "get",
    "/metrics": "get",
    "/api/v1/campaigns": "get",
    "/api/v1/campaigns/{campaign_id}": "get",
    "/api/v1/campaigns/{campaign_id}/candidates": "get",
    "/api/v1/campaigns/{campaign_id}/results": "get",
    "/api/v1/auth/otp": "post",
    "/api/v1/auth/otp/verify": "post",
    "/api/v1/campaigns/{campaign_id}/votes": "post",
    "/api/v1/campaigns/{campaign_id}/my-votes": "get",
    "/api/v1/receipts/{receipt}": "get",
    "/api/v1/nominations": "post",
}


def samples(text: str) -> list:
    return [s for fam in text_string_to_metric_families(text) for s in fam.samples]


def value(text: str, name: str, **labels: str) -> float:
    return sum(s.value for s in samples(text) if s.name == name and all(s.labels.get(k) == v
                                                                          for k, v in labels.items()))


async def test_live(client):
    r = await client.get("/health/live")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready(client):
    r = await client.get("/health/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready"}


async def test_metrics_count_votes_by_outcome(client, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=1)
    before = (await client.get("/metrics")).text
    token = await sign_in(client, PHONE)
    assert (await cast(client, camp.id, camp.candidate_ids[0], token)).status_code == 201
    assert (await cast(client, camp.id, camp.candidate_ids[0], token)).status_code == 409
    assert (await cast(client, camp.id, camp.candidate_ids[1], token)).status_code == 409
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = r.text
    assert "votes_total" in after
    for result in ("accepted", "already_voted", "vote_limit_reached"):
        assert value(after, "votes_total", result=result) == value(before, "votes_total", result=result) + 1
    assert value(after, "otp_sends_total", result="sent") >= value(before, "otp_sends_total", result="sent") + 1
    assert value(after, "otp_verify_total", result="ok") >= value(before, "otp_verify_total", result="ok") + 1


async def test_request_metrics_use_route_templates(client, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    token = await sign_in(client, PHONE)
    receipt = (await cast(client, camp.id, camp.candidate_ids[0], token)).json()["receipt"]
    await client.get(f"/api/v1/campaigns/{camp.id}")
    await client.get(f"/api/v1/campaigns/{camp.id}/my-votes", headers=bearer(token))
    await client.get(f"/api/v1/receipts/{receipt}")
    await client.get("/api/v1/campaigns/not-a-number")
    for n in range(5):  # scanners must not create a time series per URL
        await client.get(f"/api/v1/no-such-route-{n}")
    text = (await client.get("/metrics")).text
    request_samples = [s for s in samples(text) if s.name.startswith("litestar_request")]
    paths = {s.labels["path"] for s in request_samples}
    assert "/api/v1/campaigns/{campaign_id}/votes" in paths
    assert "/api/v1/campaigns/{campaign_id}" in paths
    assert "/api/v1/campaigns/{campaign_id}/my-votes" in paths
    assert "/api/v1/receipts/{receipt}" in paths
    for path in paths:
        assert not re.search(r"\d", path.replace("/api/v1/", "/")), f"raw id in a metric label: {path}"
        assert "no-such-route" not in path and "not-a-number" not in path
    votes = [s for s in request_samples
             if s.name == "litestar_requests_total" and s.labels["path"].endswith("/votes")]
    assert {s.labels["status_code"] for s in votes} >= {"201"}
    assert {s.labels["method"] for s in votes} == {"POST"}
    # Nothing personal or secret in any label or value.
    for needle in (receipt, token, PHONE[2:]):  # (raw ids: see the digit check above)
        assert needle not in text


async def test_health_and_metrics_are_not_request_metrics(client):
    # The registry is per process and other tests' apps share it: compare before and after.
    def probe_counts(text: str) -> dict:
        return {tuple(sorted(s.labels.items())): s.value for s in samples(text)
                if s.name == "litestar_requests_total" and s.labels.get("app_name") == "voting"
                and (s.labels.get("path", "").startswith("/health") or s.labels.get("path") == "/metrics")}

    before = probe_counts((await client.get("/metrics")).text)
    await client.get("/health/live")
    await client.get("/health/ready")
    after = probe_counts((await client.get("/metrics")).text)
    assert after == before


async def test_openapi_lists_every_voting_route(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    missing = sorted(p for p in API_PATHS if p not in paths)
    assert not missing, f"not in the OpenAPI document: {missing}"
    for path, method in API_PATHS.items():
        assert method in paths[path], f"{method.upper()} {path} not documented"
        assert paths[path][method].get("operationId"), f"{method.upper()} {path} has no operationId"
    ids = [op["operationId"] for ops in paths.values() for op in ops.values() if isinstance(op, dict)]
    assert len(ids) == len(set(ids)), "duplicate operationId"
    # Request bodies are documented with their schemas.
    for path in ("/api/v1/auth/otp", "/api/v1/auth/otp/verify", "/api/v1/campaigns/{campaign_id}/votes",
                 "/api/v1/nominations"):
        assert "application/json" in paths[path]["post"]["requestBody"]["content"]


async def test_openapi_without_dev_outbox_on_http_backend(env, pool, redis):
    s = settings_with(env, SMS_BACKEND="http", SMS_GATEWAY_URL="http://127.0.0.1:9/")
    async with app_client(s, pool, redis) as c:
        paths = (await c.get("/schema/openapi.json")).json()["paths"]
    assert "/api/v1/dev/sms-outbox" not in paths
    assert set(API_PATHS) <= set(paths)
