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
  BIG_CLUSTER_SHARE of the campaign's votes, which is the crowd itself): flagged when x >= FOCUS_MIN_VOTES,
  x / n >= FOCUS_SHARE, x / e >= FOCUS_LIFT and x is significant after correction for the clusters of its kind
  tested: P(X >= x | Binomial(n, p)) <= FOCUS_ALPHA / clusters (a farm votes for the same few candidates; a
  crowd votes like the campaign, and among 2 M addresses or 1.9 M number blocks a few reach a 5-sigma lead
  by chance).
- ``automated_clients``: >= AUTO_SHARE of at least AUTO_MIN votes from headless browsers or scripts.
- ``fast_after_signin``: >= FAST_SHARE of at least FAST_MIN votes within ``fast_s`` seconds of sign-in.
- ``machine_regular_timing``: seconds from sign-in to vote with a coefficient of variation <= REGULAR_CV over
  at least REGULAR_MIN votes (people take 10 s or 3 min; a script always the same).
- ``sequential_numbers``: >= SEQ_SHARE of at least SEQ_MIN votes from numbers signed in as part of a run of
  sequential numbers of one block.
- ``rotation_across_networks`` (signature and block clusters): at least ROTATION_NETS distinct /24s (estimated)
  with at most ROTATION_PER_NET votes each, together with another suspicious signal: one farm moving over
  many networks.
