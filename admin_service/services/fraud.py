"""Fraud review: explainable signals over clusters of a campaign's votes, read from the summaries the flusher
keeps (migration 0008; docs/fraud.md), so the review answers in well under a second at tens of millions of votes.

A *cluster* is the votes of one campaign sharing one key:

- ``net:<cidr>`` one network (the /24 or /64 kept in clear); ``ip:<hash>`` one client address (keyed hash);
- ``ua:<class>.<t|n>.<f|s|x>.<lang>`` one client signature: User-Agent class (browser, headless, script), the
  portal's page token present (t) or not (n), for browsers cast fast (f: within ``fast_s`` of sign-in) or not
  (s) (x for the others: an automated client is suspicious at any speed), and the primary Accept-Language;
- ``blk:<hash>`` one block of 100 phone numbers (keyed hash of phone // 100);
- ``burst:<candidate>:<from>-<to>`` one candidate's votes between two Unix times (a burst).

The patterns come from real public votes (REFERENCE.md): SIM and bot farms, power dialers and short bursts,
paid voters. Each threshold is relative to the campaign's own baseline where one exists, with an absolute
floor. A signal is a reason to look, never a verdict: staff decide, and invalidate by ``cluster_id``.

Signals (``score`` = observed / threshold, >= 1 when the signal fires; a cluster's score is the sum). Only
clusters with at least ``FLOOR`` votes are considered; one is listed when a *suspicious* signal fires (every
signal but ``many_voters_*``, which alone describes a carrier's shared address as well as a farm):

- ``many_voters_one_network|address|signature|block``: distinct voters (estimated) >= max(MANY_VOTERS_MIN,
  MANY_VOTERS_RATIO x the kind's mean votes per cluster). Context only.
- ``same_candidates``: the cluster's top candidate got x of its n votes where the campaign share p predicts
  e = n p (p: the share of the votes outside the cluster; never for a cluster holding more than
  BIG_CLUSTER_SHARE of the campaign's votes, which is the crowd itself): flagged when x >= FOCUS_MIN_VOTES, x / n >= FOCUS_SHARE, x / e >= FOCUS_LIFT and
  (x - e) / sqrt(e + 1) >= FOCUS_Z (a farm votes for the same few candidates; a crowd votes like the campaign).
- ``automated_clients``: >= AUTO_SHARE of at least AUTO_MIN votes from headless browsers or scripts.
- ``fast_after_signin``: >= FAST_SHARE of at least FAST_MIN votes within ``fast_s`` seconds of sign-in.
- ``machine_regular_timing``: seconds from sign-in to vote with a coefficient of variation <= REGULAR_CV over
  at least REGULAR_MIN votes (people take 10 s or 3 min; a script always the same).
- ``sequential_numbers``: >= SEQ_SHARE of at least SEQ_MIN votes from numbers signed in as part of a run of
  sequential numbers of one block.
- ``rotation_across_networks`` (signature and block clusters): at least ROTATION_NETS distinct /24s (estimated)
  with at most ROTATION_PER_NET votes each, together with another suspicious signal: one farm moving over
  many networks.
- ``burst`` (burst clusters): one candidate's votes in a ``bucket_s`` bucket >= max(BURST_MIN, BURST_RATIO x
  expected), expected = the bucket's votes x the candidate's share of the campaign outside that bucket and its
  hot neighbours within two buckets (hot: BURST_MIN votes, BURST_HOT_RATIO x its overall share of the bucket
  and of the median bucket; a burst must not lift its own baseline;
  a broadcast lifts every candidate, a paid burst one), once those other buckets hold BURST_BASELINE_MIN
  votes. Consecutive flagged buckets form one cluster, widened by a bucket on
  each side.
- ``invalidated``: how many of the cluster's votes are already invalid (informational: score 0).

Highest score first, then most votes. The result is kept per (campaign, kind) for ``CACHE_TTL_S`` in a
``FlagsCache`` on the app; an invalidation made through this process forgets the campaign at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import math
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from admin_service.repos import fraud as repo
from shared.errors import InvalidRequest, NotFound

FLOOR = 8  # also in fraud_clusters.suspect (migrations 0008, 0009), with the loosest conditions
MANY_VOTERS_MIN = 10
MANY_VOTERS_RATIO = 10.0
FOCUS_MIN_VOTES = 8
FOCUS_SHARE = 0.2
FOCUS_LIFT = 2.0
FOCUS_Z = 5.0
BIG_CLUSTER_SHARE = 0.25
AUTO_SHARE = 0.5
AUTO_MIN = 10
FAST_SHARE = 0.5
FAST_MIN = 10
REGULAR_CV = 0.2
REGULAR_MIN = 10
SEQ_SHARE = 0.5
SEQ_MIN = 5
ROTATION_NETS = 20
ROTATION_PER_NET = 5
BURST_MIN = 8
BURST_RATIO = 5.0
BURST_BASELINE_MIN = 200
BURST_HOT_RATIO = 1.25  # a bucket is hot from 1.25 x the candidate's campaign share (the loose pre-filter)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
QUERY_TIMEOUT_S = 30.0
CACHE_TTL_S = 30.0
CACHE_ITEMS = 5_000
KINDS = ("net", "ip", "ua", "blk", "burst")
CLUSTER_KINDS = ("net", "ip", "ua", "blk")

PARAMS: dict[str, Any] = {
    "floor": FLOOR, "many_voters_min": MANY_VOTERS_MIN, "many_voters_ratio": MANY_VOTERS_RATIO,
    "focus_min_votes": FOCUS_MIN_VOTES, "focus_share": FOCUS_SHARE, "focus_lift": FOCUS_LIFT, "focus_z": FOCUS_Z,
    "big_cluster_share": BIG_CLUSTER_SHARE,
    "auto_share": AUTO_SHARE, "auto_min": AUTO_MIN, "fast_share": FAST_SHARE, "fast_min": FAST_MIN,
    "regular_cv": REGULAR_CV, "regular_min": REGULAR_MIN, "seq_share": SEQ_SHARE, "seq_min": SEQ_MIN,
    "rotation_nets": ROTATION_NETS, "rotation_per_net": ROTATION_PER_NET, "burst_min": BURST_MIN,
    "burst_ratio": BURST_RATIO, "burst_baseline_min": BURST_BASELINE_MIN, "burst_hot_ratio": BURST_HOT_RATIO,
}

_IP_HASH = re.compile(r"^[A-Za-z0-9_-]{1,60}$")  # b64url of the keyed hash (voting_service.deps)
_UA_KEY = re.compile(r"^(?:(browser)\.([tn])\.([fs])|(headless|script)\.([tn])\.x)\.([a-z]{0,3})$")
_BURST_KEY = re.compile(r"^([1-9][0-9]{0,17}):([0-9]{1,12})-([0-9]{1,12})$")
_WHERE = {"net": "network", "ip": "address", "ua": "signature", "blk": "block"}


@dataclass(frozen=True, slots=True)
class Cluster:
    kind: str
    key: str
    args: tuple[Any, ...]  # the arguments of the kind's filter (repos.fraud.CLUSTER_FILTER)

    @property
    def cluster_id(self) -> str:
        return f"{self.kind}:{self.key}"


def parse_cluster_id(raw: str) -> Cluster:
    """``net:<cidr>``, ``ip:<hash>``, ``ua:<signature>``, ``blk:<hash>``, ``burst:<cand>:<from>-<to>``; anything
    else is 422."""
    kind, sep, key = raw.partition(":")
    if sep and kind == "net":
        try:
            net = ipaddress.ip_network(key, strict=True)
        except ValueError:
            net = None
        if net is not None and "/" in key:
            return Cluster("net", str(net), (str(net),))
    elif sep and kind in ("ip", "blk") and _IP_HASH.match(key):
        return Cluster(kind, key, (key,))
    elif sep and kind == "ua" and (m := _UA_KEY.match(key)):
        if m[1]:
            return Cluster("ua", key, (m[1], m[2] == "t", m[3] == "f", m[6]))
        return Cluster("ua", key, (m[4], m[5] == "t", None, m[6]))
    elif sep and kind == "burst" and (m := _BURST_KEY.match(key)) and int(m[2]) < int(m[3]):
        return Cluster("burst", key, (int(m[1]), float(m[2]), float(m[3])))
    raise InvalidRequest("A cluster id is 'net:<network>/<prefix>', 'ip:<address hash>', 'ua:<signature>', "
                         "'blk:<block hash>' or 'burst:<candidate>:<from>-<to>', as listed by GET .../fraud/flags.",
                         extra={"field": "cluster_id"}, key="cluster_unknown")


def _num(x: float) -> float:
    return round(float(x), 2)


def _say(x: float) -> str:
    return f"{_num(x):g}"


def _signal(name: str, score: float, value: Any, threshold: Any, baseline: Any, reason: str) -> dict[str, Any]:
    return {"signal": name, "score": _num(score), "value": value, "threshold": threshold, "baseline": baseline,
            "reason": reason}


def _cluster_signals(r: Mapping[str, Any], *, mean_votes: float, total_votes: int,
                     fast_s: int) -> tuple[list[dict[str, Any]], bool]:
    """The cluster's signals and whether any suspicious one fired."""
    kind, votes = r["kind"], r["votes"]
    where = _WHERE[kind]
    out: list[dict[str, Any]] = []
    voters = r["voters"]
    many_threshold = max(MANY_VOTERS_MIN, MANY_VOTERS_RATIO * mean_votes)
    if voters >= many_threshold:
        out.append(_signal(f"many_voters_one_{where}", voters / many_threshold, voters, _num(many_threshold),
                           _num(mean_votes), f"about {voters} distinct voters from this {where}; the campaign's "
                           f"mean {where} has {_say(mean_votes)} votes (flagged from {_say(many_threshold)})."))
    suspicious: list[dict[str, Any]] = []
    x = r["top_votes"] or 0
    if x and total_votes:
        # the candidate's share of the campaign's OTHER votes, so that a farm big enough to move the campaign's
        # own share does not hide itself; a cluster holding a good part of the campaign (the crowd's own browser
        # signature) is the crowd: what it prefers is the campaign's result, not a cluster's (bursts are the
        # burst detector's)
        p = max(0, r["top_candidate_total"] - x) / max(1, total_votes - votes)
        if votes > BIG_CLUSTER_SHARE * total_votes:
            x = 0
        e = votes * p
        z = (x - e) / math.sqrt(e + 1)
        if x and x >= FOCUS_MIN_VOTES and x / votes >= FOCUS_SHARE and x >= FOCUS_LIFT * e and z >= FOCUS_Z:
            suspicious.append(_signal(
                "same_candidates", z / FOCUS_Z, _num(x / votes), FOCUS_SHARE, _num(p),
                f"{x} of {votes} votes went to candidate {r['top_candidate']}, who has {round(p * 100, 1)} % of "
                f"the campaign's other votes ({_say(e)} expected; z = {_say(z)}, flagged from {_say(FOCUS_Z)})."))
    auto = r["auto_votes"]
    if votes >= AUTO_MIN and auto / votes >= AUTO_SHARE:
        suspicious.append(_signal("automated_clients", (auto / votes) / AUTO_SHARE, _num(auto / votes), AUTO_SHARE,
                                  None, f"{auto} of {votes} votes came from headless browsers or scripts "
                                  f"({r['tokenless_votes']} without the portal's page token)."))
    fast = r["fast_votes"]
    if fast >= FAST_MIN and fast / votes >= FAST_SHARE:
        suspicious.append(_signal("fast_after_signin", (fast / votes) / FAST_SHARE, _num(fast / votes), FAST_SHARE,
                                  None, f"{fast} of {votes} votes were cast within {fast_s} seconds of signing in."))
    n = r["dt_n"]
    if n >= REGULAR_MIN:
        mean = r["dt_sum"] / n
        sd = math.sqrt(max(0.0, r["dt_sq"] / n - mean * mean))
        cv = sd / mean if mean > 0 else 0.0
        if cv <= REGULAR_CV:
            suspicious.append(_signal(
                "machine_regular_timing", REGULAR_CV / max(cv, REGULAR_CV / 4), _num(cv), REGULAR_CV, None,
                f"{n} votes came {_say(mean)} ± {_say(sd)} seconds after sign-in: people vary far more "
                f"(flagged from a variation of {_say(REGULAR_CV)} or less)."))
    seq = r["seq_votes"]
    if seq >= SEQ_MIN and seq / votes >= SEQ_SHARE:
        suspicious.append(_signal("sequential_numbers", (seq / votes) / SEQ_SHARE, _num(seq / votes), SEQ_SHARE,
                                  None, f"{seq} of {votes} votes came from phone numbers signed in as a run of "
                                  "sequential numbers of one block."))
    nets = r["nets"]
    if suspicious and nets is not None and nets >= ROTATION_NETS and votes / nets <= ROTATION_PER_NET:
        suspicious.append(_signal("rotation_across_networks", nets / ROTATION_NETS, nets, ROTATION_NETS, None,
                                  f"these {votes} votes came from about {nets} different networks, "
                                  f"{_say(votes / nets)} each: one source rotating over many /24s."))
    out += suspicious
    if r["invalid_votes"]:
        out.append(_signal("invalidated", 0, r["invalid_votes"], None, None,
                           f"{r['invalid_votes']} of {votes} votes are already invalid."))
    return out, bool(suspicious)


