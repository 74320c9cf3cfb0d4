"""Faults under load: ``python -m loadtests.chaos`` (``make chaos``), bounded to about four minutes, loopback only.

It stands up a private stack — a PostgreSQL cluster (initdb, from the installed server binaries) and a
redis-server with AOF and ``appendfsync always`` (as docker-compose.yml runs it), both on free loopback ports in
a temporary folder; the voting service as production serves it (granian); the flusher — publishes a campaign,
and keeps votes coming from real voters (tokens minted as ``POST /auth/otp/verify`` mints them, see
loadtests/votedata.py) at a steady rate while it injects, one after the other:

1. ``flusher_kill9``: kill -9 the flusher mid-run (by default 10 times), restarting it each time;
2. ``postgres_restart``: Postgres stopped in immediate mode (a crash for Postgres) and started again;
3. ``redis_restart``: redis-server killed -9 and started again on the same AOF;
4. ``redis_unresponsive``: redis-server frozen with SIGSTOP for 10 s (the port open, nothing answered), then SIGCONT;

Then it stops the load, waits for the flusher to drain the streams, runs ``python -m voting_service reconcile``
and compares what the clients were told with what Postgres holds. Then, on the same Postgres, the cluster phases:

5. ``cluster_failover``: a Redis Cluster of 3 primaries with ``--cluster-replicas`` replicas each (default 2;
   devtools/rediscluster.py) on loopback, a second voting service and flusher on it with
   ``REDIS_WAIT_REPLICAS=1`` (a vote is answered 201 once a replica holds it), the same steady load on a campaign
   of its own; kill -9 the primary of the campaign's shard 0, its replica takes over, the killed node is
   restarted ``--cluster-restart-after`` s later (it rejoins as a replica), then the same drain, reconcile and
   comparison. Counted in ``lost`` / ``duplicated`` / ``reconcile_ok`` like every other fault;
6. ``cluster_failover_no_wait``: the same on a fresh cluster with ``REDIS_WAIT_REPLICAS=0`` (asynchronous
   replication: a vote acknowledged by the primary and not yet copied dies with it). Reported apart:
   ``failover_no_wait_lost`` (and ``failover_no_wait``: its own counts), never in ``lost`` (issue 13).

Progress goes to stderr; the last stdout line is one JSON object:

- ``acknowledged``: votes answered 201 (with a receipt);
- ``lost``: acknowledged votes whose receipt is not in Postgres after the drain;
- ``duplicated``: rows in Postgres beyond one per receipt and one per (voter, candidate);
- ``reconcile_ok``: the reconcile command found Redis's tallies equal to Postgres's counts;
- ``max_unavailable_response_s``: the longest any request (vote or readiness probe) waited for an answer while a
  store was down or frozen; the service must answer 503 quickly, not hang;
- ``recorded_unacknowledged``: votes in Postgres whose client got no 201 (a 503 or a timeout after Redis had
  already taken the vote: the voter sees it in "my votes"; neither lost nor duplicated);
- ``baseline_max_response_s`` / ``baseline_p99_response_s``: the same measure over the answers given while every
  store was up, and ``machine_busy_pct``: on a busy shared machine the scheduler alone delays answers, and these
  say by how much;
- ``failover_unavailable_s``: for the failover with replica wait, first to last vote refused (503 or no answer)
  from the kill on: how long voters of the failed primary's slots are turned away (each refusal itself quick,
  within ``max_unavailable_response_s``); ``failover_no_wait_unavailable_s`` the same without the wait;
- ``internal_errors``: answers 5xx other than 503 (a bug whatever the fault; the service log's traceback is
  printed to stderr);
- per fault: when, how long, the slowest answer during it (votes, readiness probes) and the statuses seen.

Targets (exit 1 otherwise; a run that acknowledged no vote proves nothing and fails too): lost 0, duplicated 0, reconcile_ok true, max_unavailable_response_s <= 2.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devtools.campaigns import publish_campaign
from devtools.ports import free_port
from devtools.rediscluster import LocalCluster
from devtools.servers import PostgresServer, RedisServer
from loadtests.stack import BROWSER_UA, Process, contact_public_key, cpu_busy, wait_ready
from shared import store_access
from shared.crypto import VoterTokens, pseudonym
from shared.infra import create_pool, create_redis
from shared.migrate import migrate_url
from shared.votestore import drain, keys

TARGET_UNAVAILABLE_S = 2.0
CLUSTER_FAULTS = ("cluster_failover", "cluster_failover_no_wait")


def log(msg: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=200.0, help="votes per second offered (default 200)")
    p.add_argument("--concurrency", type=int, default=16, help="voters voting at once (default 16)")
    p.add_argument("--flusher-kills", type=int, default=10, help="kill -9 of the flusher (default 10)")
    p.add_argument("--redis-stop", type=float, default=10.0, help="seconds Redis stays frozen (default 10)")
    p.add_argument("--postgres-down", type=float, default=3.0, help="seconds Postgres stays down (default 3)")
    p.add_argument("--settle", type=float, default=3.0, help="seconds of plain load between faults (default 3)")
    p.add_argument("--workers", type=int, default=1, help="granian workers of the voting service (default 1)")
    p.add_argument("--shards", type=int, default=4, help="campaign shards, one stream each (default 4)")
    p.add_argument("--drain-timeout", type=float, default=60.0)
    p.add_argument("--cluster-replicas", type=int, default=2,
                   help="replicas per primary of the failover's cluster (3 primaries; default 2: with 1, the "
                        "promoted replica has none of its own until the killed node is back and synced, and with "
                        "REDIS_WAIT_REPLICAS=1 its slots refuse votes that long, ~10 s here)")
    p.add_argument("--cluster-restart-after", type=float, default=1.0,
                   help="seconds after the replica took over before the killed node is started again (default 1)")
    p.add_argument("--skip", action="append", default=[], metavar="FAULT",
                   help="leave out a fault (flusher_kill9, postgres_restart, redis_restart, redis_unresponsive, "
                        "cluster_failover (both cluster phases), cluster_failover_no_wait); repeatable")
    p.add_argument("--keep", type=Path, default=None, help="copy the processes' logs here at the end")
    return p.parse_args(argv)


# --- what the clients saw ------------------------------------------------------------------------------

@dataclass
class Answer:
    kind: str          # "vote" or "ready"
    t0: float
    t1: float
    status: int        # 0: no answer (connection error or the client's own timeout)


@dataclass
class Fault:
    name: str
    t0: float
    t1: float = 0.0
    note: str = ""

    def overlaps(self, a: Answer) -> bool:
        return a.t0 <= self.t1 and a.t1 >= self.t0


@dataclass
class Ledger:
    answers: list[Answer] = field(default_factory=list)
    receipts: dict[str, tuple[int, int]] = field(default_factory=dict)  # receipt -> (voter, candidate)
    faults: list[Fault] = field(default_factory=list)
    first_errors: dict[int, str] = field(default_factory=dict)


# --- the load -------------------------------------------------------------------------------------------

class Voters:
    """Voter ``n`` (phone +7770<n>) votes for ``k`` distinct candidates, one after the other."""

    def __init__(self, token_key: bytes, pseudonym_key: bytes, candidates: list[int], k: int, first: int = 0) -> None:
        self._issuer = VoterTokens(token_key, 3600)
        self._pseudonym_key = pseudonym_key
        self._candidates = candidates
        self._k = k
        self._next = first
        self._rng = random.Random(2026)

    @property
    def used(self) -> int:
        return self._next

    def next(self) -> tuple[int, str, list[int]]:
        n, self._next = self._next, self._next + 1
        voter = pseudonym(self._pseudonym_key, "voter", f"+7770{n:07d}")
        return n, self._issuer.issue(voter)[0], self._rng.sample(self._candidates, self._k)


class Load:
    """Closed-loop voters paced to ``rate`` votes/s in all; a vote answered 503 (or not at all) is retried, as
    the portal's script retries it, up to ``RETRIES`` times; a readiness probe every ``PROBE_S``."""

    RETRIES = 20
    RETRY_S = 0.25
    PROBE_S = 0.25
    CLIENT_TIMEOUT_S = 15.0  # far above the 2 s target: a hung service shows as a long answer, not a cut one

    def __init__(self, base: str, campaign_id: int, voters: Voters, ledger: Ledger, *, rate: float,
                 concurrency: int) -> None:
        self.base = base
        self.path = f"/api/v1/campaigns/{campaign_id}/votes"
        self.voters = voters
        self.ledger = ledger
        self.interval = concurrency / rate
        self.concurrency = concurrency
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client = httpx.AsyncClient(base_url=base, timeout=self.CLIENT_TIMEOUT_S,
                                         limits=httpx.Limits(max_connections=concurrency + 4))

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._voter_loop(i)) for i in range(self.concurrency)]
        self._tasks.append(asyncio.create_task(self._probe_loop()))

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.gather(*self._tasks)
        await self._client.aclose()

    async def _request(self, kind: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            resp: httpx.Response | None = await self._client.request(method, path, **kw)
        except httpx.HTTPError:
            resp = None
        self.ledger.answers.append(Answer(kind, t0, loop.time(), resp.status_code if resp is not None else 0))
        if resp is not None and resp.status_code >= 400 and resp.status_code not in self.ledger.first_errors:
            self.ledger.first_errors[resp.status_code] = resp.text[:300]
            log(f"first {resp.status_code} to {method} {path}: {resp.text[:300]}")
        return resp

    async def _voter_loop(self, i: int) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.interval * i / self.concurrency)  # spread the voters over one interval
        next_at = loop.time()
        while not self.stopping.is_set():
            n, token, choices = self.voters.next()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                       "User-Agent": BROWSER_UA}  # citizens: scripts would turn the attack mode on
            for candidate in choices:
                next_at = max(next_at + self.interval, loop.time() - 1.0)
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                for _ in range(self.RETRIES):
                    resp = await self._request("vote", "POST", self.path, headers=headers,
                                               content=json.dumps({"candidate_id": str(candidate)}))
                    if resp is not None and resp.status_code == 201:
                        self.ledger.receipts[resp.json()["receipt"]] = (n, candidate)
                        break
                    if resp is not None and resp.status_code not in (502, 503, 504):
                        break  # 409 already_voted after a retry: the first attempt went through unseen
                    await asyncio.sleep(self.RETRY_S)
                if self.stopping.is_set():
                    return

    async def _probe_loop(self) -> None:
        while not self.stopping.is_set():
            await self._request("ready", "GET", "/health/ready")
            await asyncio.sleep(self.PROBE_S)


