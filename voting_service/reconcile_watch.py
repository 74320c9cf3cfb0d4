"""Reconcile on a timer, for Prometheus: ``python -m voting_service reconcile --every 300 [--wait 10]
[--metrics-port 9102]`` (docker-compose service ``reconciler``).

Every ``every_s`` seconds it runs the same comparison as the one-shot command (shared/votestore/reconcile.py:
after the streams drain, each candidate's Redis tally must equal its Postgres count) and exports:

- ``reconcile_mismatch_votes``: votes by which Redis and Postgres differ, summed over candidates and campaigns,
  as of each campaign's last *conclusive* run (streams drained within ``wait_s``); 0 when all agree. The alert
  ``ReconcileMismatch`` (ops/prometheus/alerts.yml) pages on anything above 0.
- ``reconcile_mismatched_campaigns``: campaigns with a difference.
- ``reconcile_runs_total{result}``: per campaign and run, ``clean``, ``mismatch``, ``undrained`` (votes still
  arriving: nothing concluded, the last conclusive figure stands) or ``error`` (a store did not answer).
- ``reconcile_last_conclusive_timestamp_seconds``: when a run last compared drained streams.

Under a steady stream of votes the streams are rarely empty for long, so most runs during a broadcast end
``undrained``; the quiet minutes (and the close of the campaign) conclude. It reads with the flusher's
credentials, like the one-shot command.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import time

from prometheus_client import Counter, Gauge, start_http_server

from shared.infra import create_pool, create_redis
from shared.votestore.reconcile import CampaignReport, format_reports, reconcile

log = logging.getLogger(__name__)
RESULTS = ("clean", "mismatch", "undrained", "error")


@functools.cache
def mismatch_votes() -> Gauge:
    return Gauge("reconcile_mismatch_votes",
                 "Votes by which Redis tallies and Postgres counts differ (last conclusive run per campaign)")


@functools.cache
def mismatched_campaigns() -> Gauge:
    return Gauge("reconcile_mismatched_campaigns", "Campaigns whose Redis tallies and Postgres counts differ")


@functools.cache
def runs() -> Counter:
    return Counter("reconcile_runs", "Reconcile runs per campaign by result", ["result"])


@functools.cache
def last_conclusive() -> Gauge:
    return Gauge("reconcile_last_conclusive_timestamp_seconds", "When a run last compared drained streams")


def prime() -> None:
    mismatch_votes()
    mismatched_campaigns()
    last_conclusive()
    for result in RESULTS:
        runs().labels(result)


class Watch:
    """The last conclusive difference of every campaign, turned into the gauges."""

    def __init__(self) -> None:
        self.by_campaign: dict[int, int] = {}

    def record(self, reports: list[CampaignReport], now: float) -> None:
        conclusive = False
        for rep in reports:
            if rep.undrained:
                runs().labels("undrained").inc()
                continue
            conclusive = True
            diff = sum(abs(a - b) for a, b in rep.differences.values())
            self.by_campaign[rep.campaign_id] = diff
            runs().labels("mismatch" if diff else "clean").inc()
        if conclusive:
            last_conclusive().set(now)
        mismatch_votes().set(sum(self.by_campaign.values()))
        mismatched_campaigns().set(sum(1 for d in self.by_campaign.values() if d))


async def watch(database_url: str, redis_url: str, *, every_s: float, wait_s: float, campaign_id: int | None,
                metrics_port: int, metrics_host: str = "127.0.0.1") -> int:
    prime()
    if metrics_port:
        start_http_server(metrics_port, addr=metrics_host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(database_url, min_size=0, max_size=2)  # starts even while Postgres is down
    r = create_redis(redis_url, timeout_s=5.0)
    state = Watch()
    try:
        while not stop.is_set():
            try:
                reports = await reconcile(pool, r, campaign_id=campaign_id, wait_s=wait_s)
            except Exception as exc:  # noqa: BLE001 - a store outage (or any failure): count it, try again
                runs().labels("error").inc()
                log.warning("reconcile failed (%r); next run in %.0f s", exc, every_s)
            else:
                state.record(reports, time.time())
                text = format_reports(reports)
                (log.warning if any(not rep.clean and not rep.undrained for rep in reports) else log.info)(
                    "reconcile: %s", text.replace("\n", "; "))
            try:
                await asyncio.wait_for(stop.wait(), every_s)
            except TimeoutError:
                pass
    finally:
        await r.aclose()
        await pool.close()
    return 0
