"""Domain metrics of the voting service. Created on first use (never at import); labels are bounded sets."""

from __future__ import annotations

import asyncio
import functools
import math
from bisect import bisect_left
from typing import Any

from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from prometheus_client import Counter, Histogram
from shared.prometheus_internal import observe_counts


# Every outcome each counter can count, created at zero when a worker starts (``prime``): a fresh process shows
# all its series, so rate() and the dashboards have a baseline before the first vote (issue 13).
VOTE_RESULTS = ("accepted", "already_voted", "vote_limit_reached", "rate_limited", "campaign_closed",
                "candidate_not_on_ballot", "campaign_not_found", "unavailable")
OTP_SEND_RESULTS = ("sent", "rate_limited", "invalid_phone", "invalid_request", "unavailable")
OTP_VERIFY_RESULTS = ("ok", "invalid_code", "too_many_attempts", "rate_limited", "invalid_request", "unavailable")


def prime() -> None:
    """Create every labelled series of the domain counters at zero (once per process, at startup)."""
    for result in VOTE_RESULTS:
        votes().labels(result)
    for result in OTP_SEND_RESULTS:
        otp_sends().labels(result)
    for result in OTP_VERIFY_RESULTS:
        otp_verified().labels(result)
    nominations()


@functools.cache
def votes() -> Counter:
    return Counter("votes_total", "Vote attempts by outcome", ["result"])


@functools.cache
def otp_sends() -> Counter:
    return Counter("otp_sends", "Code requests by outcome (sent, rate_limited, invalid_phone, unavailable, "
                   "challenge_required, challenge_failed)", ["result"])


@functools.cache
def otp_verified() -> Counter:
    return Counter("otp_verify_total", "Code checks by outcome", ["result"])


@functools.cache
def nominations() -> Counter:
    return Counter("nominations_total", "Nominations received from the public site")


# --- abuse defence (issue 12): label sets are created at zero by ``abuse_metrics_at_zero`` -----------------
CHALLENGE_ROUTES = ("otp", "verify", "vote", "nomination")
CHALLENGE_FAIL_REASONS = ("malformed", "route", "expired", "invalid", "replayed")
LIMIT_LAYERS = ("ip", "net", "wide", "phone", "global")


@functools.cache
def challenges_issued() -> Counter:
    return Counter("challenges_issued_total", "Proof-of-work challenges issued (428 challenge_required) by route",
                   ["route"])


@functools.cache
def challenges_solved() -> Counter:
    return Counter("challenges_solved_total", "Proof-of-work solutions accepted by route", ["route"])


@functools.cache
def challenges_failed() -> Counter:
    return Counter("challenges_failed_total", "Proof-of-work solutions refused (403 challenge_failed) by route "
                   "and reason", ["route", "reason"])


@functools.cache
def limit_refusals() -> Counter:
    return Counter("limit_refusals_total", "Requests refused (429) by a layered limit, by route and layer",
                   ["route", "layer"])


@functools.cache
def sms_budget_refusals() -> Counter:
    return Counter("sms_budget_refusals_total", "Code requests refused because the global SMS budget is spent "
                   "or its circuit breaker is open")


@functools.cache
def sms_breaker_trips() -> Counter:
    return Counter("sms_breaker_trips_total", "Times this process opened the SMS circuit breaker (budget per "
                   "minute exceeded)")


def abuse_metrics_at_zero() -> None:
    """Every label set of the abuse-defence counters at 0, so rates and alerts see series from the start."""
    for route in CHALLENGE_ROUTES:
        challenges_issued().labels(route)
        challenges_solved().labels(route)
        for reason in CHALLENGE_FAIL_REASONS:
            challenges_failed().labels(route, reason)
        for layer in LIMIT_LAYERS:
            if layer in ("phone", "global") and route != "otp":
                continue
            limit_refusals().labels(route, layer)
    sms_budget_refusals()
    sms_breaker_trips()


