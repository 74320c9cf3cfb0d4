"""The throughput benchmark: ``python -m loadtests.bench [--duration 20] [--connections 96] ...``.

Four phases, each served the way production serves the voting service (granian, ``--workers``, uvloop,
the same flags); the three vote phases are driven by the same wrk script and request mix:

1. ``ceiling``: a Litestar endpoint that decodes the vote body and answers, no I/O (baselines/ceiling_app.py);
2. ``vote``: the voting service (``python -m voting_service serve``) plus the flusher, on a fresh database
   and a dedicated Redis database, with a published campaign; after the load it waits for the flusher to
   drain the streams and runs ``python -m voting_service reconcile``;
3. ``page``: the portal's ballot page of the same campaign (``/campaigns/{slug}``: the first page, 50 of its 200
   candidates: invented people from devtools.demo with names, regions, fields and summaries) fetched
   by anonymous phone browsers (wrk/page.lua: Accept-Encoding with gzip, no cookie), from a fresh start of the
   voting service;
4. ``naive``: each vote written to Postgres inside the request (baselines/naive_app.py);
5. ``signin``: the sign-in path (wrk/signin.lua: a code request, then a code check, per phone; every phone new,
   clients spread over ``--networks`` x 8 /24s) against the ceiling app's sign-in routes (``signin_ceiling_*``)
   and the voting service (``signin_*``) with an SMS gateway stand-in (loadtests/sms_sink.py) and the national SMS
   budget raised out of the way (the phase measures the path's cost, not the budget); ``signin_ratio_vs_ceiling``.

Progress goes to stderr; the last stdout line is one JSON object with the figures (see docs/performance.md).
Everything it starts is stopped and its database dropped, also on Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devtools.demo import generate_candidates
from devtools.rediscluster import LocalCluster
from loadtests import loadgen, stack
from loadtests.baselines import naive_app
from loadtests.stack import Process, log
from loadtests.votedata import client_address, write_vote_file
from shared.infra import create_pool, create_redis
from shared.votestore import drain, keys
from shared.votestore.tally import tallies

PROBE_VOTER, WARM_VOTER, NAIVE_WARM_VOTER = 900_000_000, 800_000_000, 700_000_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load per phase (default 20)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load before each phase")
    p.add_argument("--connections", type=int, default=96, help="wrk connections (default 96)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: wrk shares the CPUs)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("VOTING_WORKERS", "2")),
                   help="granian workers for every server (default VOTING_WORKERS or 2)")
    p.add_argument("--interface", choices=("rsgi", "asgi"), default="rsgi",
                   help="granian interface for all three servers (default rsgi, as production; asgi to compare)")
    p.add_argument("--timeout", type=float, default=5.0, help="wrk request timeout, s (a timeout is an error)")
    p.add_argument("--candidates", type=int, default=200)
    p.add_argument("--k", type=int, default=3, help="votes per voter")
    p.add_argument("--shards", type=int, default=16,
                   help="campaign shards (default 16, the production recommendation of docs/capacity.md)")
    p.add_argument("--voter-buckets", type=int, default=0,
                   help="per shard; 0 (default): ~150 voters per bucket, the density production plans for")
    p.add_argument("--rate-limits", choices=("on", "off"), default="on",
                   help="on (default): the production limits per voter, address and network; off to compare")
    p.add_argument("--networks", type=int, default=512,
                   help="client /24 networks the voters come from, sent in X-Forwarded-For by the trusted proxy "
                        "(default 512 networks x 32 addresses; 0: every request from the proxy's own address)")
    p.add_argument("--requests", type=int, default=0,
                   help="requests to mint for the vote phase (default: enough for the ceiling rate)")
    p.add_argument("--no-baselines", action="store_true", help="skip the ceiling and naive phases")
    p.add_argument("--no-pages", action="store_true", help="skip the page phase (the ballot page)")
    p.add_argument("--page-latency-connections", type=int, default=16,
                   help="after the page phase at --connections, the same page for half its duration with this many "
                        "connections: the latency of a site not driven past saturation (0: skip; default 16)")
    p.add_argument("--no-signin", action="store_true", help="skip the sign-in phase (code request + check)")
    p.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "12")))
    p.add_argument("--redis-cluster", action="store_true",
                   help="run the services on a Redis Cluster started for the run on loopback ports "
                        "(devtools/rediscluster.py; REDIS_URL and --redis-db are then not used)")
    p.add_argument("--cluster-primaries", type=int, default=3, help="primaries of --redis-cluster (default 3)")
    p.add_argument("--cluster-replicas", type=int, default=1,
                   help="replicas per primary of --redis-cluster (default 1; 0: primaries only)")
    p.add_argument("--drain-timeout", type=float, default=120.0)
    p.add_argument("--profile", type=Path, default=None,
                   help="py-spy one worker of each phase into <stem>-<phase><suffix> (.svg flamegraph, "
                        ".json speedscope, else folded stacks for loadtests.profile_summary)")
    p.add_argument("--keep", type=Path, default=None, help="copy logs and data files here at the end")
    return p.parse_args(argv)


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.o = opts
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        self.procs: list[Process] = []
        server = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
        self.db = stack.ScratchDatabase(server)
        self.credentials = stack.ServiceCredentials()
        self.cluster: LocalCluster | None = None
        if opts.redis_cluster:
            self.cluster = LocalCluster(primaries=opts.cluster_primaries, replicas=opts.cluster_replicas).start()
            self.redis_url = self.cluster.url()
            log(f"Redis Cluster: {opts.cluster_primaries} primaries x {opts.cluster_replicas} replicas, "
                f"{self.redis_url}")
        else:
            self.redis_url = stack.with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
                                             f"/{opts.redis_db}")
        self.redis = create_redis(self.redis_url, timeout_s=10)
        self.report: dict[str, Any] = {}

    # --- plumbing -------------------------------------------------------------------------------------

    def service_env(self, db_url: str, service_urls: dict[str, str], token_key: bytes,
                    pseudonym_key: bytes) -> dict[str, str]:
        """The services' environment: production mode, each service its own credentials, fresh keys; wrk is the
        load balancer in front (its address the trusted proxy, X-Forwarded-For the client)."""
        return {
            **stack.production_env(database_url=db_url, redis_url=self.redis_url, service_urls=service_urls,
                                   token_key=token_key, pseudonym_key=pseudonym_key),
            "FLUSHER_METRICS_PORT": str(stack.free_port()), "FLUSHER_METRICS_HOST": "127.0.0.1",
            "FLUSHER_CONSUMER": "bench-flusher",
        }

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("VOTE_LIMIT_", "PROMETHEUS_MULTIPROC"))}
        return {**base, **self._env, **extra}

    def start(self, name: str, cmd: list[str], env: dict[str, str], port: int | None = None) -> Process:
        p = Process(name, cmd, env, self.workdir / f"{name}.log", port=port).start()
        self.procs.append(p)
        return p

    def serve(self, name: str, target: str | None) -> Process:
        """``target`` None: the voting service by its own entry point; else a granian app factory."""
        port = stack.free_port()
        if target is None:
            cmd = [sys.executable, "-m", "voting_service", "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(self.o.workers)]
            metrics_dir = self.workdir / "prometheus"
            metrics_dir.mkdir(exist_ok=True)
            env = self.env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), VOTING_INTERFACE=self.o.interface)
        else:
            cmd = stack.granian_command(target, port=port, workers=self.o.workers, interface=self.o.interface)
            env = self.env()
        p = self.start(name, cmd, env, port)
        stack.wait_ready(p, f"http://127.0.0.1:{port}/health/ready")
        log(f"{name}: granian pid {p.pid}, workers {p.children()} on 127.0.0.1:{port}")
        return p

    def stop(self, p: Process) -> None:
        p.stop()
        self.procs.remove(p)

    def votes(self, data: Path, lua: Path = loadgen.VOTE_LUA) -> tuple[Path, list[str]]:
        """wrk's script replaying ``data`` (one request a line) against the campaign: vote.lua, receipts.lua."""
        return loadgen.replay_script(lua, data, self.campaign.id, self.o.threads)

    async def load(self, p: Process, script: tuple[Path, list[str]], *, duration: float, label: str,
                   sampler: Any = None, connections: int | None = None,
                   extra_cpu: dict[str, list[int]] | None = None) -> tuple[loadgen.WrkResult, dict[str, float]]:
        groups = {"workers": p.children(), "granian_main": [p.pid], **(extra_cpu or {})}
        spy = None if label.endswith("warmup") else self._start_profile(p, label)
        before, busy0 = stack.cpu_snapshot(groups), stack.cpu_busy()
        try:
            res = await loadgen.run_wrk(url=f"http://127.0.0.1:{p.port}", script=script, duration_s=duration,
                                        connections=connections or self.o.connections, threads=self.o.threads,
                                        timeout_s=self.o.timeout, log_path=self.workdir / f"wrk-{label}.log",
                                        while_running=sampler)
        finally:
            self._finish_profile(spy)
        cpu = stack.cpu_delta(before, stack.cpu_snapshot(groups))
        cpu["wrk"] = res.cpu_s
        busy, total, steal = (b - a for a, b in zip(busy0, stack.cpu_busy()))
        cpu["machine_busy_pct"] = round(100 * busy / total, 1) if total else 0.0
        cpu["steal_pct"] = round(100 * steal / total, 1) if total else 0.0
        # CPU the machine spent on anything not listed (another job on the box skews the figures).
        cpu["other"] = round(max(0.0, busy / stack.TICK - sum(cpu[g] for g in (*groups, "wrk"))), 2)
        # CPU per answered request, by process group: steadier than rates on a shared or noisy machine.
        n = (res.ok if label.startswith("page") else signin_answered(res) if label.startswith("signin")
             else res.answered) or 1
        cpu["us_per_request"] = {g: round(1e6 * cpu[g] / n) for g in (*groups, "wrk") if g != "granian_main"}
        if label.startswith("page"):
            log(f"{label}: {res.per_s(res.ok)}/s 2xx, p50 {res.latency_ms('p50')} ms, p99 {res.latency_ms('p99')} "
                f"ms, statuses {res.statuses}, encodings {res.raw.get('encodings')}, errors {res.page_errors}, "
                f"cpu {cpu}")
        elif label.startswith("signin"):
            log(f"{label}: {res.per_s(signin_answered(res))}/s answered (202 code sent, 401 code checked), "
                f"p50 {res.latency_ms('p50')} ms, p99 {res.latency_ms('p99')} ms, statuses {res.statuses}, "
                f"errors {signin_errors(res)}, cpu {cpu}")
        else:
            log(f"{label}: {res.per_s(res.answered)}/s answered, {res.per_s(res.accepted)}/s accepted, "
                f"p50 {res.latency_ms('p50')} ms, p99 {res.latency_ms('p99')} ms, statuses {res.statuses}, "
                f"errors {res.errors}, cpu {cpu}")
        return res, cpu

    async def warm(self, p: Process, script: tuple[Path, list[str]], label: str) -> loadgen.WrkResult | None:
        if self.o.warmup <= 0:
            return None
        res, _ = await self.load(p, script, duration=self.o.warmup, label=f"{label}-warmup")
        return res

    def mint(self, name: str, requests: int, first_voter: int) -> Path:
        started = time.perf_counter()
        vf = write_vote_file(self.workdir / f"{name}.txt", requests=requests, candidates=self.campaign.candidate_ids,
                             k=self.campaign.k, token_key=self._keys["token"], pseudonym_key=self._keys["pseudonym"],
                             ttl_s=24 * 3600, seed=first_voter + requests, first_voter=first_voter,
                             networks=self.o.networks)
        log(f"minted {name}: {vf.requests} requests ({vf.new_votes} new, {vf.repeats} repeats) "
            f"from {vf.voters} voters in {time.perf_counter() - started:.1f} s")
        return vf.path

    # --- the run ----------------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        o = self.o
        loadgen.wrk_binary()
        token_key, pseudonym_key = secrets.token_bytes(32), secrets.token_bytes(32)
        self._keys = {"token": token_key, "pseudonym": pseudonym_key}
        await self.redis.flushdb()
        db_url = await self.db.create()
        log(f"database {self.db.name} migrated; Redis {self.redis_url} flushed")
        service_urls = await self.credentials.create(db_url, self.redis_url)  # each service its own role and user
        self._env = self.service_env(db_url, service_urls, token_key, pseudonym_key)
        if o.rate_limits == "off":
            self._env.update(VOTE_LIMIT_VOTER="0", VOTE_LIMIT_IP="0", VOTE_LIMIT_NET="0")
        log(f"rate limits {o.rate_limits.upper()} (production defaults unless off), {o.shards} shards, clients from "
            f"{o.networks} /24 networks x 32 addresses via X-Forwarded-For" if o.networks else
            f"rate limits {o.rate_limits.upper()}, {o.shards} shards, every request from 127.0.0.1")
        r = self.report
        busy0 = stack.cpu_busy()
        await asyncio.sleep(1.0)
        busy, total, _ = (b - a for a, b in zip(busy0, stack.cpu_busy()))
        r["busy_before_pct"] = round(100 * busy / total, 1) if total else 0.0
        if r["busy_before_pct"] > 15:
            log(f"WARNING: the machine was {r['busy_before_pct']} % busy before the run; figures will be low")
        r.update(duration_s=o.duration, warmup_s=o.warmup, connections=o.connections, threads=o.threads,
                 workers=o.workers, candidates=o.candidates, k=o.k, shards=o.shards, rate_limits=o.rate_limits,
                 client_networks=o.networks)
        pool = await create_pool(db_url, min_size=1, max_size=2)
        try:
            await self._run(pool)
        finally:
            await pool.close()
        return r

    async def _run(self, pool: Any) -> None:
        o, r = self.o, self.report
        # The ceiling needs no campaign; its figure sizes the vote file (the service cannot beat it).
        self.campaign = stack.Campaign(1, list(range(1, o.candidates + 1)), o.k, o.shards, 1)
        ceiling = None
        if not o.no_baselines:
            probe = self.mint("probe", 20_000, PROBE_VOTER)
            p = self.serve("ceiling", "loadtests.baselines.ceiling_app")
            await self.warm(p, self.votes(probe), "ceiling")
            ceiling, cpu = await self.load(p, self.votes(probe), duration=o.duration, label="ceiling")
            if not o.no_signin:  # the sign-in routes of the same ceiling process
                lines = int(ceiling.per_s(ceiling.answered) * (o.duration + o.warmup) * 0.6) + 1_000
                signin = self.signin_file("signin-ceiling", lines, 0)
                await self.warm(p, self.signin_script(signin), "signin-ceiling")
                res, scpu = await self.load(p, self.signin_script(signin), duration=o.duration, label="signin-ceiling")
                r.update(signin_ceiling_rps=res.per_s(signin_answered(res)),
                         signin_ceiling_p50_ms=res.latency_ms("p50"), signin_ceiling_p99_ms=res.latency_ms("p99"),
                         signin_ceiling_errors=signin_errors(res), signin_ceiling_cpu_s=scpu)
            self.stop(p)
            r.update(ceiling_rps=ceiling.per_s(ceiling.count(lambda s: 200 <= s < 300)),
                     ceiling_p50_ms=ceiling.latency_ms("p50"), ceiling_p99_ms=ceiling.latency_ms("p99"),
                     ceiling_errors=ceiling.errors, ceiling_cpu_s=cpu)
        rate = r.get("ceiling_rps") or 25_000
        requests = o.requests or min(5_000_000, int(rate * o.duration * 1.15) + 5_000)
        warm_requests = int(rate * o.warmup * 1.15) + 1_000 if o.warmup > 0 else 0
        # ~0.45 voters per request (k = 3 and the repeats), ~150 per bucket, a voter's bucket chosen per shard.
        buckets = o.voter_buckets or max(16, int((requests + warm_requests) * 0.45 / 150 / o.shards))
        # Invented people with names, summaries and stories (the page phase serves them; the votes never read them).
        cards = generate_candidates(o.candidates, seed=2026) if o.candidates >= MIN_CARDS else None
        self.campaign = await stack.publish_campaign(pool, self.redis, candidates=o.candidates, k=o.k,
                                                     shards=o.shards, voter_buckets=buckets, cards=cards)
        r.update(campaign_id=self.campaign.id, voter_buckets=buckets, requests_planned=requests)
        log(f"campaign {self.campaign.id} published: {o.candidates} candidates, k={o.k}, {buckets} voter buckets")
        warm = self.mint("warm", warm_requests, WARM_VOTER) if warm_requests else None
        main = self.mint("votes", requests, 0)
        await self._vote_phase(warm, main)
        if not o.no_pages:
            await self._page_phase(pool)
        if not o.no_baselines:
            await self._naive_phase(pool, main)
        if not o.no_signin:
            await self._signin_phase()
        v = r["votes_per_s"]
        r["ratio_vs_ceiling"] = round(v / r["ceiling_rps"], 3) if r.get("ceiling_rps") else None
        r["ratio_vs_naive"] = round(v / r["naive_votes_per_s"], 2) if r.get("naive_votes_per_s") else None
        if r.get("page_rps") is not None:
            r["page_ratio_vs_ceiling"] = round(r["page_rps"] / r["ceiling_rps"], 3) if r.get("ceiling_rps") else None
        if r.get("page_latency_rps") is not None:
            r["page_latency_ratio_vs_ceiling"] = (round(r["page_latency_rps"] / r["ceiling_rps"], 3)
                                                  if r.get("ceiling_rps") else None)
        if r.get("signin_rps") is not None:
            r["signin_ratio_vs_ceiling"] = (round(r["signin_rps"] / r["signin_ceiling_rps"], 3)
                                            if r.get("signin_ceiling_rps") else None)

    def signin_file(self, name: str, lines: int, first: int) -> Path:
        """``<phone> <address>`` lines, phones ``first``.. (distinct: no resend throttle; spread over the blocks of
        100 numbers, so no block looks walked), clients over
        ``--networks`` x 8 /24s (a national sign-in comes from many more networks than one bench's votes)."""
        path = self.workdir / f"{name}.txt"
        nets = max(1, self.o.networks * 8)
        with open(path, "w") as f:
            for i in range(first, first + lines):
                f.write(f"{stack.spread_phone(i)} {client_address(i, nets)}\n")
        return path

    def signin_script(self, data: Path) -> tuple[Path, list[str]]:
        return loadgen.SIGNIN_LUA, [str(data), "0", str(self.o.threads)]

    async def _signin_phase(self) -> None:
        """The code request and the code check (wrk/signin.lua) against the voting service as production runs
        it, its SMS gateway a local stand-in (loadtests/sms_sink.py)."""
        o, r = self.o, self.report
        sink_port = stack.free_port()
        sink = self.start("sms-sink", [sys.executable, "-m", "loadtests.sms_sink", "--port", str(sink_port)],
                          self.env())
        await asyncio.sleep(0.5)
        self._env.update(SMS_GATEWAY_URL=f"http://127.0.0.1:{sink_port}/sms", SMS_BUDGET_PER_MINUTE="100000000")
        try:
            service = self.serve("signin", None)
        finally:
            self._env.update(SMS_GATEWAY_URL="http://127.0.0.1:9/unused")
            self._env.pop("SMS_BUDGET_PER_MINUTE", None)
        rate = r.get("signin_ceiling_rps") or 10_000
        warm = self.signin_file("signin-warm", int(rate * o.warmup * 0.6) + 500, 5_000_000) if o.warmup > 0 else None
        main = self.signin_file("signin", int(rate * o.duration * 0.6) + 1_000, 0)
        if warm is not None:
            await self.warm(service, self.signin_script(warm), "signin")
        redis_pid = int((await self.redis.info("server"))["process_id"])
        res, cpu = await self.load(service, self.signin_script(main), duration=o.duration, label="signin",
                                   extra_cpu={"redis": [redis_pid], "sms_sink": [sink.pid]})
        self.stop(service)
        self.stop(sink)
        r.update(signin_rps=res.per_s(signin_answered(res)), signin_p50_ms=res.latency_ms("p50"),
                 signin_p90_ms=res.latency_ms("p90"), signin_p99_ms=res.latency_ms("p99"),
                 signin_errors=signin_errors(res), signin_statuses={str(k): v for k, v in sorted(res.statuses.items())},
                 signin_wrapped=res.raw["wrapped"], signin_cpu_s=cpu)

    async def _vote_phase(self, warm: Path | None, main: Path) -> None:
        o, r = self.o, self.report
        shards = list(range(o.shards))
        mem_before = await self._used_memory()
        # Voter hashes stay compact listpacks only up to this many voters per bucket (shared/votestore/keys.py).
        r["redis_hash_max_listpack_entries"] = int(
            (await self._config_get("hash-max-listpack-entries")).get("hash-max-listpack-entries", 0))
        flusher = self.start("flusher", [sys.executable, "-m", "voting_service", "flusher"], self.env())
        service = self.serve("voting", None)
        warm_res = await self.warm(service, self.votes(warm), "vote") if warm else None
        backlog = {"max": 0, "next": 0.0}

        async def sample() -> None:
            if time.monotonic() >= backlog["next"]:
                backlog["max"] = max(backlog["max"], await self._backlog(shards))
                backlog["next"] = time.monotonic() + 1.0

        if self.cluster is not None:  # every node's CPU: primaries and the replicas they feed
            redis_pids = [n.proc.pid for n in self.cluster.nodes if n.proc is not None and n.alive]
            r["redis_cluster"] = {"primaries": o.cluster_primaries, "replicas_per_primary": o.cluster_replicas}
        else:
            redis_pids = [int((await self.redis.info("server"))["process_id"])]
        res, cpu = await self.load(service, self.votes(main), duration=o.duration, label="vote", sampler=sample,
                                   extra_cpu={"flusher": [flusher.pid], "redis": redis_pids,
                                              "postgres": stack.pids_named("postgres")})
        ended = time.monotonic()
        at_end = await self._backlog(shards)
        gauges = await self._flusher_gauges()
        lag = None
        while time.monotonic() - ended < o.drain_timeout:
            if await self._backlog(shards) == 0:
                lag = round(time.monotonic() - ended, 2)
                break
            await asyncio.sleep(0.05)
        log(f"flusher: backlog {at_end} at end of load (max {backlog['max']}), drained after {lag} s; {gauges}")
        rec = subprocess.run([sys.executable, "-m", "voting_service", "reconcile", "--campaign",
                              str(self.campaign.id), "--wait", "30"], env=self.env(), capture_output=True, text=True)
        log(f"reconcile (exit {rec.returncode}): {rec.stdout.strip()} {rec.stderr.strip()[-500:]}")
        self.stop(service)
        self.stop(flusher)
        tally = sum((await tallies(self.redis, self.campaign.id, o.shards)).values())
        accepted = res.accepted + (warm_res.accepted if warm_res else 0)
        voters = await self._voters_in_redis()
        mem_after = await self._used_memory()
        if res.raw["wrapped"]:
            log(f"WARNING: wrk ran out of planned votes ({res.raw['wrapped']} wraps); raise --requests")
        r.update(
            votes_per_s=res.per_s(res.answered), accepted_per_s=res.per_s(res.accepted),
            p50_ms=res.latency_ms("p50"), p90_ms=res.latency_ms("p90"), p99_ms=res.latency_ms("p99"),
            p999_ms=res.latency_ms("p999"), max_ms=res.latency_ms("max"), errors=res.errors,
            statuses={str(k): v for k, v in sorted(res.statuses.items())}, socket_errors=res.raw["errors"],
            measured_s=round(res.duration_s, 2), wrapped=res.raw["wrapped"], cpu_s=cpu,
            flusher_lag_s=lag, flusher_backlog_at_end=at_end, flusher_max_backlog=max(backlog["max"], at_end),
            flusher_lag_gauge_s=gauges.get("flusher_lag_seconds"), flusher_avg_batch=gauges.get("avg_batch_votes"),
            flusher_avg_batch_ms=gauges.get("avg_batch_ms"),
            reconcile_clean=rec.returncode == 0, reconcile=rec.stdout.strip(),
            # wrk stops without reading the answers in flight: up to `connections` votes per wrk run are
            # accepted (and counted in Redis) without a 201 being seen. More than that, or fewer, is a bug.
            accepted_total=accepted, tally_total=tally, unseen_accepts=tally - accepted,
            accepted_match_tally=0 <= tally - accepted <= o.connections * (2 if warm_res else 1),
            voters_in_redis=voters,
            redis_bytes_per_voter=round((mem_after - mem_before) / voters, 1) if voters else None,
        )

    async def _page_phase(self, pool: Any) -> None:
        """The ballot page of the vote phase's campaign, from a fresh start of the service (its page cache
        empty: the warm-up fills it, as the first visitors after a deploy would)."""
        o, r = self.o, self.report
        async with pool.acquire() as conn:
            slug = await conn.fetchval("SELECT slug FROM campaigns WHERE id = $1", self.campaign.id)
        path = f"/campaigns/{slug}"
        service = self.serve("pages", None)
        r["page_path"] = path
        r.update(await page_check(f"http://127.0.0.1:{service.port}{path}", path))
        log(f"page {path}: {r['page_check']}")
        script = loadgen.page_script(path)
        await self.warm(service, script, "page")
        res, cpu = await self.load(service, script, duration=o.duration, label="page")
        r.update(page_rps=res.per_s(res.ok), page_p50_ms=res.latency_ms("p50"), page_p90_ms=res.latency_ms("p90"),
                 page_p99_ms=res.latency_ms("p99"), page_max_ms=res.latency_ms("max"), page_errors=res.page_errors,
                 page_statuses={str(k): v for k, v in sorted(res.statuses.items())},
                 page_encodings=res.raw.get("encodings", {}), page_socket_errors=res.raw["errors"], page_cpu_s=cpu,
                 page_bytes_per_response=round(res.raw["bytes"] / res.raw["requests"]) if res.raw["requests"] else None)
        if o.page_latency_connections > 0:
            # The same page, the same service, fewer connections in flight: a closed loop of 96 connections on 2
            # cores queues every request behind ~48 others per worker (the ceiling's own p99 is 40 - 80 ms), so
            # this is the latency a visitor sees while the site still serves a multiple of the ceiling.
            res, cpu = await self.load(service, script, duration=max(1.0, o.duration / 2), label="page-latency",
                                       connections=o.page_latency_connections)
            r.update(page_latency_connections=o.page_latency_connections, page_latency_rps=res.per_s(res.ok),
                     page_latency_p50_ms=res.latency_ms("p50"), page_latency_p99_ms=res.latency_ms("p99"),
                     page_latency_errors=res.page_errors, page_latency_cpu_s=cpu)
        self.stop(service)

    async def _naive_phase(self, pool: Any, main: Path) -> None:
        o, r = self.o, self.report
        async with pool.acquire() as conn:
            await conn.execute(naive_app.SCHEMA)
            await conn.executemany(naive_app.SEED_TALLY, [(self.campaign.id, c) for c in self.campaign.candidate_ids])
        p = self.serve("naive", "loadtests.baselines.naive_app")
        if o.warmup > 0:
            warm = self.mint("naive-warm", int(r["votes_per_s"] * o.warmup) + 1_000, NAIVE_WARM_VOTER)
            await self.warm(p, self.votes(warm), "naive")
        res, cpu = await self.load(p, self.votes(main), duration=o.duration, label="naive",
                                   extra_cpu={"postgres": stack.pids_named("postgres")})
        self.stop(p)
        async with pool.acquire() as conn:
            rows = await conn.fetchval("SELECT count(*) FROM naive_votes WHERE campaign_id = $1", self.campaign.id)
        r.update(naive_votes_per_s=res.per_s(res.answered), naive_accepted_per_s=res.per_s(res.accepted),
                 naive_p50_ms=res.latency_ms("p50"), naive_p99_ms=res.latency_ms("p99"), naive_errors=res.errors,
                 naive_statuses={str(k): v for k, v in sorted(res.statuses.items())}, naive_cpu_s=cpu,
                 naive_rows=rows)

    # --- measurements -----------------------------------------------------------------------------------

    async def _backlog(self, shards: list[int]) -> int:
        return await drain.undrained(self.redis, self.campaign.id, shards)

    async def _config_get(self, name: str) -> dict[str, str]:
        if self.cluster is not None:
            await self.redis.initialize()
            return await self.cluster_node(self.redis.get_primaries()[0]).config_get(name)
        return await self.redis.config_get(name)

    async def _used_memory(self) -> int:
        if self.cluster is not None:  # the primaries' (replicas hold copies)
            await self.redis.initialize()
            total = 0
            for n in self.redis.get_primaries():
                total += int((await self.cluster_node(n).info("memory"))["used_memory"])
            return total
        return int((await self.redis.info("memory"))["used_memory"])

    def cluster_node(self, node: Any) -> Any:
        return self.redis.node_client(node.host, node.port)

    async def _voters_in_redis(self) -> int:
        total = 0
        for s in range(self.o.shards):
            names = [k async for k in self.redis.scan_iter(match=keys.ShardKeys.of(self.campaign.id, s).voters(0)[:-1]
                                                           + "*", count=1000)]
            pipe = self.redis.pipeline(transaction=False)
            for name in names:
                pipe.hlen(name)
            total += sum(await pipe.execute()) if names else 0
        return total

    async def _flusher_gauges(self) -> dict[str, float]:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                text = (await client.get(f"http://127.0.0.1:{self._env['FLUSHER_METRICS_PORT']}/metrics")).text
        except httpx.HTTPError:
            return {}
        wanted = ("flusher_lag_seconds", "flusher_pending_votes", "flusher_votes_flushed_total",
                  "flusher_batch_seconds_count", "flusher_batch_seconds_sum")
        g = {name: float(value) for name, _, value in (ln.partition(" ") for ln in text.splitlines())
             if name in wanted}
        if g.get("flusher_batch_seconds_count"):
            g["avg_batch_votes"] = round(g.get("flusher_votes_flushed_total", 0) / g["flusher_batch_seconds_count"], 1)
            g["avg_batch_ms"] = round(1000 * g.get("flusher_batch_seconds_sum", 0) / g["flusher_batch_seconds_count"], 2)
        return g

    def _start_profile(self, service: Process, label: str) -> subprocess.Popen[bytes] | None:
        """py-spy on one worker for the phase, into ``<profile stem>-<phase><suffix>``."""
        if self.o.profile is None:
            return None
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            log("py-spy not found (pip install py-spy); no profile")
            return None
        fmt = {".svg": "flamegraph", ".json": "speedscope"}.get(self.o.profile.suffix, "raw")
        out = self.o.profile.with_name(f"{self.o.profile.stem}-{label}{self.o.profile.suffix}")
        worker = service.children()[0]
        log(f"py-spy recording worker {worker} for {self.o.duration:g} s into {out}")
        with open(self.workdir / f"py-spy-{label}.log", "wb") as err:
            return subprocess.Popen([spy, "record", "--pid", str(worker), "--duration", str(int(self.o.duration)),
                                     "--rate", "200", "--nonblocking", "--format", fmt, "--output", str(out)],
                                    stdout=subprocess.DEVNULL, stderr=err)

    def _finish_profile(self, spy: subprocess.Popen[bytes] | None) -> None:
        if spy is not None:
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()

    async def close(self, failed: bool) -> None:
        for p in reversed(self.procs):
            if failed:
                log(f"--- last lines of {p.name} log ---\n{p.tail()}")
            p.stop()
        self.procs.clear()
        try:
            await self.redis.flushdb()
        finally:
            await self.redis.aclose()
            await self.credentials.drop()  # before the database it connects to
            await self.db.drop()
            if self.cluster is not None:
                self.cluster.stop()
            if self.o.keep is not None:
                shutil.copytree(self.workdir, self.o.keep, dirs_exist_ok=True)
                log(f"logs and data kept in {self.o.keep}")
            shutil.rmtree(self.workdir, ignore_errors=True)


