"""Flusher metrics, served by the flusher process on FLUSHER_METRICS_PORT (created on first use; ``prime`` at
startup creates them all, so a fresh flusher shows every series at zero)."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram


@functools.cache
def flushed() -> Counter:
    return Counter("flusher_votes_flushed", "Votes committed to Postgres by the flusher")


@functools.cache
def pending() -> Gauge:
    return Gauge("flusher_pending_votes", "Votes in the Redis streams not yet committed to Postgres")


@functools.cache
def lag_seconds() -> Gauge:
    return Gauge("flusher_lag_seconds", "Age of the oldest vote not yet committed to Postgres")


@functools.cache
def batch_seconds() -> Histogram:
    return Histogram("flusher_batch_seconds", "Time to commit and acknowledge one batch",
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


@functools.cache
def errors() -> Counter:
    return Counter("flusher_errors", "Store outages the flusher waited out")


SUSPECT_SIGNALS = ("automated", "fast_after_signin", "sequential_numbers")


@functools.cache
def suspect_votes() -> Counter:
    """Votes written with a suspicious live signal (docs/fraud.md), by signal; every label exported from 0 so a
    rate exists before the first one (the FraudSignalsSurge alert, ops/prometheus/alerts.yml)."""
    c = Counter("flusher_fraud_suspect_votes", "Votes flushed with a suspicious live signal", ["signal"])
    for s in SUSPECT_SIGNALS:
        c.labels(s)
    return c


@functools.cache
def attack_level() -> Gauge:
    """The national attack level of the vote as the flusher last read it (voting_service/services/attack.py):
    set by the flusher itself or by an operator; the AttackModeOn alert."""
    return Gauge("vote_attack_level", "The national attack level of the vote (0: none; 1 to 16: every vote needs "
                 "proof of work at that level)")


def prime() -> None:
    for metric in (flushed, pending, lag_seconds, batch_seconds, errors, suspect_votes, attack_level):
        metric()