class HotRouteMetrics:
    """Request metrics of one hot route, counted in plain per-process accumulators.

    The generic ``PrometheusMiddleware`` writes four metric values per request (in multiprocess mode each
    write goes to an mmap'ed file, after a ``labels()`` lookup); the vote route is served by the fast path
    instead, which counts here and ``flush()``-es into the very same metrics — ``litestar_requests_total``,
    ``litestar_request_duration_seconds``, ``litestar_requests_error_total``, ``litestar_requests_in_progress``
    (same names, label names and route-template label as the middleware's) and ``votes_total`` — whenever
    no vote is in progress in the process, otherwise at most ``interval_s`` after the first unflushed
    request, and before every scrape of ``/metrics``: a quiet service's metrics are exact at once, a busy
    one's at most ``interval_s`` behind in the other workers. With ``eager=False`` (routes answered without
    an ``await``, where every request would be a "quiet moment": the page shortcut) only the timer and the
    scrape flush.

    The metric objects are the middleware's own, obtained through its public accessors (``request_count()``
    and the like, which create them on first use), so whichever side counts first, both count into one
    series. Durations are counted per histogram bucket as requests finish (a ``bisect`` into the buckets'
    bounds) and added at flush time as one increment per bucket used and one of the sum: observing them one by
    one there (``Histogram.observe``: two writes to the multiprocess mmap files each) held the event loop
    ~18 ms per 7 000 requests once a second on a busy 2-core VM, a stall every request then in flight waited
    behind (the page shortcut's p99). prometheus_client has no public "observe n times": the one function that
    adds them below its API is ``shared.prometheus_internal.observe_counts`` (bounded, with a loud test);
    tests/unit/voting_service/test_hot_metrics.py checks the scrape equals one ``observe`` per request.
    """

    def __init__(self, config: PrometheusConfig, *, method: str, path: str, interval_s: float = 1.0,
                 eager: bool = True) -> None:
        self._app_name = config.app_name
        self._middleware = PrometheusMiddleware(_no_app, config)  # only for its metric accessors
        self._method = method
        self._path = path
        self._interval_s = interval_s
        self._bounds = bucket_bounds(config)
        # status -> [sum of the durations, then a count per bucket] of the requests not yet flushed
        self._counts: dict[int, list[float]] = {}
        self._votes: dict[str, int] = {}
        self._inflight = 0
        self._inflight_reported = 0
        self._armed = False
        self._eager = eager

    def started(self) -> None:
        self._inflight += 1

    def cancelled(self) -> None:
        """A request started here and handed on to Litestar, whose middleware counts it."""
        self._inflight -= 1
        if self._inflight == 0:
            self.flush()

    def vote(self, result: str) -> None:
        self._votes[result] = self._votes.get(result, 0) + 1

    def finished(self, status: int, seconds: float) -> None:
        self._inflight -= 1
        counts = self._counts.get(status)
        if counts is None:
            counts = self._counts[status] = [0.0] * (len(self._bounds) + 1)
        counts[0] += seconds
        counts[1 + bisect_left(self._bounds, seconds)] += 1  # the first bucket with seconds <= its bound
        if self._inflight == 0 and self._eager:  # quiet moment (or a quiet service): the metrics are exact at once
            self.flush()
        elif not self._armed:
            self._armed = True
            asyncio.get_running_loop().call_later(self._interval_s, self.flush)

    def flush(self) -> None:
        self._armed = False
        counts, self._counts = self._counts, {}
        votes_, self._votes = self._votes, {}
        mw = self._middleware
        for status, per_bucket in counts.items():
            labels = {"method": self._method, "path": self._path, "status_code": status, "app_name": self._app_name}
            n = sum(per_bucket[1:])
            mw.request_count(labels).labels(**labels).inc(n)
            if status >= 500:
                mw.requests_error_count(labels).labels(**labels).inc(n)
            observe_counts(mw.request_time(labels).labels(**labels), per_bucket[0], per_bucket[1:])
        for result, n in votes_.items():
            votes().labels(result).inc(n)
        delta = self._inflight - self._inflight_reported
        if delta:
            self._inflight_reported = self._inflight
            # The middleware labels requests in progress with the status it starts from, 200.
            labels = {"method": self._method, "path": self._path, "status_code": 200, "app_name": self._app_name}
            mw.requests_in_progress(labels).labels(**labels).inc(delta)


def bucket_bounds(config: PrometheusConfig) -> list[float]:
    """The upper bounds of the request-duration histogram the middleware makes from ``config`` (as
    prometheus_client orders them, +Inf last)."""
    bounds = [float(b) for b in (config.buckets or Histogram.DEFAULT_BUCKETS)]
    if bounds[-1] != math.inf:
        bounds.append(math.inf)
    return bounds


async def _no_app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never called
    raise RuntimeError("HotRouteMetrics' middleware instance serves no requests")