# What a phone browser sends for a navigation (wrk/page.lua sends the same).
PAGE_HEADERS = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate, br, zstd", "Accept-Language": "kk-KZ,kk;q=0.9,ru;q=0.8",
                "User-Agent": stack.BROWSER_UA}
MIN_CARDS = 20  # devtools.demo.generate_candidates puts every region on the ballot: 20 people at least


async def page_check(url: str, path: str) -> dict[str, Any]:
    """One fetch before the load, so the figures say what was served: status, type, encoding, size on the
    wire and decoded, the candidates linked from the page (50: the ballot's first page), caching headers."""
    linked = re.compile(rf'href="{re.escape(path)}/candidates/(\d+)"')
    import httpx

    async with httpx.AsyncClient(timeout=10.0) as client:
        resp = await client.get(url, headers=PAGE_HEADERS)
        try:
            body: str | None = resp.text
        except httpx.DecodingError:  # an encoding this httpx cannot decode (br/zstd without their packages)
            body = None
    check = {"status": resp.status_code, "content_type": resp.headers.get("content-type"),
             "content_encoding": resp.headers.get("content-encoding", "identity"),
             "cache_control": resp.headers.get("cache-control"), "etag": resp.headers.get("etag") is not None,
             "vary": resp.headers.get("vary"), "bytes_on_wire": resp.num_bytes_downloaded,
             "bytes_decoded": len(body.encode()) if body is not None else None,
             "candidates_shown": len(set(linked.findall(body))) if body is not None else None}
    if resp.status_code != 200:
        log(f"WARNING: {url} answered {resp.status_code}; the page phase measures an error page")
    return {"page_check": check, "page_bytes_compressed": check["bytes_on_wire"],
            "page_candidates_shown": check["candidates_shown"]}


def signin_answered(res: loadgen.WrkResult) -> int:
    """Sign-in answers that mean the path did its job: 202 (code sent), 200 or 401 (code checked)."""
    return res.count(lambda st: st in (200, 202, 401))


def signin_errors(res: loadgen.WrkResult) -> int:
    e = res.raw["errors"]
    return (res.count(lambda st: st not in (200, 202, 401)) + e["connect"] + e["read"] + e["write"]
            + e["timeout"])


async def amain(opts: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    bench = Bench(opts)
    failed = True
    try:
        report = await bench.run()
        failed = False
        return report
    except asyncio.CancelledError:
        failed = False  # interrupted, not broken: no log tails
        raise
    finally:
        await bench.close(failed)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        report = asyncio.run(amain(opts))
    except loadgen.WrkMissing as exc:
        log(str(exc))
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; everything stopped and dropped")
        return 130
    report["machine"] = stack.machine()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    pages_ok = opts.no_pages or report.get("page_errors") == 0
    signin_ok = opts.no_signin or report.get("signin_errors") == 0
    return 0 if report.get("errors") == 0 and report.get("reconcile_clean") and pages_ok and signin_ok else 1


if __name__ == "__main__":
    sys.exit(main())
