"""Finalisation at scale and receipt-with-proof lookups: ``python -m loadtests.finalise_bench --votes 5000000``.

1. A scratch database (migrated), a published campaign (``--candidates``, 1 shard), ``--votes`` votes written
   straight into Postgres by one INSERT ... SELECT (the flusher's rows, made by the server; one in
   ``--invalid-every`` is invalidated), the campaign closed and its Redis tally set to the Postgres counts (what
   the flusher and the vote script leave behind), so that finalisation's preconditions hold.
2. **finalise**: ``admin_service.services.finalise.finalise`` in a child process connected as the admin
   service's role, timed (wall clock) and its peak RSS read (``ru_maxrss``): ranking, the RFC 9162 tree over the
   counted votes, the tiles and levels written, the tree head signed, the snapshot frozen.
3. **ceiling** then **receipts**: wrk (``loadtests/wrk/receipts.lua``) replays GET /api/v1/receipts/<r> over a
   random sample of counted receipts against the ceiling app (Litestar, a fixed answer of the same shape with a
   23-hash proof, no I/O) and then against the voting service (``python -m voting_service serve``), served alike
   (loadtests/bench.py's ``Bench``: same granian flags, workers, CPU accounting). A sample of the answers is
   verified with shared/merkle.py against the signed root.

The last stdout line is one JSON object (docs/performance.md, "Finalisation and receipt proofs"); exit 0 when
finalisation met ``--max-seconds`` and ``--max-rss-mib``, the lookups had no errors and the sample verified.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from loadtests import loadgen, stack
from loadtests.bench import Bench
from loadtests.stack import log
from shared.infra import create_pool
from shared.votestore import keys

FIRST_MS = 1_767_000_000_000

# Vote i: receipt "<campaign>.0.<FIRST_MS + i>-0.<first 12 hex digits of md5(i)>" (a well-formed receipt), a
# candidate by hash, its own voter, one second apart per thousand votes.
INSERT_VOTES = """
INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, ip_hash, ip_net, cast_at, invalidated_at,
                   invalidation_reason, invalidated_by)
SELECT $1::bigint, $1::bigint::text || '.0.' || ($2::bigint + i) || '-0.' || substr(md5(i::text), 1, 12),
       ($3::bigint[])[1 + abs(hashint4(i::int)) % cardinality($3::bigint[])], 'v' || i, '', NULL,
       timestamptz 'epoch' + ($2::bigint + i) * interval '1 millisecond',
       CASE WHEN i % $6::int = 0 THEN now() END, CASE WHEN i % $6::int = 0 THEN 'bench' END,
       CASE WHEN i % $6::int = 0 THEN 'bench' END
