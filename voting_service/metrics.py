"""Domain metrics of the voting service. Created on first use (never at import); labels are bounded sets."""

from __future__ import annotations

import asyncio
import bisect
import functools
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Gauge, Histogram


@functools.cache
def votes() -> Counter:
    return Counter("votes_total", "Vote attempts by outcome", ["result"])


@functools.cache
def otp_sends() -> Counter:
    return Counter("otp_sends", "Code requests by outcome (sent, rate_limited, invalid_phone, unavailable)",
                   ["result"])


@functools.cache
def otp_verified() -> Counter:
    return Counter("otp_verify_total", "Code checks by outcome", ["result"])


@functools.cache
def nominations() -> Counter:
    return Counter("nominations_total", "Nominations received from the public site")


class HotRouteMetrics:
    """Request metrics of one hot route, counted in plain per-process accumulators.

    The generic ``PrometheusMiddleware`` writes four metric values per request (in multiprocess mode each
    write goes to an mmap'ed file, after a ``labels()`` lookup); the vote route is served by the fast path
    instead, which counts here and ``flush()``-es into the very same metrics — ``litestar_requests_total``,
    ``litestar_request_duration_seconds``, ``litestar_requests_error_total``, ``litestar_requests_in_progress``
    (same names, label names and route-template label as the middleware's) and ``votes_total`` — whenever
    no vote is in progress in the process, otherwise at most ``interval_s`` after the first unflushed
    request, and before every scrape of ``/metrics``: a quiet service's metrics are exact at once, a busy
    one's at most ``interval_s`` behind in the other workers.
    """

    def __init__(self, *, app_name: str, prefix: str, method: str, path: str,
                 buckets: Sequence[float] | None = None, interval_s: float = 1.0) -> None:
        self._app_name = app_name
        self._prefix = prefix
        self._method = method
        self._path = path
        self._buckets_cfg = buckets
        self._bounds = [float(b) for b in (buckets or Histogram.DEFAULT_BUCKETS)]
        if self._bounds[-1] != float("inf"):
            self._bounds.append(float("inf"))
        self._interval_s = interval_s
        self._counts: dict[int, list[Any]] = {}  # status -> [count, sum of seconds, bucket counts]
        self._votes: dict[str, int] = {}
        self._inflight = 0
        self._inflight_reported = 0
        self._armed = False

    def started(self) -> None:
        self._inflight += 1

    def vote(self, result: str) -> None:
        self._votes[result] = self._votes.get(result, 0) + 1

    def finished(self, status: int, seconds: float) -> None:
        self._inflight -= 1
        acc = self._counts.get(status)
        if acc is None:
            acc = self._counts[status] = [0, 0.0, [0] * len(self._bounds)]
        acc[0] += 1
        acc[1] += seconds
        acc[2][bisect.bisect_left(self._bounds, seconds)] += 1
        if self._inflight == 0:  # quiet moment (or a quiet service): the metrics are exact at once
            self.flush()
        elif not self._armed:
            self._armed = True
            asyncio.get_running_loop().call_later(self._interval_s, self.flush)

    def _metric(self, kind: str, labelnames: list[str]) -> Any:
        # The middleware's own registry of its metrics: whichever side creates one first, both use it.
        from litestar.plugins.prometheus.middleware import PrometheusMiddleware  # (imports prometheus_client)

        registry = PrometheusMiddleware._metrics
        if kind == "count":
            name = f"{self._prefix}_requests_total"
            if name not in registry:
                registry[name] = Counter(name=name, documentation="Total requests", labelnames=labelnames)
        elif kind == "time":
            name = f"{self._prefix}_request_duration_seconds"
            if name not in registry:
                extra = {"buckets": self._buckets_cfg} if self._buckets_cfg is not None else {}
                registry[name] = Histogram(name=name, documentation="Request duration, in seconds",
                                           labelnames=labelnames, **extra)
        elif kind == "errors":
            name = f"{self._prefix}_requests_error_total"
            if name not in registry:
                registry[name] = Counter(name=name, documentation="Total errors in requests",
                                         labelnames=labelnames)
        else:
            name = f"{self._prefix}_requests_in_progress"
            if name not in registry:
                registry[name] = Gauge(name=name, documentation="Total requests currently in progress",
                                       labelnames=labelnames, multiprocess_mode="livesum")
        return registry[name]

    def flush(self) -> None:
        self._armed = False
        counts, self._counts = self._counts, {}
        votes_, self._votes = self._votes, {}
        names = ["method", "path", "status_code", "app_name"]
        for status, (n, total, buckets) in counts.items():
            labels = (self._method, self._path, str(status), self._app_name)
            self._metric("count", names).labels(*labels).inc(n)
            if status >= 500:
                self._metric("errors", names).labels(*labels).inc(n)
            hist = self._metric("time", names).labels(*labels)
            # Histogram.observe() n times, in one go: the sum, then each (non-cumulative) bucket.
            hist._sum.inc(total)
            for i, c in enumerate(buckets):
                if c:
                    hist._buckets[i].inc(c)
        for result, n in votes_.items():
            votes().labels(result).inc(n)
        delta = self._inflight - self._inflight_reported
        if delta:
            self._inflight_reported = self._inflight
            # The middleware labels requests in progress with the status it starts from, 200.
            self._metric("gauge", names).labels(self._method, self._path, "200", self._app_name).inc(delta)
