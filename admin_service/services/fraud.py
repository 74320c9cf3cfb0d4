"""Fraud review, first version: explainable signals over clusters of a campaign's votes, computed in Postgres.

A *cluster* is every vote of the campaign from one network (``net:203.0.113.0/24``, the /24 or /64 kept in
clear) or from one client address (``ip:<ip_hash>``, the keyed hash of the address). The patterns come from
real public votes (REFERENCE.md): SIM farms voting up to the cap, power dialers and short bursts, bots from a
handful of networks. Each threshold is relative to the campaign's own baseline - the median cluster of the
same kind - with an absolute floor, so a test campaign of 100 votes and a national one of millions both make
sense. A signal is a reason to look, never a verdict: staff decide, and invalidate by ``cluster_id``.

Signals (``score`` = observed value / threshold, so >= 1 when the signal fires; a cluster's score is the sum):

- ``many_voters_one_network`` / ``many_voters_one_address``: distinct voters >=
  max(MANY_VOTERS_MIN, MANY_VOTERS_RATIO x the median cluster's distinct voters).
- ``burst``: votes in the busiest BURST_WINDOW_S-second window >= max(BURST_MIN, BURST_RATIO x the median
  cluster's busiest window).
- ``single_candidate_focus``: >= FOCUS_SHARE of the cluster's votes for one candidate, with at least
  max(FOCUS_MIN_VOTES, FOCUS_RATIO x the median cluster's votes) votes.
- ``cap_filling``: at least CAP_MIN_VOTERS voters, and a share >= max(CAP_SHARE, CAP_RATIO x the median
  cluster's share) of them cast exactly the campaign's K votes (K > 1) within CAP_SPAN_S seconds from their
  first to their last vote in the cluster (sign-in times are not stored: the first vote stands in for it).
- ``invalidated``: how many of the cluster's votes are already invalid (informational: score 0, never flags a
  cluster by itself).

Only clusters with at least one scoring signal are listed, highest score first (then most votes).

Cost: the statement reads every vote of the campaign twice (per network, per address): ~10 s per million
votes on the 2-vCPU development VM. It therefore runs with its own time limit (``QUERY_TIMEOUT_S``, not the
pool's 10 s), and its result - the first ``CACHE_ITEMS`` flagged clusters and their total - is kept per
(campaign, kind) for ``CACHE_TTL_S`` in a ``FlagsCache`` on the app, so paging and reloads reuse one
computation and concurrent requests wait for the same one. An invalidation made through this process forgets
the campaign at once; otherwise a listing is at most ``CACHE_TTL_S`` old, and says when it was computed
(``computed_at``). Pages past the cached items are computed directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from admin_service.repos import fraud as repo
from shared.errors import InvalidRequest, NotFound

MANY_VOTERS_RATIO = 10.0
MANY_VOTERS_MIN = 10
BURST_WINDOW_S = 60
BURST_RATIO = 10.0
BURST_MIN = 20
FOCUS_SHARE = 0.9
FOCUS_RATIO = 5.0
FOCUS_MIN_VOTES = 10
CAP_SPAN_S = 60
CAP_SHARE = 0.8
CAP_RATIO = 2.0
CAP_MIN_VOTERS = 5

WORK_MEM = "256MB"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
QUERY_TIMEOUT_S = 900.0
CACHE_TTL_S = 60.0
CACHE_ITEMS = 5_000

PARAMS: dict[str, Any] = {
    "burst_window_s": BURST_WINDOW_S, "cap_span_s": CAP_SPAN_S,
    "many_voters_ratio": MANY_VOTERS_RATIO, "many_voters_min": MANY_VOTERS_MIN,
    "burst_ratio": BURST_RATIO, "burst_min": BURST_MIN,
    "focus_share": FOCUS_SHARE, "focus_ratio": FOCUS_RATIO, "focus_min_votes": FOCUS_MIN_VOTES,
    "cap_share": CAP_SHARE, "cap_ratio": CAP_RATIO, "cap_min_voters": CAP_MIN_VOTERS,
}

_IP_HASH = re.compile(r"^[A-Za-z0-9_-]{1,60}$")  # b64url of the keyed hash (voting_service.deps)


def parse_cluster_id(raw: str) -> tuple[str, str]:
    """``net:<cidr>`` or ``ip:<ip_hash>`` -> (kind, key); anything else is 422."""
    kind, sep, key = raw.partition(":")
    if sep and kind == "net":
        try:
            net = ipaddress.ip_network(key, strict=True)
        except ValueError:
            net = None
        if net is not None and "/" in key:
            return "net", str(net)
    elif sep and kind == "ip" and _IP_HASH.match(key):
        return "ip", key
    raise InvalidRequest("A cluster id is 'net:<network>/<prefix>' or 'ip:<address hash>', as listed by "
                         "GET .../fraud/flags.", extra={"field": "cluster_id"}, key="cluster_unknown")


def _num(x: float) -> float:
    return round(float(x), 2)


def _say(x: float) -> str:
    """A number for a sentence: 2 rather than 2.0, 2.5 rather than 2.50."""
    return f"{_num(x):g}"


def _signals(r: asyncpg.Record) -> list[dict[str, Any]]:
    where = "network" if r["kind"] == "net" else "address"
    out: list[dict[str, Any]] = []
    if r["many_voters"]:
        out.append({
            "signal": f"many_voters_one_{where}", "score": _num(r["voters"] / r["voters_threshold"]),
            "value": r["voters"], "threshold": _num(r["voters_threshold"]), "baseline": _num(r["median_voters"]),
            "reason": f"{r['voters']} distinct voters from this {where}; the campaign's median {where} has "
                      f"{_say(r['median_voters'])} (flagged from {_say(r['voters_threshold'])})."})
    if r["burst"]:
        out.append({
            "signal": "burst", "score": _num(r["peak"] / r["burst_threshold"]),
            "value": r["peak"], "threshold": _num(r["burst_threshold"]), "baseline": _num(r["median_peak"]),
            "reason": f"{r['peak']} votes within {BURST_WINDOW_S} seconds; the median {where}'s busiest "
                      f"{BURST_WINDOW_S} seconds had {_say(r['median_peak'])} (flagged from "
                      f"{_say(r['burst_threshold'])})."})
    if r["focus"]:
        share = r["top_votes"] / r["votes"]
        out.append({
            "signal": "single_candidate_focus", "score": _num(share / FOCUS_SHARE),
            "value": _num(share), "threshold": FOCUS_SHARE, "baseline": None,
            "reason": f"{round(share * 100)} % of {r['votes']} votes went to candidate {r['top_candidate']} "
                      f"(flagged from {round(FOCUS_SHARE * 100)} % with at least {_say(r['focus_min_votes'])} "
                      "votes)."})
    if r["cap_filling"]:
        out.append({
            "signal": "cap_filling", "score": _num(r["cap_share"] / r["cap_share_threshold"]),
            "value": _num(r["cap_share"]), "threshold": _num(r["cap_share_threshold"]),
            "baseline": _num(r["median_cap_share"]),
            "reason": f"{r['cap_fillers']} of {r['voters']} voters used all their votes within {CAP_SPAN_S} "
                      f"seconds; the median {where}'s share is {_say(r['median_cap_share'])} (flagged from "
                      f"{_say(r['cap_share_threshold'])})."})
    if r["invalidated"]:
        out.append({"signal": "invalidated", "score": 0, "value": r["invalidated"], "threshold": None,
                    "baseline": None, "reason": f"{r['invalidated']} of {r['votes']} votes are already invalid."})
    return out


def _cluster(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "cluster_id": f"{r['kind']}:{r['key']}",
        "kind": r["kind"],
        "score": _num(r["score"]),
        "votes": r["votes"],
        "voters": r["voters"],
        "already_invalidated": r["invalidated"],
        "valid": r["votes"] - r["invalidated"],
        "candidates": r["candidates"],
        "top_candidate": {"candidate_id": str(r["top_candidate"]), "votes": r["top_votes"],
                          "share": _num(r["top_votes"] / r["votes"])},
        "first_cast_at": r["first_at"],
        "last_cast_at": r["last_at"],
        "peak_per_window": r["peak"],
        "cap_fillers": r["cap_fillers"],
        "signals": _signals(r),
    }


class FlagsCache:
    """Flagged clusters per (campaign, kind) for ``ttl_s``; one computation at a time per key."""

    def __init__(self, ttl_s: float = CACHE_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[tuple[int, str | None], tuple[float, dict[str, Any]]] = {}
        self._running: dict[tuple[int, str | None], asyncio.Future[dict[str, Any]]] = {}

    async def get(self, key: tuple[int, str | None],
                  compute: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        hit = self._entries.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._running[key] = fut
        try:
            value = await compute()
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters get it, nobody else needs to
            raise
        finally:
            self._running.pop(key, None)
        self._entries[key] = (time.monotonic(), value)
        fut.set_result(value)
        return value

    def forget(self, campaign_id: int) -> None:
        for key in [k for k in self._entries if k[0] == campaign_id]:
            del self._entries[key]


async def _flagged(pool: asyncpg.Pool, *, campaign_id: int, limit: int, offset: int,
                   kind: str | None) -> dict[str, Any]:
    computed_at = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        if await conn.fetchval("SELECT 1 FROM campaigns WHERE id = $1", campaign_id) is None:
            raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
        # One sort and a few hash aggregates over every vote of the campaign: keep them in memory, not on disk.
        await conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        await conn.execute(f"SET LOCAL statement_timeout = '{int(QUERY_TIMEOUT_S)}s'")
        rows = await repo.flagged_clusters(conn, campaign_id=campaign_id, params=PARAMS, limit=limit,
                                           offset=offset, kind=kind, timeout=QUERY_TIMEOUT_S)
    return {"total": rows[0]["total"] if rows else 0, "items": [_cluster(r) for r in rows],
            "computed_at": computed_at}


async def flags(pool: asyncpg.Pool, *, campaign_id: int, limit: int = DEFAULT_LIMIT, offset: int = 0,
                kind: str | None = None, cache: FlagsCache | None = None) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit is between 1 and {MAX_LIMIT}.", extra={"field": "limit"}, key="invalid")
    if offset < 0:
        raise InvalidRequest("offset is 0 or more.", extra={"field": "offset"}, key="invalid")
    if kind not in (None, "net", "ip"):
        raise InvalidRequest("kind is 'net' or 'ip'.", extra={"field": "kind"}, key="invalid")
    if cache is not None and offset + limit <= CACHE_ITEMS:
        found = await cache.get((campaign_id, kind), lambda: _flagged(
            pool, campaign_id=campaign_id, limit=CACHE_ITEMS, offset=0, kind=kind))
        items = found["items"][offset:offset + limit]
    else:
        found = await _flagged(pool, campaign_id=campaign_id, limit=limit, offset=offset, kind=kind)
        items = found["items"]
    return {
        "campaign_id": str(campaign_id),
        "total": found["total"],
        "limit": limit,
        "offset": offset,
        "computed_at": found["computed_at"],
        "thresholds": PARAMS,
        "items": items,
    }


async def cluster_exists(conn: asyncpg.Connection, *, campaign_id: int, kind: str, key: str) -> asyncpg.Record:
    row = await repo.count_cluster(conn, campaign_id=campaign_id, kind=kind, key=key)
    if not row["votes"]:
        raise NotFound(f"No votes of cluster {kind}:{key} in campaign {campaign_id}.", key="no_cluster_votes")
    return row

