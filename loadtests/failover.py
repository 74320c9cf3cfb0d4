"""Failover, honestly counted: votes under load on a Redis Cluster (N primaries with a replica each, started on
loopback: devtools/rediscluster.py), a primary killed (SIGKILL) mid-load, its replica promoted by the cluster;
after the flusher drained everything, how many *acknowledged* votes (those the ballot box accepted: a 201)
are not in Postgres. Run once without waiting for replicas (the default) and once with ``REDIS_WAIT_REPLICAS=1``
(each vote batch followed by ``WAIT 1 <REDIS_WAIT_TIMEOUT_MS>`` on the same connection), with the latency of a
vote in the steady phase before the kill for both: the cost of waiting.

    python -m loadtests.failover [--primaries 3] [--replicas 1] [--concurrency 64] [--before-s 4] [--after-s 4] [--rounds 1]
                                 [--restart-after-s 1 | --leave-dead]

``--lag-replica-s S`` freezes (SIGSTOP) the victim's replica and cuts its replication link (CLIENT KILL TYPE
replica on the primary) S seconds before the primary is killed, and thaws it at once after: the replica is S
seconds behind when it takes over, a stand-in for replication lag or a broken link
(on loopback a replica is otherwise well under a millisecond behind and the default loses nothing measurable).

The killed node is restarted (``--restart-after-s`` after its replica took over; it rejoins as the new
primary's replica) as an orchestrator would; ``--leave-dead`` shows what waiting costs while a shard has no
replica (with one replica per primary: that shard's votes fail until one is back).

The load runs in this process through the voting service's own ``BallotBox`` (the very Redis path of a vote:
routing, the vote script, the per-primary batcher; no HTTP), the flusher in this process too. The last line of
the output is one JSON object: per mode ``acknowledged``, ``lost`` (acknowledged, not in Postgres),
``recorded_unacknowledged`` (in Postgres though the voter got an error: a retry says "already voted"),
``errors``, ``unavailable_s`` (first to last failed vote from a second before the kill on), ``p50_ms``/``p99_ms``
(steady phase),
and ``wait_cost_p50_ms``/``wait_cost_p99_ms``. docs/capacity.md "Failover" says what it showed.
"""

from __future__ import annotations

import argparse
import base64
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from devtools.campaigns import publish_campaign
from devtools.rediscluster import LocalCluster
from loadtests.stack import contact_public_key
from shared.crypto import b64u
from shared.errors import AppError
from shared.infra import create_pool, create_redis
from shared.settings import Settings
from shared.votestore import drain, keys
from shared.votestore.reconcile import reconcile
from voting_service.flusher import Flusher
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import RouteTable


def log(msg: str) -> None:
    print(f"[failover {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Load:
    box: BallotBox
    campaign_id: int
    candidates: list[int]
    k: int
    receipts: set[str] = field(default_factory=set)
    steady_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_times: list[float] = field(default_factory=list)
    steady: bool = True
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def voter_loop(self) -> None:
        while not self.stop.is_set():
            voter = b64u(os.urandom(12))
            for cand in random.sample(self.candidates, self.k):
                t0 = time.perf_counter()
                try:
                    acc = await self.box.cast(campaign_id=self.campaign_id, voter=voter, candidate_id=str(cand),
                                              ip_hash="h", ip_net="203.0.113.0/24")
                except AppError:  # Unavailable (503) and any refusal: not acknowledged
                    self.errors += 1
                    self.error_times.append(time.monotonic())
                    await asyncio.sleep(0.01)
                    continue
                except Exception:  # noqa: BLE001 - what the service would map to 503 (shared/problem.py)
                    self.errors += 1
                    self.error_times.append(time.monotonic())
                    await asyncio.sleep(0.01)
                    continue
                if self.steady:
                    self.steady_ms.append((time.perf_counter() - t0) * 1000)
                self.receipts.add(acc.receipt)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return round(statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0], 3)