def _cluster_item(r: Mapping[str, Any], signals: list[dict[str, Any]]) -> dict[str, Any]:
    votes, invalid = r["votes"], r["invalid_votes"]
    top = r["top_votes"] or 0
    return {
        "cluster_id": f"{r['kind']}:{r['key']}", "kind": r["kind"],
        "score": _num(sum(s["score"] for s in signals)), "votes": votes, "voters": r["voters"],
        "already_invalidated": invalid, "valid": votes - invalid,
        "top_candidate": {"candidate_id": str(r["top_candidate"]), "votes": top, "share": _num(top / votes)},
        "first_cast_at": r["first_at"], "last_cast_at": r["last_at"], "signals": signals,
    }


def _bursts(hot: list[asyncpg.Record], bucket_s: int) -> list[dict[str, Any]]:
    """Flagged buckets from the hot ones (ordered by candidate, bucket): each compared with the candidate's share
    of the campaign outside it and its hot neighbours within two buckets (a burst must not lift its own
    baseline), and consecutive flagged buckets of one candidate as one cluster, widened by a bucket each side."""
    by_cand: dict[int, list[asyncpg.Record]] = {}
    for r in hot:
        by_cand.setdefault(r["candidate_id"], []).append(r)
    flagged: list[tuple[asyncpg.Record, float]] = []
    for rows in by_cand.values():
        cand_votes, total = rows[0]["candidate_votes"], rows[0]["total_votes"]
        for i, r in enumerate(rows):
            # the bucket and its hot neighbours (a burst spans a few buckets) are left out of the baseline
            near = [x for x in rows[max(0, i - 2):i + 3]
                    if abs((x["bucket"] - r["bucket"]).total_seconds()) <= 2 * bucket_s]
            rest_total = total - sum(x["bucket_votes"] for x in near)
            if rest_total < BURST_BASELINE_MIN:
                continue  # no baseline yet (a campaign's first minutes)
            share = max(0, cand_votes - sum(x["votes"] for x in near)) / rest_total
            expected = max(1.0, share * r["bucket_votes"])
            if r["votes"] >= BURST_MIN and r["votes"] >= BURST_RATIO * expected:
                flagged.append((r, expected))
    runs: list[list[tuple[asyncpg.Record, float]]] = []
    for r, expected in flagged:
        last = runs[-1][-1][0] if runs else None
        if (last is not None and last["candidate_id"] == r["candidate_id"]
                and (r["bucket"] - last["bucket"]).total_seconds() <= bucket_s):
            runs[-1].append((r, expected))
        else:
            runs.append([(r, expected)])
    out = []
    for run in runs:
        start = int(run[0][0]["bucket"].timestamp()) - bucket_s
        end = int(run[-1][0]["bucket"].timestamp()) + 2 * bucket_s
        votes = sum(r["votes"] for r, _ in run)
        expected = sum(e for _, e in run)
        peak, peak_expected = max(run, key=lambda x: x[0]["votes"] / x[1])
        cand = run[0][0]["candidate_id"]
        signal = _signal(
            "burst", peak["votes"] / peak_expected / BURST_RATIO, peak["votes"],
            _num(max(BURST_MIN, BURST_RATIO * peak_expected)), _num(peak_expected),
            f"{votes} votes for candidate {cand} in {len(run)} × {bucket_s} s where its share of the other "
            f"periods predicts {_say(expected)}; the busiest had {peak['votes']} of {peak['bucket_votes']} "
            f"(flagged from {_say(BURST_RATIO)} × expected and {BURST_MIN} votes).")
        out.append({
            "cluster_id": f"burst:{cand}:{start}-{end}", "kind": "burst", "score": signal["score"], "votes": votes,
            "voters": votes, "already_invalidated": 0, "valid": votes,
            "top_candidate": {"candidate_id": str(cand), "votes": votes, "share": 1.0},
            "first_cast_at": dt.datetime.fromtimestamp(start, dt.UTC),
            "last_cast_at": dt.datetime.fromtimestamp(end, dt.UTC), "signals": [signal],
        })
    return out


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