# --- the run --------------------------------------------------------------------------------------------

class Chaos:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.o = opts
        self.workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
        self.workdir.chmod(0o755)  # as root Postgres runs as ``postgres``, which must enter it
        self.pg = PostgresServer(self.workdir / "pg")
        (self.workdir / "redis").mkdir()
        self.redis_server = RedisServer(self.workdir / "redis")
        self.ledger = Ledger()
        self.procs: list[Process] = []
        self.flusher: Process | None = None
        self.flusher_starts = 0
        self._busy0: tuple[int, int, int] | None = None
        self._env: dict[str, str] = {}
        self._cluster: tuple[LocalCluster, int] | None = None

    # -- plumbing

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("VOTE_LIMIT_", "PROMETHEUS_MULTIPROC", "FLUSHER_", "VOTING_", "ADMIN_"))}
        return {**base, **self._env}

    def start_flusher(self) -> None:
        self.flusher_starts += 1
        self.flusher = Process(f"flusher-{self.flusher_starts}", [sys.executable, "-m", "voting_service", "flusher"],
                               self.env(), self.workdir / "flusher.log").start()
        self.procs.append(self.flusher)

    def kill9_flusher(self) -> None:
        assert self.flusher is not None and self.flusher.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.flusher.pid, signal.SIGKILL)
        self.flusher.proc.wait(10)
        self.flusher.stop()

    async def fault(self, name: str, action: Callable[[], Awaitable[str | None]],
                    ledger: Ledger | None = None) -> None:
        if name in self.o.skip:
            log(f"{name}: skipped (--skip)")
            return
        loop = asyncio.get_running_loop()
        f = Fault(name, loop.time())
        (ledger or self.ledger).faults.append(f)
        log(f"{name} ...")
        f.note = await action() or ""
        f.t1 = loop.time()
        log(f"{name}: done in {f.t1 - f.t0:.1f} s {f.note}")
        await asyncio.sleep(self.o.settle)

    # -- the faults (in the order they run)

    async def fault_flusher_kill9(self) -> str:
        rng = random.Random(7)
        for _ in range(self.o.flusher_kills):
            await asyncio.sleep(rng.uniform(0.8, 2.0))  # a started flusher is mid-batch most of the time
            await asyncio.to_thread(self.kill9_flusher)
            self.start_flusher()
        return f"({self.o.flusher_kills} kills, {self.flusher_starts} starts)"

    async def fault_postgres_restart(self) -> str:
        await asyncio.to_thread(self.pg.stop, "immediate")
        await asyncio.sleep(self.o.postgres_down)
        await asyncio.to_thread(self.pg.start)
        return ""

    async def fault_redis_restart(self) -> str:
        await asyncio.to_thread(self.redis_server.kill)  # no shutdown, no final fsync: AOF has what was acknowledged
        await asyncio.to_thread(self.redis_server.start)  # waits for the AOF to load
        return ""

    async def fault_redis_unresponsive(self) -> str:
        self.redis_server.pause()
        try:
            await asyncio.sleep(self.o.redis_stop)
        finally:
            self.redis_server.resume()
        return ""

    async def fault_cluster_failover(self) -> str:
        """kill -9 the primary of the campaign's shard 0 on the cluster phase's cluster; wait until its replica
        serves the slots (the cluster's own failover, ``node_timeout`` 1 s), then start the killed node again
        (as an orchestrator would: it rejoins as the new primary's replica)."""
        assert self._cluster is not None
        cluster, campaign_id = self._cluster
        target = await asyncio.to_thread(cluster.primary_for_key, keys.ShardKeys.of(campaign_id, 0).stream)
        t0 = time.monotonic()
        killed, promoted = await asyncio.to_thread(cluster.kill_primary, target)
        took_over = time.monotonic() - t0
        await asyncio.sleep(self.o.cluster_restart_after)
        await asyncio.to_thread(cluster.restart, killed)
        return f"(primary {killed} killed, replica {promoted} took over in {took_over:.1f} s, {killed} restarted)"

    # -- the whole run

    async def run(self) -> dict[str, Any]:
        o = self.o
        if PostgresServer.bindir() is None:
            raise SystemExit("chaos: PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql")
        if shutil.which("redis-server") is None:
            raise SystemExit("chaos: redis-server not found; apt-get install redis-server")
        await asyncio.to_thread(self.pg.init)
        await asyncio.to_thread(self.pg.start)
        await asyncio.to_thread(self.redis_server.start)
        log(f"Postgres on 127.0.0.1:{self.pg.port}, Redis (AOF, appendfsync always) on 127.0.0.1:"
            f"{self.redis_server.port}, in {self.workdir}")
        await migrate_url(self.pg.url)
        pool = await create_pool(self.pg.url, min_size=0, max_size=2)  # no floor to restore while Postgres is down
        r = create_redis(self.redis_server.url, timeout_s=5.0)
        try:
            campaign = await publish_campaign(pool, r, candidates=20, k=3, shards=o.shards, voter_buckets=64)
            return await self._run(pool, r, campaign)
        finally:
            await r.aclose()
            await pool.close()

    async def _run(self, pool: Any, r: Any, campaign: Any) -> dict[str, Any]:
        o = self.o
        token_key, pseudonym_key = secrets.token_bytes(32), secrets.token_bytes(32)
        b64 = base64.urlsafe_b64encode
        # Each service its own variables (production refuses the shared ones); here all point at the owner.
        urls = {**{store_access.database_var(s): self.pg.url for s in store_access.SERVICES},
                **{store_access.redis_var(s): self.redis_server.url for s in store_access.SERVICES}}
        port = free_port()
        (self.workdir / "prometheus").mkdir()
        self._env = {
            **urls, "APP_ENV": "production", "SMS_BACKEND": "http", "SMS_GATEWAY_URL": "http://127.0.0.1:9/unused",
            "VOTER_TOKEN_KEY": b64(token_key).decode(), "PSEUDONYM_KEY": b64(pseudonym_key).decode(),
            "CONTACT_PUBLIC_KEY": contact_public_key(), "LOG_LEVEL": "WARNING",
            # One client address for every voter: the per-address limits would refuse the load itself.
            "VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0",
            "FLUSHER_METRICS_PORT": "0", "FLUSHER_CONSUMER": "chaos-flusher", "FLUSHER_CLAIM_IDLE_MS": "1000",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "prometheus"),
        }
        service = Process("voting", [sys.executable, "-m", "voting_service", "serve", "--host", "127.0.0.1",
                                     "--port", str(port), "--workers", str(o.workers)],
                          self.env(), self.workdir / "voting.log", port=port).start()
        self.procs.append(service)
        base = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_ready, service, f"{base}/health/ready")
        self.start_flusher()
        voters = Voters(token_key, pseudonym_key, campaign.candidate_ids, campaign.k)
        load = Load(base, campaign.id, voters, self.ledger, rate=o.rate, concurrency=o.concurrency)
        loop = asyncio.get_running_loop()
        t_load = loop.time()
        self._busy0 = cpu_busy()
        load.start()
        log(f"campaign {campaign.id} ({campaign.shards} shards): {o.rate:g} votes/s offered by {o.concurrency} voters")
        try:
            await asyncio.sleep(o.settle)
            await self.fault("flusher_kill9", self.fault_flusher_kill9)
            await self.fault("postgres_restart", self.fault_postgres_restart)
            await self.fault("redis_restart", self.fault_redis_restart)
            await self.fault("redis_unresponsive", self.fault_redis_unresponsive)
        finally:
            await load.stop()
        t_end = loop.time()
        log(f"load stopped after {t_end - t_load:.0f} s: {len(self.ledger.receipts)} votes acknowledged")

        shards = list(range(campaign.shards))
        async with create_redis(self.redis_server.url, timeout_s=5.0) as fresh:  # ``r`` predates the restart
            left = await drain.wait_drained(fresh, campaign.id, shards, o.drain_timeout)
        log(f"streams drained in {loop.time() - t_end:.1f} s" if left == 0 else f"{left} votes NOT drained")
        rec = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "voting_service", "reconcile", "--campaign", str(campaign.id),
                             "--wait", "30"], env=self.env(), capture_output=True, text=True, timeout=120)
        log(f"reconcile (exit {rec.returncode}): {rec.stdout.strip()[-400:]} {rec.stderr.strip()[-400:]}")
        rows = await pool.fetch("SELECT vote_id, voter, candidate_id FROM votes WHERE campaign_id = $1", campaign.id)
        self.show_unhandled(service)
        for p in (self.flusher, service):  # the single-Redis stack is done: its CPU to the cluster phases
            if p is not None:
                await asyncio.to_thread(p.stop)
        phases: dict[str, dict[str, Any]] = {}
        for name, wait in zip(CLUSTER_FAULTS, (1, 0)):
            if "cluster_failover" in o.skip or name in o.skip:
                log(f"{name}: skipped (--skip)")
                continue
            # Each campaign its own ballot (and candidates); phone numbers past the single-Redis phase's.
            phases[name] = await self.cluster_phase(pool, voters, token_key, pseudonym_key, name, wait)
        report = self.report(self.ledger, rows, rec.returncode == 0, left, t_end - t_load, phases, whole=True)
        report["machine_busy_pct"] = self.busy_pct()  # over the whole run, cluster phases included
        return report

    async def cluster_phase(self, pool: Any, prev: Voters, token_key: bytes, pseudonym_key: bytes, name: str,
                            wait_replicas: int) -> dict[str, Any]:
        """The same stack on a fresh Redis Cluster (same Postgres), the same steady load, one primary killed."""
        o = self.o
        loop = asyncio.get_running_loop()
        t_phase = loop.time()
        cluster = LocalCluster(primaries=3, replicas=o.cluster_replicas)
        await asyncio.to_thread(cluster.start)
        ledger = Ledger()
        procs: list[Process] = []
        saved_env, saved_flusher = self._env, self.flusher
        try:
            url = cluster.url()
            self._env = {**saved_env, **{store_access.redis_var(s): url for s in store_access.SERVICES},
                         "REDIS_WAIT_REPLICAS": str(wait_replicas), "REDIS_WAIT_TIMEOUT_MS": "100",
                         "FLUSHER_CONSUMER": f"chaos-{name}"}
            log(f"{name}: cluster of 3 primaries x {o.cluster_replicas} replicas up ({url}), "
                f"REDIS_WAIT_REPLICAS={wait_replicas}")
            async with create_redis(url, timeout_s=5.0) as r:
                campaign = await publish_campaign(pool, r, candidates=20, k=3, shards=o.shards, voter_buckets=64)
            port = free_port()
            service = Process(f"voting-{name}", [sys.executable, "-m", "voting_service", "serve", "--host",
                                                  "127.0.0.1", "--port", str(port), "--workers", str(o.workers)],
                              self.env(), self.workdir / f"voting-{name}.log", port=port).start()
            procs.append(service)
            self.procs.append(service)
            base = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(wait_ready, service, f"{base}/health/ready")
            self.flusher = Process(f"flusher-{name}", [sys.executable, "-m", "voting_service", "flusher"],
                                   self.env(), self.workdir / f"flusher-{name}.log").start()
            procs.append(self.flusher)
            self.procs.append(self.flusher)
            voters = Voters(token_key, pseudonym_key, campaign.candidate_ids, campaign.k, first=prev.used)
            load = Load(base, campaign.id, voters, ledger, rate=o.rate, concurrency=o.concurrency)
            self._cluster = (cluster, campaign.id)
            t_load = loop.time()
            load.start()
            try:
                await asyncio.sleep(o.settle)
                await self.fault(name, self.fault_cluster_failover, ledger)
            finally:
                await load.stop()
            t_end = loop.time()
            async with create_redis(url, timeout_s=5.0) as fresh:
                left = await drain.wait_drained(fresh, campaign.id, list(range(campaign.shards)), o.drain_timeout)
            rec = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "voting_service", "reconcile", "--campaign",
                                 str(campaign.id), "--wait", "30"],
                env=self.env(), capture_output=True, text=True, timeout=120)
            log(f"{name}: reconcile (exit {rec.returncode}): {rec.stdout.strip()[-400:]} {rec.stderr.strip()[-400:]}")
            rows = await pool.fetch("SELECT vote_id, voter, candidate_id FROM votes WHERE campaign_id = $1",
                                    campaign.id)
            self.show_unhandled(service)
            out = self.report(ledger, rows, rec.returncode == 0, left, t_end - t_load, {})
            out["phase_s"] = round(loop.time() - t_phase, 1)
            out["replicas_per_primary"] = o.cluster_replicas
            out["wait_replicas"] = wait_replicas
            out["unavailable_s"] = self.refusal_window(ledger)
            log(f"{name}: {out['acknowledged']} acknowledged, {out['lost']} lost, {out['duplicated']} duplicated, "
                f"votes refused for {out['unavailable_s']} s, phase {out['phase_s']} s")
            return out
        finally:
            for p in reversed(procs):
                await asyncio.to_thread(p.stop)
            self._env, self.flusher = saved_env, saved_flusher
            await asyncio.to_thread(cluster.stop)

    @staticmethod
    def refusal_window(ledger: Ledger) -> float:
        """First to last vote refused (503, other 5xx or no answer) from the fault's start on."""
        if not ledger.faults:
            return 0.0
        t0 = ledger.faults[0].t0
        bad = [a for a in ledger.answers if a.kind == "vote" and a.t1 >= t0 and (a.status == 0 or a.status >= 500)]
        return round(max(a.t1 for a in bad) - min(a.t0 for a in bad), 3) if bad else 0.0

    def show_unhandled(self, service: Process) -> None:
        """A 500 is a bug whatever the fault: its traceback from the service's log, to stderr."""
        text = service.logfile.read_text(errors="replace") if service.logfile.exists() else ""
        at = text.find("unhandled error")
        if at >= 0:
            log("the voting service answered 500; its log says:\n" + text[max(0, at - 200):at + 4000])

    def report(self, led: Ledger, rows: list[Any], reconcile_ok: bool, undrained: int, load_s: float,
               phases: dict[str, dict[str, Any]], *, whole: bool = False) -> dict[str, Any]:
        """One phase's counts (``whole``: the run's, with the cluster phases' ``phases`` folded in)."""
        stored = Counter(row["vote_id"] for row in rows)
        pairs = Counter((row["voter"], row["candidate_id"]) for row in rows)
        acknowledged = set(led.receipts)
        lost = len(acknowledged - set(stored))
        duplicated = sum(n - 1 for n in stored.values()) + sum(n - 1 for n in pairs.values())
        store_faults = [f for f in led.faults if f.name != "flusher_kill9"]
        during = [a for a in led.answers if any(f.overlaps(a) for f in store_faults)]
        max_unavailable = max((a.t1 - a.t0 for a in during), default=0.0)
        # The same measure with every store up: what the machine itself (a shared or busy box) adds to any answer.
        calm = [a.t1 - a.t0 for a in led.answers if not any(f.overlaps(a) for f in store_faults)]
        calm.sort()
        faults = []
        for f in led.faults:
            seen = [a for a in led.answers if f.overlaps(a)]
            faults.append({
                "name": f.name, "at_s": round(f.t0 - led.answers[0].t0, 1) if led.answers else 0.0,
                "duration_s": round(f.t1 - f.t0, 1), "note": f.note or None,
                "max_response_s": round(max((a.t1 - a.t0 for a in seen), default=0.0), 3),
                "max_vote_s": round(max((a.t1 - a.t0 for a in seen if a.kind == "vote"), default=0.0), 3),
                "max_ready_s": round(max((a.t1 - a.t0 for a in seen if a.kind == "ready"), default=0.0), 3),
                "statuses": {str(k): v for k, v in sorted(Counter(a.status for a in seen).items())},
            })
        votes = [a for a in led.answers if a.kind == "vote"]
        out: dict[str, Any] = {
            "acknowledged": len(acknowledged), "lost": lost, "duplicated": duplicated, "reconcile_ok": reconcile_ok,
            "max_unavailable_response_s": round(max_unavailable, 3),
            "baseline_max_response_s": round(calm[-1], 3) if calm else None,
            "baseline_p99_response_s": round(calm[int(0.99 * (len(calm) - 1))], 3) if calm else None,
            "stored": len(rows), "recorded_unacknowledged": len(set(stored) - acknowledged), "undrained": undrained,
            "vote_requests": len(votes),
            "internal_errors": sum(1 for a in led.answers if a.status >= 500 and a.status != 503),
            "vote_statuses": {str(k): v for k, v in sorted(Counter(a.status for a in votes).items())},
            "load_s": round(load_s, 1), "faults": faults,
        }
        if not whole:
            return out
        out["flusher_starts"] = self.flusher_starts
        out["skipped"] = list(self.o.skip)
        fo = phases.get("cluster_failover")
        if fo is not None:  # with replica wait: it counts like every other fault
            for k in ("acknowledged", "lost", "duplicated", "stored", "recorded_unacknowledged", "undrained",
                      "vote_requests", "internal_errors"):
                out[k] += fo[k]
            out["reconcile_ok"] = out["reconcile_ok"] and fo["reconcile_ok"]
            out["max_unavailable_response_s"] = max(out["max_unavailable_response_s"], fo["max_unavailable_response_s"])
            out["failover_unavailable_s"] = fo["unavailable_s"]
            out["faults"] += fo["faults"]
            out["failover"] = {k: v for k, v in fo.items() if k != "faults"}
        nw = phases.get("cluster_failover_no_wait")
        if nw is not None:  # without replica wait: reported apart, never in lost / duplicated / reconcile_ok
            out["failover_no_wait_lost"] = nw["lost"]
            out["failover_no_wait_unavailable_s"] = nw["unavailable_s"]
            out["internal_errors"] += nw["internal_errors"]
            out["faults"] += nw["faults"]
            out["failover_no_wait"] = {k: v for k, v in nw.items() if k != "faults"}
        return out

    def busy_pct(self) -> float | None:
        """How busy the whole machine was during the run (all processes, /proc/stat): above ~80 % the latency
        figures say more about the machine than about the service."""
        if self._busy0 is None:
            return None
        busy, total, _ = (b - a for a, b in zip(self._busy0, cpu_busy()))
        return round(100 * busy / total, 1) if total else None

    def close(self, failed: bool) -> None:
        for p in reversed(self.procs):
            if failed:
                log(f"--- last lines of {p.name} log ---\n{p.tail()}")
            p.stop()
        self.redis_server.kill()
        with contextlib.suppress(Exception):
            self.pg.stop("immediate")
        if self.o.keep is not None:
            self.o.keep.mkdir(parents=True, exist_ok=True)
            for f in self.workdir.glob("*.log"):
                shutil.copy(f, self.o.keep / f.name)
        shutil.rmtree(self.workdir, ignore_errors=True)


def targets_met(report: dict[str, Any]) -> bool:
    return (report["acknowledged"] > 0 and report["lost"] == 0 and report["duplicated"] == 0 and report["reconcile_ok"]
            and report["max_unavailable_response_s"] <= TARGET_UNAVAILABLE_S)


async def amain(opts: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    chaos = Chaos(opts)
    failed = True
    try:
        report = await chaos.run()
        failed = False
        return report
    except asyncio.CancelledError:
        failed = False
        raise
    finally:
        await asyncio.to_thread(chaos.close, failed)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    started = time.monotonic()
    try:
        report = asyncio.run(amain(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; everything stopped")
        return 130
    report["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0 if targets_met(report) else 1


if __name__ == "__main__":
    sys.exit(main())
