"""Every process shows all its series from its start (issue 13): a freshly started voting service (granian,
multiprocess metrics), admin service, flusher and periodic reconciler answer ``/metrics`` with their request
series per route, status and outcome at zero before anything happened, so dashboards and ``rate()`` have a
baseline from the first scrape."""

from __future__ import annotations

import re

import httpx
import pytest

from devtools.ports import free_port
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

VOTE = "/api/v1/campaigns/{campaign_id}/votes"


def scrape(url: str) -> str | None:
    try:
        r = httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return None
    return r.text if r.status_code == 200 else None


def samples(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of every sample of ``name`` (labels as written, e.g. ``result="accepted"``)."""
    out = {}
    for m in re.finditer(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


def fresh(spawn, args: list[str], url: str, extra_env: dict[str, str] | None = None) -> str:
    proc = spawn(*args, extra_env=extra_env)
    box: dict[str, str] = {}

    def up() -> bool:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        text = scrape(url)
        if text is not None:
            box["text"] = text
        return text is not None

    wait_for(up, 60, url)
    return box["text"]


def test_voting_service_shows_every_route_status_and_outcome_at_zero(spawn, tmp_path):
    port = free_port()
    text = fresh(spawn, ["-m", "voting_service", "serve", "--port", str(port), "--workers", "1"],
                 f"http://127.0.0.1:{port}/metrics", {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    votes = samples(text, "votes_total")
    assert {'result="accepted"', 'result="already_voted"', 'result="rate_limited"', 'result="unavailable"'} <= set(votes)
    assert set(votes.values()) == {0.0}
    assert 'result="sent"' in samples(text, "otp_sends_total")
    assert 'result="ok"' in samples(text, "otp_verify_total")
    requests = samples(text, "litestar_requests_total")
    for status in (201, 409, 429, 503):  # the vote's success and its documented problems
        key = f'app_name="voting",method="POST",path="{VOTE}",status_code="{status}"'
        assert requests.get(key) == 0.0, key
    assert 'app_name="voting",method="GET",path="/api/v1/campaigns/{campaign_id}",status_code="200"' in requests
    assert not any("/health" in k or "/metrics" in k for k in requests)  # probes and scrapes stay out
    assert set(requests.values()) == {0.0}
    buckets = samples(text, "litestar_request_duration_seconds_bucket")
    assert any(f'path="{VOTE}"' in k and 'le="0.025"' in k and 'status_code="201"' in k for k in buckets)
    errors = samples(text, "litestar_requests_error_total")
    assert f'app_name="voting",method="POST",path="{VOTE}",status_code="503"' in errors


def test_admin_service_shows_its_routes_at_zero(spawn, tmp_path):
    port = free_port()
    text = fresh(spawn, ["-m", "admin_service", "serve", "--port", str(port)], f"http://127.0.0.1:{port}/metrics",
                 {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    requests = samples(text, "litestar_requests_total")
    assert len(requests) > 20, sorted(requests)
    assert all('app_name="admin"' in k for k in requests) and set(requests.values()) == {0.0}
    assert any('method="POST"' in k and 'status_code="403"' in k for k in requests)


def test_flusher_and_reconciler_show_their_series_at_zero(spawn):
    port = free_port()
    text = fresh(spawn, ["-m", "voting_service", "flusher"], f"http://127.0.0.1:{port}/metrics",
                 {"FLUSHER_METRICS_PORT": str(port), "FLUSHER_CONSUMER": "metrics-from-start"})
    for name in ("flusher_votes_flushed_total", "flusher_pending_votes", "flusher_lag_seconds",
                 "flusher_batch_seconds_count", "flusher_errors_total"):
        assert samples(text, name) == {"": 0.0}, name
    port = free_port()
    # One campaign no other test uses: the first run (at start) compares nothing, so nothing differs.
    text = fresh(spawn, ["-m", "voting_service", "reconcile", "--every", "600", "--wait", "1", "--campaign",
                         "987654321", "--metrics-port", str(port)], f"http://127.0.0.1:{port}/metrics")
    assert samples(text, "reconcile_mismatch_votes") == {"": 0.0}
    assert samples(text, "reconcile_mismatched_campaigns") == {"": 0.0}
    assert set(samples(text, "reconcile_runs_total")) == {f'result="{r}"' for r in
                                                          ("clean", "mismatch", "undrained", "error")}
