"""How fast the fraud review answers on the summaries of a national campaign (docs/fraud.md).

Fills the summary tables of one campaign with what ``--votes`` (30 M by default) ordinary votes leave behind,
written directly with COPY (the flusher's statement would take hours here): per network /24 (40 000, Zipf-like
sizes, carrier-grade NAT ranges among them), per address (2 M), per number block (1.9 M, ~16 votes each), per
client signature (a few dozen), per candidate (100) and per candidate and minute over 23 days (3.3 M rows,
with a broadcast surge every evening). Then it adds the attacks of loadtests/fraud_traffic.py through the
flusher's own statement, runs VACUUM ANALYZE, and times ``admin_service.services.fraud.compute_flags`` (the
listing's whole computation) ``--runs`` times. Prints one JSON line: row counts, the median and worst time,
the flags found. Creates and drops its own database (``--keep`` keeps it).

    python -m loadtests.fraud_fill --votes 30000000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import random
import statistics
import sys
import time
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from loadtests import stack
from loadtests.fraud_traffic import Traffic
from shared import infra
from voting_service.repos import votes as votes_repo

CLUSTER_COLS = ("campaign_id", "kind", "key", "votes", "fast_votes", "auto_votes", "tokenless_votes", "seq_votes",
                "dt_n", "dt_sum", "dt_sq", "first_at", "last_at", "top_votes", "top_candidate")
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 23


def _cluster(cid: int, kind: str, key: str, votes: int, rng: random.Random, top_share: float,
             candidate: int) -> tuple[Any, ...]:
    """An ordinary cluster: browsers, almost never fast, human timing (log-normal seconds after sign-in)."""
    fast = int(votes * 0.004 + rng.random())  # 0.4 % of people vote within 5 s of signing in
    mean, sd = 90.0, 120.0
    first = START + dt.timedelta(seconds=rng.random() * DAYS * 86400)
    last = min(START + dt.timedelta(days=DAYS), first + dt.timedelta(seconds=rng.random() * 86400 * 5))
    # the crowd prefers what the campaign prefers: the top candidate is the campaign's, with binomial noise
    top = max(1, min(votes, round(votes * top_share + rng.gauss(0, math.sqrt(votes * top_share) + 0.5))))
    return (cid, kind, key, votes, min(fast, votes), 0, 0, 0, votes, mean * votes, (sd * sd + mean * mean) * votes,
            first, last, top, candidate)


def _span(row: tuple[Any, ...], *, first_at: dt.datetime, last_at: dt.datetime) -> tuple[Any, ...]:
    i = CLUSTER_COLS.index("first_at")
    return (*row[:i], first_at, last_at, *row[i + 2:])


def _zipf_sizes(n: int, total: int, s: float, rng: random.Random) -> list[int]:
    w = [1 / (i + 1) ** s for i in range(n)]
    k = total / sum(w)
    sizes = [max(1, int(x * k * rng.uniform(0.8, 1.2))) for x in w]
    rng.shuffle(sizes)
    return sizes


async def fill(conn: Any, cid: int, candidates: list[int], votes: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    shares = [1 / (i + 1) ** 0.8 for i in range(len(candidates))]
    z = sum(shares)
    shares = [x / z for x in shares]
    counts: dict[str, int] = {}

    async def copy(table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        await conn.copy_records_to_table(table, records=rows, columns=cols, timeout=3600)
        counts[table] = counts.get(table, 0) + len(rows)

    scale = votes / 30_000_000
    plan = {"net": (int(40_000 * scale) or 1, 1.0), "ip": (int(2_000_000 * scale) or 1, 0.6),
            "blk": (int(1_900_000 * scale) or 1, 0.0)}
    totals: list[tuple[Any, ...]] = []
    for kind, (n, s) in plan.items():
        sizes = _zipf_sizes(n, votes, s, rng)
        rows = []
        for i, size in enumerate(sizes):
            rows.append(_cluster(cid, kind, f"{kind}{i}", size, rng, shares[0], candidates[0]))
            if len(rows) == 200_000:
                await copy("fraud_clusters", CLUSTER_COLS, rows)
                rows = []
        await copy("fraud_clusters", CLUSTER_COLS, rows)
        totals.append((cid, kind, len(sizes), votes, 60, 5))
    ua_keys = [f"browser.t.s.{lang}" for lang in ("ru", "kk", "en", "")] + [f"browser.t.f.{lang}" for lang in
                                                                          ("ru", "kk")]
    ua_sizes = [int(votes * x) for x in (0.6, 0.33, 0.05, 0.01, 0.005, 0.005)]
    await copy("fraud_clusters", CLUSTER_COLS,
               [_cluster(cid, "ua", k, n, rng, shares[0], candidates[0]) for k, n in zip(ua_keys, ua_sizes)])
    totals.append((cid, "ua", len(ua_keys), votes, 60, 5))
    # a candidate's and the campaign's totals span the campaign (the burst detector counts its buckets from them)
    whole = {"first_at": START, "last_at": START + dt.timedelta(days=DAYS) - dt.timedelta(seconds=1)}
    cand_rows = [_span(_cluster(cid, "cand", str(c), int(votes * p), rng, 1.0, c), **whole)
                 for c, p in zip(candidates, shares)]
    await copy("fraud_clusters", CLUSTER_COLS, cand_rows)
    await copy("fraud_clusters", CLUSTER_COLS,
               [_span(_cluster(cid, "all", "", votes, rng, shares[0], candidates[0]), **whole)])
    totals += [(cid, "cand", len(candidates), votes, 60, 5), (cid, "all", 1, votes, 60, 5)]
    await copy("fraud_kind_totals", ("campaign_id", "kind", "clusters", "votes", "bucket_s", "fast_s"), totals)

    # per minute: a daily rhythm, an evening broadcast surge (x6 for 20 minutes), every candidate alike
    minutes = DAYS * 1440
    per_min = votes / minutes
    all_rows, cand_rows_b = [], []
    for m in range(minutes):
        hour = (m // 60) % 24
        rate = per_min * (0.25 + 1.5 * math.sin(math.pi * max(0, hour - 6) / 18) ** 2)
        if 20 * 60 <= m % 1440 < 20 * 60 + 20:
            rate *= 6
        at = START + dt.timedelta(minutes=m)
        all_rows.append((cid, "all", "", at, max(1, int(rate))))
        for c, p in zip(candidates, shares):
            lam = rate * p
            n = int(rng.gauss(lam, math.sqrt(lam)) + 0.5) if lam > 20 else _poisson(rng, lam)
            if n > 0:
                cand_rows_b.append((cid, "cand", str(c), at, n))
        if len(cand_rows_b) >= 200_000:
            await copy("fraud_cluster_buckets", ("campaign_id", "kind", "key", "bucket", "votes"), cand_rows_b)
            cand_rows_b = []
    await copy("fraud_cluster_buckets", ("campaign_id", "kind", "key", "bucket", "votes"), cand_rows_b + all_rows)
    return counts


def _poisson(rng: random.Random, lam: float) -> int:
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    from admin_service.repos import fraud as repo
    from admin_service.services import fraud

    server = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
    db = stack.ScratchDatabase(server)
    r = aioredis.Redis.from_url(stack.with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
                                                f"/{opts.redis_db}"), decode_responses=True)
    pool = None
    try:
        db_url = await db.create()
        # the services' pool (JSON codecs), without its 10 s statement limit: COPY of millions of rows takes longer
        pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2, command_timeout=None,
                                         init=infra._init_connection)
        camp = await stack.publish_campaign(pool, r, candidates=opts.candidates, k=3)
        started = time.perf_counter()
        async with pool.acquire() as conn:
            counts = await fill(conn, camp.id, camp.candidate_ids, opts.votes, opts.seed)
            attacks = Traffic(camp.id, camp.candidate_ids, seed=opts.seed,
                              start_ms=int((START + dt.timedelta(days=10)).timestamp() * 1000))
            attacks.farm_one_24(60, at_s=3600, cand=camp.candidate_ids[40])
            attacks.farm_rotating(80, at_s=7200, cand=camp.candidate_ids[41])
            attacks.sequential_phones(30, at_s=9000, cand=camp.candidate_ids[42])
            attacks.paid_burst(300, at_s=12000, cand=camp.candidate_ids[43], within_s=120)
            for batch in attacks.batches(2000):
                async with conn.transaction():
                    await votes_repo.insert_batch(conn, batch)
            # a campaign's summaries as autovacuum keeps them: statistics, and the visibility map (an index-only
            # scan reads the heap for pages not marked all-visible; a 23-day-old table is mostly marked)
            await conn.execute("VACUUM ANALYZE fraud_clusters, fraud_cluster_buckets, fraud_kind_totals")
        fill_s = time.perf_counter() - started
        stack.log(f"fraud-fill: {counts} in {fill_s:.0f} s")
        times, items, parts = [], [], {}
        for _ in range(opts.runs):
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SET LOCAL jit = off")  # as the service does
                t = time.perf_counter()
                items = await fraud.compute_flags(conn, camp.id)
                times.append((time.perf_counter() - t) * 1000)
        async with pool.acquire() as conn, conn.transaction():  # where the time goes
            await conn.execute("SET LOCAL jit = off")
            t = time.perf_counter()
            n_clusters = len(await repo.cluster_stats(conn, campaign_id=camp.id, kinds=list(fraud.CLUSTER_KINDS)))
            parts["cluster_stats_ms"] = round((time.perf_counter() - t) * 1000, 1)
            totals = await repo.totals(conn, camp.id)
            span = await repo.campaign_span(conn, camp.id)
            tests = fraud.burst_tests(totals["cand"]["clusters"], span["first_at"], span["last_at"],
                                      totals["all"]["bucket_s"])
            t = time.perf_counter()
            n_hot = len(await repo.bursts(conn, campaign_id=camp.id, floor=fraud.burst_floor(tests),
                                          hot_ratio=fraud.BURST_HOT_RATIO, ratio=fraud.BURST_RATIO))
            parts["bursts_ms"] = round((time.perf_counter() - t) * 1000, 1)
            parts.update(suspect_rows=n_clusters, hot_bucket_rows=n_hot, burst_tests=tests,
                         burst_floor=fraud.burst_floor(tests))
        return {"votes_equivalent": opts.votes, "rows": counts, "fill_s": round(fill_s, 1),
                "review_ms_median": round(statistics.median(times), 1), "review_ms_max": round(max(times), 1),
                "runs": opts.runs, **parts, "flags": len(items), "flagged": [i["cluster_id"] for i in items][:20]}
    finally:
        if pool is not None:
            await pool.close()
        if opts.keep:
            stack.log(f"fraud-fill: database kept: {db.url}")
        else:
            await db.drop()
        await r.aclose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--votes", type=int, default=30_000_000)
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--redis-db", type=int, default=12)
    p.add_argument("--keep", action="store_true")
    opts = p.parse_args(argv)
    print(json.dumps(asyncio.run(run(opts)), default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
