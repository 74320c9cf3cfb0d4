"""The fast paths' request metrics (voting_service/metrics.py, HotRouteMetrics): durations counted per bucket as
requests finish and added per bucket at flush give the scrape one ``Histogram.observe`` per request gives."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from voting_service.metrics import HotRouteMetrics, bucket_bounds

DURATIONS = st.lists(st.one_of(st.floats(0, 20, allow_nan=False), st.sampled_from([0.0, 0.005, 0.01, 2.5, 10.0])),
                     max_size=60)


def _samples(registry: CollectorRegistry, name: str, path: str) -> dict[tuple[str, str, str], float]:
    # Only the family asked for is collected: in a worker that ran many other tests the process-wide REGISTRY holds
    # every app's collectors, and a whole scrape per example made this test take 15 s instead of 0.5 s.
    names = [name + suffix for suffix in ("", "_bucket", "_count", "_sum", "_total")]
    return {(s.name, str(s.labels["status_code"]), s.labels.get("le", "")): s.value
            for m in registry.restricted_registry(names).collect() for s in m.samples
            if s.name.startswith(name) and s.labels.get("path") == path and not s.name.endswith("_created")}


@settings(max_examples=40, deadline=None)
@given(durations=DURATIONS, statuses=st.lists(st.sampled_from([200, 304, 503]), min_size=1, max_size=60))
def test_counting_per_bucket_scrapes_as_one_observe_per_request(durations, statuses):
    config = PrometheusConfig(app_name="voting", prefix="litestar", group_path=True)
    path = f"/t/{uuid.uuid4().hex}"
    hot = HotRouteMetrics(config, method="GET", path=path)
    reference = CollectorRegistry()
    expected = Histogram("litestar_request_duration_seconds", "d", ["method", "path", "status_code", "app_name"],
                         registry=reference, buckets=bucket_bounds(config))
    for n, seconds in enumerate(durations):
        status = statuses[n % len(statuses)]
        hot.started()
        hot.finished(status, seconds)  # eager: a quiet moment, flushed at once
        expected.labels(method="GET", path=path, status_code=status, app_name="voting").observe(seconds)
    got = _samples(REGISTRY, "litestar_request_duration_seconds", path)
    want = _samples(reference, "litestar_request_duration_seconds", path)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert abs(got[key] - value) <= 1e-9 * max(1.0, abs(value)), key
    counted = sum(_samples(REGISTRY, "litestar_requests_total", path).values())
    assert counted == len(durations)


def test_the_bounds_are_the_middlewares_histograms():
    config = PrometheusConfig(app_name="voting", prefix="litestar", buckets=[0.001, 0.01, 0.1])
    assert bucket_bounds(config) == [0.001, 0.01, 0.1, float("inf")]
    assert bucket_bounds(PrometheusConfig(app_name="x"))[-1] == float("inf")
    assert len(bucket_bounds(PrometheusConfig(app_name="x"))) == len(Histogram.DEFAULT_BUCKETS)