FROM generate_series($4::bigint, $5::bigint) AS i
"""


def receipt_of(campaign_id: int, i: int) -> str:
    return f"{campaign_id}.0.{FIRST_MS + i}-0.{hashlib.md5(str(i).encode()).hexdigest()[:12]}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.finalise_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--votes", type=int, default=5_000_000)
    p.add_argument("--candidates", type=int, default=200)
    p.add_argument("--seats", type=int, default=100)
    p.add_argument("--invalid-every", type=int, default=97, help="invalidate vote i when i %% N == 0")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of lookups per phase")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=96)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=int(os.environ.get("VOTING_WORKERS", "2")))
    p.add_argument("--interface", choices=("rsgi", "asgi"), default="rsgi")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--sample", type=int, default=200_000, help="distinct receipts wrk asks for")
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.add_argument("--max-rss-mib", type=float, default=2048.0)
    p.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "12")))
    p.add_argument("--keep", type=Path, default=None)
    p.add_argument("--profile", type=Path, default=None)
    # the vote benchmark's options this one does not take (it always runs on one Redis)
    p.set_defaults(redis_cluster=False, cluster_primaries=3, cluster_replicas=1)
    # internal: the finalisation child
    p.add_argument("--finalise-child", nargs=3, metavar=("DATABASE_URL", "REDIS_URL", "CAMPAIGN"),
                   help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --- the finalisation, in a child process of its own (its peak RSS is the figure) ---------------------------


async def _finalise_child(database_url: str, redis_url: str, campaign_id: int) -> dict[str, Any]:
    from admin_service.auth.context import Staff
    from admin_service.services import finalise
    from admin_service.services.tree_head import TreeHeadSigner
    from shared.infra import create_redis

    pool = await create_pool(database_url, min_size=1, max_size=4)
    redis = create_redis(redis_url, timeout_s=30.0)
    try:
        actor = Staff(id=None, email="bench@100faces.kz", roles=frozenset({"working_group"}))  # type: ignore[arg-type]
        started = time.perf_counter()
        result = await finalise.finalise(pool, redis, campaign_id=campaign_id, actor=actor,
                                         signer=TreeHeadSigner(secrets.token_bytes(32)))
        seconds = time.perf_counter() - started
    finally:
        await redis.aclose()
        await pool.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": round(seconds, 2), "max_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "tree_size": result["tree_size"], "root_hash": result["merkle_root"], "seats": len(result["seats"])}


class FinaliseBench(Bench):
    async def run(self) -> dict[str, Any]:
        o, r = self.o, self.report
        loadgen.wrk_binary()
        await self.redis.flushdb()
        db_url = await self.db.create()
        service_urls = await self.credentials.create(db_url, self.redis_url)
        self._env = self.service_env(db_url, service_urls, secrets.token_bytes(32), secrets.token_bytes(32))
        r.update(votes=o.votes, candidates=o.candidates, workers=o.workers, connections=o.connections,
                 duration_s=o.duration)
        pool = await create_pool(db_url, min_size=1, max_size=2)
        try:
            await self._prepare(pool)
        finally:
            await pool.close()
        self._finalise(service_urls)
        sample = self._sample()
        await self._lookups(sample)
        return r

    async def _prepare(self, pool: Any) -> None:
        o, r = self.o, self.report
        self.campaign = await stack.publish_campaign(pool, self.redis, candidates=o.candidates, k=3, shards=1)
        cid = self.campaign.id
        started = time.perf_counter()
        step = 1_000_000
        async with pool.acquire() as conn:
            await conn.execute("SET statement_timeout = 0")
            await conn.execute("UPDATE campaigns SET seats = $2 WHERE id = $1", cid, o.seats)
            for lo in range(0, o.votes, step):
                await conn.execute("SET synchronous_commit = off")
                await conn.execute(INSERT_VOTES, cid, FIRST_MS, self.campaign.candidate_ids, lo,
                                   min(lo + step, o.votes) - 1, o.invalid_every, timeout=900)
                log(f"votes: {min(lo + step, o.votes)} of {o.votes} inserted")
            await conn.execute(f"VACUUM ANALYZE votes_c{cid}", timeout=900)
            counts = await conn.fetch("SELECT candidate_id, count(*) AS n FROM votes WHERE campaign_id = $1 "
                                      "GROUP BY candidate_id", cid, timeout=900)
            await conn.execute("UPDATE campaigns SET state = 'closed', closed_at = now() WHERE id = $1", cid)
            counted = await conn.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1 "
                                          "AND invalidated_at IS NULL", cid, timeout=900)
        # What the vote script and the flusher leave in Redis: the tally per candidate, empty streams.
        await self.redis.hset(keys.ShardKeys.of(cid, 0).tally, mapping={str(c["candidate_id"]): c["n"] for c in counts})
        r.update(campaign_id=cid, counted_votes=counted, invalidated_votes=o.votes - counted,
                 setup_s=round(time.perf_counter() - started, 1))
        log(f"campaign {cid}: {o.votes} votes ({counted} counted) in {r['setup_s']} s")

    def _finalise(self, service_urls: dict[str, str]) -> None:
        admin_db = service_urls.get("ADMIN_DATABASE_URL", self._env["DATABASE_URL"])
        admin_redis = service_urls.get("ADMIN_REDIS_URL", self.redis_url)
        busy0 = stack.cpu_busy()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "loadtests.finalise_bench", "--finalise-child", admin_db,
                               admin_redis, str(self.campaign.id)], capture_output=True, text=True,
                              env=self.env())
        wall = time.perf_counter() - started
        busy, total, steal = (b - a for a, b in zip(busy0, stack.cpu_busy()))
        if done.returncode != 0:
            raise RuntimeError(f"finalisation failed:\n{done.stderr[-3000:]}")
        child = json.loads(done.stdout.strip().splitlines()[-1])
        self.root = child["root_hash"]
        self.report.update(finalise_s=child["seconds"], finalise_process_s=round(wall, 2),
                           finalise_cpu_s=child.get("cpu_s"),
                           finalise_max_rss_mib=child["max_rss_mib"], tree_size=child["tree_size"],
                           finalise_machine_busy_pct=round(100 * busy / total, 1) if total else 0.0,
                           finalise_ok=child["seconds"] <= self.o.max_seconds
                           and child["max_rss_mib"] <= self.o.max_rss_mib)
        log(f"finalised in {child['seconds']} s (process {wall:.1f} s), peak RSS {child['max_rss_mib']} MiB, "
            f"tree of {child['tree_size']} leaves, machine {self.report['finalise_machine_busy_pct']} % busy")

    def _sample(self) -> Path:
        rng = random.Random(7)
        picks = (rng.randrange(self.o.votes) for _ in range(self.o.sample * 2))
        receipts = [receipt_of(self.campaign.id, i) for i in picks if i % self.o.invalid_every][:self.o.sample]
        path = self.workdir / "receipts.txt"
        path.write_text("\n".join(receipts) + "\n")
        return path

    async def _lookups(self, sample: Path) -> None:
        o, r = self.o, self.report
        script = self.votes(sample, loadgen.RECEIPTS_LUA)
        p = self.serve("ceiling", "loadtests.baselines.ceiling_app")
        await self.warm(p, script, "ceiling")
        ceiling, cpu = await self.load(p, script, duration=o.duration, label="ceiling")
        self.stop(p)
        r.update(ceiling_rps=ceiling.per_s(ceiling.count(lambda s: s == 200)), ceiling_errors=ceiling.errors,
                 ceiling_p99_ms=ceiling.latency_ms("p99"), ceiling_cpu_s=cpu)
        service = self.serve("voting", None)
        verified = await self._verify_some(service.port, sample)
        await self.warm(service, script, "receipts")
        res, cpu = await self.load(service, script, duration=o.duration, label="receipts",
                                   extra_cpu={"postgres": stack.pids_named("postgres")})
        self.stop(service)
        rps = res.per_s(res.count(lambda s: s == 200))
        r.update(receipts_rps=rps, receipts_errors=res.errors, receipts_statuses=res.statuses,
                 receipts_p50_ms=res.latency_ms("p50"), receipts_p99_ms=res.latency_ms("p99"), receipts_cpu_s=cpu,
                 sample_verified=verified,
                 ratio_vs_ceiling=round(rps / r["ceiling_rps"], 3) if r.get("ceiling_rps") else None)

    async def _verify_some(self, port: int, sample: Path) -> int:
        """Ask for 50 receipts of the sample and verify each answer's proof against the finalisation's root."""
        from shared import merkle

        receipts = sample.read_text().split()[:50]
        ok = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for rc in receipts:
                body = (await client.get(f"/api/v1/receipts/{rc}")).json()
                proof = body["proof"]
                leaf = merkle.leaf_hash(merkle.leaf_bytes(self.campaign.id, rc, bytes.fromhex(proof["commitment"])))
                path = [bytes.fromhex(h) for h in proof["audit_path"]]
                ok += merkle.verify_inclusion(proof["leaf_index"], proof["tree_size"], leaf, path,
                                              bytes.fromhex(self.root))
        log(f"{ok} of {len(receipts)} sampled proofs verify against the signed root")
        return ok


async def amain(opts: argparse.Namespace) -> dict[str, Any]:
    bench = FinaliseBench(opts)
    failed = True
    try:
        report = await bench.run()
        failed = False
        return report
    finally:
        await bench.close(failed)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.finalise_child:
        db, redis_url, cid = opts.finalise_child
        print(json.dumps(asyncio.run(_finalise_child(db, redis_url, int(cid)))), flush=True)
        return 0
    try:
        report = asyncio.run(amain(opts))
    except loadgen.WrkMissing as exc:
        log(str(exc))
        return 2
    report["machine"] = stack.machine()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    ok = (report.get("finalise_ok") and report.get("receipts_errors") == 0 and report.get("sample_verified") == 50)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