- ``burst`` (burst clusters): one candidate's votes x in a ``bucket_s`` bucket against e, the votes its share
  predicts: the bucket's votes x the candidate's share of the campaign outside that bucket and its hot
  neighbours within two buckets (a burst must not lift its own baseline; a broadcast lifts every candidate, a
  paid burst one), once those other buckets hold BURST_BASELINE_MIN votes. Flagged when x >= BURST_MIN,
  x >= BURST_RATIO x e (the effect: real traffic is more bursty than Poisson) and x is significant after
  correction for the number of candidate-buckets tested: P(X >= x | Poisson(max(e, 1))) <= BURST_ALPHA / n,
  n = candidates x buckets of the campaign (Bonferroni: the expected number of organic candidate-buckets
  flagged in a whole review is at most BURST_ALPHA, at 3 M candidate-minutes as at 300). The smallest such x
  for e = 1 is also the floor the statement reads from, so the floor grows with the campaign (8 at a few
  hundred candidate-buckets, 12 at 3.3 M). Consecutive flagged buckets form one run; an adjacent bucket joins
  it while its own excess is significant at BURST_EDGE_P (a burst straddling a bucket boundary; no blind
  widening, which would sweep the candidate's organic votes of two more buckets into the cluster). A run whose
  excess a listed cluster explains (the run without a flagged cluster's votes for the same candidate that fall
  in its window, counted as spread evenly over the cluster's first-last span, no longer passes) is that
  cluster's and is not listed again: its window would only add the candidate's organic votes of those minutes.
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
FOCUS_ALPHA = 0.01  # expected organic clusters of a kind flagged per review (Bonferroni over the kind's clusters)
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
BURST_ALPHA = 0.01  # expected organic candidate-buckets flagged per review (Bonferroni over those tested)
BURST_EDGE_P = 0.05  # an adjacent bucket joins a flagged run when its own excess is this significant
BURST_EDGE_MAX = 5  # buckets looked at on each side of a run
BURST_BASELINE_MIN = 200
BURST_HOT_RATIO = 1.25  # the index range starts at 1.25 x the candidate's share of the median bucket

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
QUERY_TIMEOUT_S = 30.0
CACHE_TTL_S = 30.0
CACHE_ITEMS = 5_000
KINDS = ("net", "ip", "ua", "blk", "burst")
CLUSTER_KINDS = ("net", "ip", "ua", "blk")

PARAMS: dict[str, Any] = {
    "floor": FLOOR, "many_voters_min": MANY_VOTERS_MIN, "many_voters_ratio": MANY_VOTERS_RATIO,
    "focus_min_votes": FOCUS_MIN_VOTES, "focus_share": FOCUS_SHARE, "focus_lift": FOCUS_LIFT,
    "focus_alpha": FOCUS_ALPHA, "big_cluster_share": BIG_CLUSTER_SHARE,
    "auto_share": AUTO_SHARE, "auto_min": AUTO_MIN, "fast_share": FAST_SHARE, "fast_min": FAST_MIN,
    "regular_cv": REGULAR_CV, "regular_min": REGULAR_MIN, "seq_share": SEQ_SHARE, "seq_min": SEQ_MIN,
    "rotation_nets": ROTATION_NETS, "rotation_per_net": ROTATION_PER_NET, "burst_min": BURST_MIN,
    "burst_ratio": BURST_RATIO, "burst_alpha": BURST_ALPHA, "burst_edge_p": BURST_EDGE_P,
    "burst_baseline_min": BURST_BASELINE_MIN, "burst_hot_ratio": BURST_HOT_RATIO,
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


def binomial_sf(x: int, n: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p), summed from x up in log space (for x above the mean)."""
    if x <= 0:
        return 1.0
    if x > n or p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    log_first = (math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1) + x * math.log(p)
                 + (n - x) * math.log1p(-p))
    odds = p / (1 - p)
    k, term, total = x, 1.0, 1.0
    while k < n and term > 1e-17 * total:
        term *= (n - k) / (k + 1) * odds
        total += term
        k += 1
    return min(1.0, math.exp(log_first) * total)


def _cluster_signals(r: Mapping[str, Any], *, mean_votes: float, total_votes: int, fast_s: int,
                     clusters: int = 1) -> tuple[list[dict[str, Any]], bool]:
    """The cluster's signals and whether any suspicious one fired (``clusters``: how many of its kind were
    tested, the correction of the candidate test)."""
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
        level = FOCUS_ALPHA / max(1, clusters)
        if x and x >= FOCUS_MIN_VOTES and x / votes >= FOCUS_SHARE and x >= FOCUS_LIFT * e and \
                (chance := binomial_sf(x, votes, p)) <= level:
            suspicious.append(_signal(
                "same_candidates", math.log(max(chance, 1e-300)) / math.log(level), _num(x / votes), FOCUS_SHARE,
                _num(p), f"{x} of {votes} votes went to candidate {r['top_candidate']}, who has "
                f"{round(p * 100, 1)} % of the campaign's other votes ({_say(e)} expected; P = {chance:.1g} by "
                f"chance, flagged from {FOCUS_ALPHA:g} / {clusters} clusters tested)."))
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


def poisson_sf(x: int, lam: float) -> float:
    """P(X >= x) for X ~ Poisson(lam), accurate in the far upper tail (summed from x up in log space)."""
    if x <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if x <= lam:  # the lower side: 1 - P(X <= x - 1), summed from x - 1 down (the largest terms first)
        k, term, total = x - 1, 1.0, 1.0
        while k > 0 and term > 1e-17 * total:
            term *= k / lam
            total += term
            k -= 1
        return max(0.0, 1.0 - math.exp((x - 1) * math.log(lam) - lam - math.lgamma(x)) * total)
    k, term, total = x, 1.0, 1.0
    while term > 1e-17 * total:
        k += 1
        term *= lam / k
        total += term
    return min(1.0, math.exp(x * math.log(lam) - lam - math.lgamma(x + 1)) * total)


def poisson_needed(lam: float, p: float) -> int:
    """The smallest x with P(X >= x | Poisson(lam)) <= p."""
    x = max(1, math.ceil(lam))
    while poisson_sf(x, lam) > p:
        x += 1
    return x


def burst_tests(candidates: int, first_at: dt.datetime | None, last_at: dt.datetime | None, bucket_s: int) -> int:
    """How many candidate-buckets the burst detector tests: every candidate in every bucket of the campaign."""
    if first_at is None or last_at is None:
        return max(1, candidates)
    return max(1, candidates) * (int((last_at - first_at).total_seconds()) // bucket_s + 1)


def burst_floor(tests: int) -> int:
    """The fewest votes a flagged bucket can have: BURST_MIN, and significant for an expectation of one vote
    (the expectation is never taken below one) after correction for ``tests`` tests."""
    return max(BURST_MIN, poisson_needed(1.0, BURST_ALPHA / tests))


def _needed(expected: float, tests: int) -> int:
    """The votes a bucket needs to be flagged where ``expected`` are expected."""
    e = max(1.0, expected)
    return max(BURST_MIN, math.ceil(BURST_RATIO * e - 1e-9), poisson_needed(e, BURST_ALPHA / tests))


@dataclass
class _Run:
    candidate: int
    buckets: list[tuple[dt.datetime, int, int]]  # (bucket, the candidate's votes, the bucket's votes), in order
    share: float  # the candidate's share outside the run (the baseline of its edges)
    peak: tuple[int, int, float]  # (votes, bucket votes, expected) of the most significant bucket

    @property
    def votes(self) -> int:
        return sum(b[1] for b in self.buckets)


def _burst_runs(hot: list[asyncpg.Record], bucket_s: int, tests: int) -> list[_Run]:
    """Flagged buckets from the hot ones (ordered by candidate, bucket): each compared with the candidate's share
    of the campaign outside it and its hot neighbours within two buckets (a burst must not lift its own
    baseline), then consecutive flagged buckets of one candidate as one run."""
    by_cand: dict[int, list[asyncpg.Record]] = {}
    for r in hot:
        by_cand.setdefault(r["candidate_id"], []).append(r)
    runs: list[_Run] = []
    for cand, rows in by_cand.items():
        cand_votes, total = rows[0]["candidate_votes"], rows[0]["total_votes"]
        for i, r in enumerate(rows):
            near = [x for x in rows[max(0, i - 2):i + 3]
                    if abs((x["bucket"] - r["bucket"]).total_seconds()) <= 2 * bucket_s]
            rest_total = total - sum(x["bucket_votes"] for x in near)
            if rest_total < BURST_BASELINE_MIN:
                continue  # no baseline yet (a campaign's first minutes)
            share = max(0, cand_votes - sum(x["votes"] for x in near)) / rest_total
            expected = share * r["bucket_votes"]
            if r["votes"] < _needed(expected, tests):
                continue
            entry = (r["bucket"], r["votes"], r["bucket_votes"])
            last = runs[-1] if runs and runs[-1].candidate == cand else None
            if last is not None and (r["bucket"] - last.buckets[-1][0]).total_seconds() <= bucket_s:
                last.buckets.append(entry)
            else:
                last = _Run(cand, [entry], 0.0, (r["votes"], r["bucket_votes"], expected))
                runs.append(last)
            if _significance(r["votes"], expected) < _significance(last.peak[0], last.peak[2]):
                last.peak = (r["votes"], r["bucket_votes"], expected)
    for run in runs:
        first = by_cand[run.candidate][0]
        rest_total = first["total_votes"] - sum(b[2] for b in run.buckets)
        run.share = max(0, first["candidate_votes"] - run.votes) / max(1, rest_total)
    return runs


def _significance(votes: int, expected: float) -> float:
    return poisson_sf(votes, max(1.0, expected))


def _extend(run: _Run, around: list[asyncpg.Record], bucket_s: int) -> None:
    """Grow a run into the adjacent buckets (``around``: the candidate's and the campaign's votes per bucket near
    it) while each has a significant excess of its own over the run's baseline share."""
    by_bucket = {r["bucket"]: (r["votes"], r["bucket_votes"]) for r in around}
    step = dt.timedelta(seconds=bucket_s)
    for direction in (-1, 1):
        for _ in range(BURST_EDGE_MAX):
            edge = run.buckets[0][0] - step if direction < 0 else run.buckets[-1][0] + step
            votes, bucket_votes = by_bucket.get(edge, (0, 0))
            if votes == 0 or poisson_sf(votes, run.share * bucket_votes) > BURST_EDGE_P:
                break
            if direction < 0:
                run.buckets.insert(0, (edge, votes, bucket_votes))
            else:
                run.buckets.append((edge, votes, bucket_votes))


def _explained(run: _Run, clusters: list[dict[str, Any]], bucket_s: int) -> int:
    """How many of the run's votes the most telling listed cluster accounts for: its votes for the run's
    candidate (its top candidate's), as many as fall in the run's window if spread evenly over its span."""
    start, end = run.buckets[0][0], run.buckets[-1][0] + dt.timedelta(seconds=bucket_s)
    best = 0.0
    for c in clusters:
        if c["top_candidate"]["candidate_id"] != str(run.candidate):
            continue
        first, last = c["first_cast_at"], c["last_cast_at"]
        span = (last - first).total_seconds()
        if span <= 0:
            inside = 1.0 if start <= first < end else 0.0
        else:
            inside = max(0.0, (min(last, end) - max(first, start)).total_seconds()) / span
        best = max(best, c["top_candidate"]["votes"] * inside)
    return int(best)


def _burst_item(run: _Run, bucket_s: int, tests: int) -> dict[str, Any]:
    start = int(run.buckets[0][0].timestamp())
    end = int(run.buckets[-1][0].timestamp()) + bucket_s
    votes = run.votes
    expected = run.share * sum(b[2] for b in run.buckets)
    peak_votes, peak_bucket_votes, peak_expected = run.peak
    needed = _needed(peak_expected, tests)
    p = _significance(peak_votes, peak_expected)
    signal = _signal(
        "burst", peak_votes / needed, peak_votes, needed, _num(max(1.0, peak_expected)),
        f"{votes} votes for candidate {run.candidate} in {len(run.buckets)} × {bucket_s} s where its share of the "
        f"other periods predicts {_say(expected)}; the busiest had {peak_votes} of {peak_bucket_votes} "
        f"(flagged from {needed}: {_say(BURST_RATIO)} × expected, {BURST_MIN} votes, and P = {p:.1g} under its "
        f"share, at most {BURST_ALPHA:g} / {tests} candidate-buckets tested).")
    return {
        "cluster_id": f"burst:{run.candidate}:{start}-{end}", "kind": "burst", "score": signal["score"],
        "votes": votes, "voters": votes, "already_invalidated": 0, "valid": votes,
        "top_candidate": {"candidate_id": str(run.candidate), "votes": votes, "share": 1.0},
        "first_cast_at": dt.datetime.fromtimestamp(start, dt.UTC),
        "last_cast_at": dt.datetime.fromtimestamp(end, dt.UTC), "signals": [signal],
    }


async def _bursts(conn: asyncpg.Connection, campaign_id: int, totals: Mapping[str, asyncpg.Record],
                  clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The campaign's burst clusters (``clusters``: the flagged clusters, which may explain a burst)."""
    bucket_s = totals["all"]["bucket_s"]
    span = await repo.campaign_span(conn, campaign_id)
    cands = totals["cand"]["clusters"] if "cand" in totals else 1
    tests = burst_tests(cands, span["first_at"] if span else None, span["last_at"] if span else None, bucket_s)
    hot = await repo.bursts(conn, campaign_id=campaign_id, floor=burst_floor(tests), hot_ratio=BURST_HOT_RATIO,
                            ratio=BURST_RATIO)
    runs = _burst_runs(hot, bucket_s, tests)
    if not runs:
        return []
    step = dt.timedelta(seconds=bucket_s * BURST_EDGE_MAX)
    around = await repo.buckets_around(conn, campaign_id=campaign_id, candidates=[r.candidate for r in runs],
                                       starts=[r.buckets[0][0] - step for r in runs],
                                       ends=[r.buckets[-1][0] + step for r in runs])
    near: dict[int, list[asyncpg.Record]] = {}
    for r in around:
        near.setdefault(r["run"], []).append(r)
    for i, run in enumerate(runs):
        _extend(run, near.get(i + 1, []), bucket_s)
    merged: list[_Run] = []
    for run in runs:  # runs that grew into each other are one
        prev = merged[-1] if merged else None
        if prev is not None and prev.candidate == run.candidate and run.buckets[0][0] <= prev.buckets[-1][0] + \
                dt.timedelta(seconds=bucket_s):
            seen = {b[0] for b in prev.buckets}
            prev.buckets = sorted(prev.buckets + [b for b in run.buckets if b[0] not in seen])
            if _significance(run.peak[0], run.peak[2]) < _significance(prev.peak[0], prev.peak[2]):
                prev.peak = run.peak
        else:
            merged.append(run)
    out = []
    for run in merged:
        expected = run.share * sum(b[2] for b in run.buckets)
        rest = run.votes - _explained(run, clusters, bucket_s)
        if rest < BURST_MIN or rest < BURST_RATIO * max(1.0, expected) or \
                poisson_sf(rest, max(1.0, expected)) > BURST_ALPHA / tests:
            continue  # a listed cluster accounts for the excess: the burst is that cluster's
        out.append(_burst_item(run, bucket_s, tests))
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
    total_votes, fast_s = everything["votes"], everything["fast_s"]
    clusters: list[dict[str, Any]] = []
    kinds = list(CLUSTER_KINDS) if kind in (None, "burst") else [kind]  # bursts: the clusters may explain one
    for r in await repo.cluster_stats(conn, campaign_id=campaign_id, kinds=kinds):
        t = totals.get(r["kind"])
        mean = t["votes"] / t["clusters"] if t is not None and t["clusters"] else 0.0
        signals, suspicious = _cluster_signals(r, mean_votes=mean, total_votes=total_votes, fast_s=fast_s,
                                               clusters=t["clusters"] if t is not None else 1)
        if suspicious:
            clusters.append(_cluster_item(r, signals))
    items = [c for c in clusters if kind in (None, c["kind"])]
    if kind in (None, "burst"):
        items += await _bursts(conn, campaign_id, totals, clusters)
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