async def compute_flags(conn: asyncpg.Connection, campaign_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    """Every flagged cluster of the campaign (of ``kind``, or all), highest score first."""
    totals = await repo.totals(conn, campaign_id)
    everything = totals.get("all")
    if everything is None:
        return []
    total_votes, bucket_s, fast_s = everything["votes"], everything["bucket_s"], everything["fast_s"]
    items: list[dict[str, Any]] = []
    kinds = [k for k in CLUSTER_KINDS if kind in (None, k)]
    if kinds:
        for r in await repo.cluster_stats(conn, campaign_id=campaign_id, kinds=kinds):
            t = totals.get(r["kind"])
            mean = t["votes"] / t["clusters"] if t is not None and t["clusters"] else 0.0
            signals, suspicious = _cluster_signals(r, mean_votes=mean, total_votes=total_votes, fast_s=fast_s)
            if suspicious:
                items.append(_cluster_item(r, signals))
    if kind in (None, "burst"):
        items += _bursts(await repo.bursts(conn, campaign_id=campaign_id, floor=BURST_MIN, ratio=BURST_HOT_RATIO),
                         bucket_s)
    items.sort(key=lambda i: (-i["score"], -i["votes"], i["cluster_id"]))
    return items


async def _flagged(pool: asyncpg.Pool, *, campaign_id: int, kind: str | None) -> dict[str, Any]:
    computed_at = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        if await conn.fetchval("SELECT 1 FROM campaigns WHERE id = $1", campaign_id) is None:
            raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
        await conn.execute(f"SET LOCAL statement_timeout = '{int(QUERY_TIMEOUT_S)}s'")
        await conn.execute("SET LOCAL jit = off")  # short index-driven statements: compiling costs ~100 ms
        items = await compute_flags(conn, campaign_id, kind)
    return {"total": len(items), "items": items[:CACHE_ITEMS], "computed_at": computed_at}


async def flags(pool: asyncpg.Pool, *, campaign_id: int, limit: int = DEFAULT_LIMIT, offset: int = 0,
                kind: str | None = None, cache: FlagsCache | None = None) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit is between 1 and {MAX_LIMIT}.", extra={"field": "limit"}, key="invalid")
    if offset < 0:
        raise InvalidRequest("offset is 0 or more.", extra={"field": "offset"}, key="invalid")
    if kind is not None and kind not in KINDS:
        raise InvalidRequest(f"kind is one of {', '.join(KINDS)}.", extra={"field": "kind"}, key="invalid")
    if cache is not None:
        found = await cache.get((campaign_id, kind), lambda: _flagged(pool, campaign_id=campaign_id, kind=kind))
    else:
        found = await _flagged(pool, campaign_id=campaign_id, kind=kind)
    return {
        "campaign_id": str(campaign_id), "total": found["total"], "limit": limit, "offset": offset,
        "computed_at": found["computed_at"], "thresholds": PARAMS,
        "items": found["items"][offset:offset + limit],
    }


async def cluster_exists(conn: asyncpg.Connection, *, campaign_id: int, cluster: Cluster) -> asyncpg.Record:
    row = await repo.count_cluster(conn, campaign_id=campaign_id, kind=cluster.kind, args=cluster.args)
    if not row["votes"]:
        raise NotFound(f"No votes of cluster {cluster.cluster_id} in campaign {campaign_id}.", key="no_cluster_votes")
    return row


async def cluster_vote_ids(pool: asyncpg.Pool, *, campaign_id: int, cluster_id: str,
                           limit: int = 1_000_000) -> list[str]:
    """The vote ids of one cluster (what an invalidation by ``cluster_id`` would mark, valid or not)."""
    cluster = parse_cluster_id(cluster_id)
    async with pool.acquire() as conn:
        return await repo.cluster_vote_ids(conn, campaign_id=campaign_id, kind=cluster.kind, args=cluster.args,
                                           limit=limit)


def invalid_counts(rows: Iterable[Mapping[str, Any]], fast_s: int) -> dict[tuple[str, str], int]:
    """How many newly invalidated votes (rows with the clusters' columns) fall in each summarised cluster."""
    counts: Counter[tuple[str, str]] = Counter()
    for r in rows:
        counts["cand", str(r["candidate_id"])] += 1
        counts["all", ""] += 1
        if r["ip_net"]:
            counts["net", r["ip_net"]] += 1
        if r["ip_hash"]:
            counts["ip", r["ip_hash"]] += 1
        if r["num_block"]:
            counts["blk", r["num_block"]] += 1
        if r["ua_class"]:
            fast = r["signin_s"] is not None and r["signin_s"] < fast_s
            speed = "x" if r["ua_class"] != "browser" else "f" if fast else "s"
            counts["ua", f"{r['ua_class']}.{'t' if r['page_token'] else 'n'}.{speed}.{r['accept_lang'] or ''}"] += 1
    return dict(counts)


async def record_invalidated(conn: asyncpg.Connection, campaign_id: int, rows: list[asyncpg.Record]) -> None:
    """Fold votes just invalidated into the summaries' invalid counts (same transaction as the UPDATE)."""
    if not rows:
        return
    totals = await repo.totals(conn, campaign_id)
    fast_s = totals["all"]["fast_s"] if "all" in totals else 5
    await repo.add_invalid(conn, campaign_id=campaign_id, counts=invalid_counts(rows, fast_s))