async def run_once(*, database_url: str, wait_replicas: int, primaries: int = 3, concurrency: int = 64,
                   before_s: float = 4.0, after_s: float = 4.0, wait_timeout_ms: int = 100,
                   shards: int = 8, kill_signal: int = signal.SIGKILL,
                   restart_after_s: float | None = 1.0, lag_replica_s: float = 0.0,
                   replicas: int = 1) -> dict[str, Any]:
    """One cluster, one campaign, load, a primary killed (and restarted ``restart_after_s`` later; None: left
    dead), drain, count. ``database_url``: a migrated database of the caller's own (e.g. a scratch one): the
    flusher re-projects every published campaign in it."""
    with LocalCluster(primaries=primaries, replicas=replicas) as cluster:
        env = {"APP_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": cluster.url(),
               "VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0",
               "REDIS_WAIT_REPLICAS": str(wait_replicas), "REDIS_WAIT_TIMEOUT_MS": str(wait_timeout_ms),
               "FLUSHER_CLAIM_IDLE_MS": "1000", "FLUSHER_METRICS_PORT": "0",
               # the voting service's own keys (its ballot box keys proof-of-work challenges with one)
               "VOTER_TOKEN_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
               "PSEUDONYM_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
               "CONTACT_PUBLIC_KEY": contact_public_key(), "SMS_BACKEND": "outbox"}
        settings = Settings.from_env(env, service="voting")
        pool = await create_pool(database_url, min_size=1, max_size=8)
        r = create_redis(cluster.url(), timeout_s=1.0)
        fr = create_redis(cluster.url(), timeout_s=2.0)
        stop_flusher = asyncio.Event()
        try:
            camp = await publish_campaign(pool, r, candidates=20, k=3, shards=shards)
            box = BallotBox(settings=settings, redis=r, routes=RouteTable(r, 60))
            load = Load(box, camp.id, camp.candidate_ids, camp.k)
            flusher = Flusher(settings, pool, fr, consumer="failover-flusher")
            flusher_task = asyncio.create_task(flusher.run(stop_flusher))
            voters = [asyncio.create_task(load.voter_loop()) for _ in range(concurrency)]
            await asyncio.sleep(before_s)
            load.steady = False
            acknowledged_before_kill = len(load.receipts)
            # The primary of shard 0's slot: one that surely holds votes of the campaign.
            target = cluster.primary_for_key(keys.ShardKeys.of(camp.id, 0).stream)
            if lag_replica_s > 0:
                # The replica falls behind (frozen: its primary's writes queue up unreplicated), then the
                # primary dies and the replica, thawed, takes over without what it never received.
                replica = cluster.replica_of(target)
                cluster.freeze(replica)
                with cluster.client(target) as c:  # what is already in the replica's socket still arrives
                    c.execute_command("CLIENT", "KILL", "TYPE", "replica")
                await asyncio.sleep(lag_replica_s)
            killed_at = time.monotonic()
            if lag_replica_s > 0:
                kill = asyncio.create_task(asyncio.to_thread(cluster.kill_primary, target, sig=kill_signal))
                await asyncio.sleep(0.05)
                cluster.resume(replica)
                killed, promoted = await kill
            else:
                killed, promoted = await asyncio.to_thread(cluster.kill_primary, target, sig=kill_signal)
            log(f"wait={wait_replicas}: primary {killed} killed, replica {promoted} took over after "
                f"{time.monotonic() - killed_at:.2f} s")
            if restart_after_s is not None:
                # As an orchestrator would: the dead node back, it rejoins as the new primary's replica (with
                # REDIS_WAIT_REPLICAS=1 and one replica per primary, that shard's votes wait for it).
                await asyncio.sleep(restart_after_s)
                await asyncio.to_thread(cluster.restart, killed)
                log(f"wait={wait_replicas}: node {killed} back as a replica")
            await asyncio.sleep(after_s)
            load.stop.set()
            await asyncio.gather(*voters)
            await box.close()
            left = await drain.wait_drained(fr, camp.id, list(range(shards)), 60)
            stop_flusher.set()
            await flusher_task
            (rep,) = await reconcile(pool, fr, campaign_id=camp.id, wait_s=5)
            rows = await pool.fetch("SELECT vote_id FROM votes WHERE campaign_id = $1", camp.id)
            stored = {row["vote_id"] for row in rows}
            around = [t - killed_at for t in load.error_times if t >= killed_at - 1]
            return {
                "wait_replicas": wait_replicas,
                "replicas_per_primary": replicas,
                "lag_replica_s": lag_replica_s,
                "victim_shards": sum(cluster.primary_for_key(keys.ShardKeys.of(camp.id, sh).stream) == promoted
                                     for sh in range(shards)),
                "acknowledged": len(load.receipts),
                "acknowledged_before_kill": acknowledged_before_kill,
                "lost": len(load.receipts - stored),
                "recorded_unacknowledged": len(stored - load.receipts),
                "undrained": left,
                # A vote flushed to Postgres before the crash but lost with the primary is missing from the
                # promoted replica's tally (and voter record: that voter may vote for it again).
                "reconcile_clean": rep.clean,
                "redis_minus_postgres": rep.redis_total - rep.postgres_total,
                "errors": load.errors,
                "unavailable_s": round(max(around) - min(around), 3) if around else 0.0,
                "p50_ms": _pct(load.steady_ms, 50),
                "p99_ms": _pct(load.steady_ms, 99),
                "steady_votes_per_s": round(len(load.steady_ms) / before_s, 1),
            }
        finally:
            stop_flusher.set()
            await r.aclose()
            await fr.aclose()
            await pool.close()


def summary(default: list[dict[str, Any]], waiting: list[dict[str, Any]]) -> dict[str, Any]:
    def total(runs: list[dict[str, Any]]) -> dict[str, Any]:
        out = {k: sum(run[k] for run in runs) for k in ("acknowledged", "lost", "recorded_unacknowledged",
                                                        "errors", "undrained")}
        out["reconcile_clean"] = all(run["reconcile_clean"] for run in runs)
        out["unavailable_s_max"] = max(run["unavailable_s"] for run in runs)
        out["p50_ms"] = round(statistics.median(run["p50_ms"] for run in runs), 3)
        out["p99_ms"] = round(statistics.median(run["p99_ms"] for run in runs), 3)
        out["steady_votes_per_s"] = round(statistics.median(run["steady_votes_per_s"] for run in runs), 1)
        return out

    d, w = total(default), total(waiting)
    return {"default": d, "wait_1": w, "rounds": len(default),
            "wait_cost_p50_ms": round(w["p50_ms"] - d["p50_ms"], 3),
            "wait_cost_p99_ms": round(w["p99_ms"] - d["p99_ms"], 3)}


async def main_async(opts: argparse.Namespace) -> dict[str, Any]:
    from loadtests.stack import ScratchDatabase

    runs: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    for rnd in range(opts.rounds):
        for wait in (0, 1):
            db = ScratchDatabase(os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres"))
            url = await db.create()
            try:
                result = await run_once(database_url=url, wait_replicas=wait, primaries=opts.primaries,
                                        concurrency=opts.concurrency, before_s=opts.before_s,
                                        after_s=opts.after_s, wait_timeout_ms=opts.wait_timeout_ms,
                                        restart_after_s=None if opts.leave_dead else opts.restart_after_s,
                                        lag_replica_s=opts.lag_replica_s, replicas=opts.replicas)
            finally:
                await db.drop()
            log(f"round {rnd + 1} wait={wait}: {json.dumps(result)}")
            runs[wait].append(result)
    return summary(runs[0], runs[1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtests.failover", description=__doc__.split("\n\n")[0])
    p.add_argument("--primaries", type=int, default=3)
    p.add_argument("--replicas", type=int, default=1, help="replicas per primary (default 1)")
    p.add_argument("--concurrency", type=int, default=64, help="concurrent voters (each votes k times in a row)")
    p.add_argument("--before-s", type=float, default=4.0, help="steady load before the kill (latency measured)")
    p.add_argument("--after-s", type=float, default=4.0, help="load after the replica took over")
    p.add_argument("--wait-timeout-ms", type=int, default=100, help="REDIS_WAIT_TIMEOUT_MS of the waiting run")
    p.add_argument("--restart-after-s", type=float, default=1.0,
                   help="restart the killed node this long after its replica took over (it rejoins as a replica)")
    p.add_argument("--lag-replica-s", type=float, default=0.0,
                   help="freeze the victim's replica this long before the kill (a replica behind its primary)")
    p.add_argument("--leave-dead", action="store_true", help="never restart the killed node")
    p.add_argument("--rounds", type=int, default=1, help="repeat both runs (sums and medians in the JSON)")
    opts = p.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the clusters and scratch databases are stopped and dropped.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(json.dumps(asyncio.run(main_async(opts))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
