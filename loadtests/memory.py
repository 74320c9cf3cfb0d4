"""Redis memory per voter at scale: ``python -m loadtests.memory --voters 1000000``.

Loads ``--voters`` voters x ``--votes`` votes through the REAL vote script with the KEYS/ARGV the service
sends, into a fresh Redis database (``--redis-db``, default 6, flushed at start and end) holding a campaign
published with the production SQL and Redis projection (on a scratch Postgres database, dropped at the end).

How the calls are made: for every vote, the vote store's ``vote_call`` (shared/votestore/vote.py) — the pure
function ``BallotBox.cast`` builds its call with — gives the KEYS and ARGV[1..6], and the service's
``limit_args(settings)`` the constant tail the batcher appends (ARGV[7..8]); so if the service changes its
call, this follows. The calls are then sent as ``EVALSHA`` in pipelines of ``--pipeline`` calls per round
trip, the next one sent before the answers of the last are read.

Measured (all from ``INFO memory`` ``used_memory``, the server-wide allocator figure):

1. ``with_stream``: right after loading, the accepted votes still sitting in the campaign's stream;
2. ``redis_bytes_per_voter`` (the figure): after the real flusher (``python -m voting_service flusher``,
   against the scratch database) has moved every vote into Postgres and trimmed the stream — the steady
   state of a campaign whose flusher keeps up. ``--drain trim`` trims the stream with XTRIM instead (no
   Postgres), ``--drain none`` stops after step 1.

``used_memory`` is server-wide: other clients of the same Redis server move it (noise at small N), so
``voter_buckets_bytes_per_voter`` (MEMORY USAGE summed over every voter bucket) is reported beside it.
Also reported: OBJECT ENCODING of a sample of voter buckets, their sizes (HLEN) and MEMORY USAGE,
``hash-max-listpack-entries`` / ``-value``, the Redis request size (``wire_bytes_per_call``), and with the
flusher: its drain rate, CPU per vote of flusher / Postgres / Redis, Postgres bytes per vote on disk (the
campaign's partition + indexes, after VACUUM) and WAL bytes per vote (server-wide).

Rate limits are OFF (limit 0 in ARGV, as in the benchmark): one loader sends everything, and the limit
counters are short-lived keys (TTL <= their window) that are not per-voter state. ``--rate-limits`` turns
them on (every voter from its own address), counts the counters and their bytes, then deletes them.
``--otp-phones N`` also signs N phones in through the real ``OtpService`` (no SMS stored: as production)
and reports the sign-in keys' bytes per phone and Redis CPU per sign-in. Progress goes to stderr; the last
stdout line is one JSON object. 1 M voters take ~5 min (``--drain trim``) to ~8 min (flusher) on the shared
2-vCPU development VM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import redis.exceptions
import redis.asyncio as aioredis

from loadtests import stack
from shared.crypto import b64u, pseudonym
from shared.infra import create_pool
from shared.settings import Settings
from shared.votestore import keys
from shared.votestore.receipts import new_nonce
from shared.votestore.script import Script
from shared.votestore.tally import sum_tallies, tally_keys
from shared.votestore.vote import VOTE_SCRIPT, Route, limit_args, vote_call


def log(msg: str) -> None:
    print(f"[memory {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--voters", type=int, default=1_000_000)
    p.add_argument("--votes", type=int, default=3, help="votes per voter = the campaign's k (default 3)")
    p.add_argument("--candidates", type=int, default=200)
    p.add_argument("--voter-buckets", type=int, default=0,
                   help="0 (default): voters/150, the density the default 65536 buckets reach at ~10 M voters")
    p.add_argument("--pipeline", type=int, default=5000,
                   help="EVALSHA calls per round trip (default 5000; two round trips in flight)")
    p.add_argument("--drain", choices=("flusher", "trim", "none"), default="flusher")
    p.add_argument("--drain-timeout", type=float, default=900.0)
    p.add_argument("--redis-db", type=int, default=int(os.environ.get("MEMORY_REDIS_DB", "6")))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--otp-phones", type=int, default=0,
                   help="also sign this many phones in through the real OtpService and measure the sign-in keys")
    p.add_argument("--rate-limits", action="store_true",
                   help="vote with the default rate limits ON (each voter from its own address) and measure the "
                        "limit counters (short-lived keys) before deleting them")
    return p.parse_args(argv)


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _client_of(phone: str) -> Any:
    """A client of its own per phone (the worst case: every code request from another address and /24)."""
    from shared.client_ip import Client

    h = b64u(hashlib.blake2b(phone.encode(), digest_size=9).digest())
    return Client(ip_hash=h, net=f"a:{h}", scope=f"a:{h}")


# --- the service's own call -----------------------------------------------------------------------------

class Calls:
    """The vote.lua calls of one chunk, built by the vote store's ``vote_call`` (what ``BallotBox.cast`` sends:
    same function, same KEYS and ARGV[1..6]) with the service's rate-limit tail (ARGV[7..8], ``limit_args``).
    The per-address and per-network counters (layers.lua) are per client, not per voter: not loaded here."""

    def __init__(self, route: Route, tail: tuple[int, ...]) -> None:
        self.route = route
        self.tail = tail
        self.calls: list[tuple[list[Any], list[Any]]] = []

    def add(self, *, voter: str, candidate_id: str, ip_hash: str, ip_net: str) -> None:
        _, keys_, args = vote_call(campaign_id=self.route.campaign_id, shards=self.route.shards,
                                   voter_buckets=self.route.voter_buckets, voter=voter, candidate_id=candidate_id,
                                   nonce=new_nonce(), ip_hash=ip_hash, ip_net=ip_net)
        self.calls.append((keys_, [*args, *self.tail]))

    def pack(self, conn: Any, sha: str) -> list[bytes]:
        """The calls as ``EVALSHA sha numkeys KEYS... ARGV...`` in RESP, as the service sends them."""
        return conn.pack_commands([("EVALSHA", sha, len(ks), *ks, *args) for ks, args in self.calls])


# --- the run --------------------------------------------------------------------------------------------

async def setup(o: argparse.Namespace, db: stack.ScratchDatabase, redis_url: str) -> tuple[stack.Campaign, str]:
    r = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await r.flushdb()
        db_url = await db.create()
        pool = await create_pool(db_url, min_size=1, max_size=2)
        try:
            buckets = o.voter_buckets or max(16, o.voters // 150)
            camp = await stack.publish_campaign(pool, r, candidates=o.candidates, k=o.votes, shards=1,
                                                voter_buckets=buckets)
        finally:
            await pool.close()
    finally:
        await r.aclose()
    return camp, db_url


class _NoSms:
    """The production SMS path stores nothing in Redis (an HTTP gateway); the outbox is development only."""

    async def send(self, *, phone: str, phone_pseudonym: str, text: str, code: str) -> None:
        return None

    async def close(self) -> None:
        return None


async def otp_memory(o: argparse.Namespace, redis_url: str, settings: Settings) -> dict[str, Any]:
    """Sign ``--otp-phones`` phones in through the real OtpService (each from its own address: the worst case
    for the per-IP counters) and measure the sign-in keys: after the code request (code pending) and after
    the verification (the code consumed; the resend throttle, hourly counters and IP counter stay for up to
    an hour). Worst case: every phone of the hour still has its counters."""
    from shared.crypto import VoterTokens
    from voting_service.services.otp import OtpService

    from shared.infra import create_redis

    r = create_redis(redis_url, timeout_s=10.0, max_connections=64)   # the service's own client settings
    codes: dict[str, str] = {}

    class _Capture(_NoSms):
        async def send(self, *, phone: str, phone_pseudonym: str, text: str, code: str) -> None:
            codes[phone] = code

    svc = OtpService(settings=settings, redis=r, sms=_Capture(), tokens=VoterTokens(settings.secrets.token_keys, 3600))
    phones = [f"+7701{n:07d}" for n in range(o.otp_phones)]
    try:
        base = int((await r.info("memory"))["used_memory"])
        keys0 = await r.dbsize()
        redis_pid = int((await r.info("server"))["process_id"])
        cpu0 = stack.cpu_seconds(redis_pid)
        started = time.perf_counter()
        for lo in range(0, len(phones), 500):
            await asyncio.gather(*(svc.request(phone=ph, client=_client_of(ph)) for ph in phones[lo:lo + 500]))
        took = time.perf_counter() - started
        pending = int((await r.info("memory"))["used_memory"])
        keys1 = await r.dbsize()
        for lo in range(0, len(phones), 500):
            await asyncio.gather(*(svc.verify(phone=ph, code=codes[ph]) for ph in phones[lo:lo + 500]))
        redis_cpu = stack.cpu_seconds(redis_pid) - cpu0   # server-wide: other clients count too
        verified = int((await r.info("memory"))["used_memory"])
        keys2 = await r.dbsize()
    finally:
        await r.aclose()
    n = max(1, len(phones))
    return {"otp_phones": len(phones), "otp_requests_per_s_loaded": round(n / took),
            "otp_keys_per_phone_pending": round((keys1 - keys0) / n, 2),
            "otp_bytes_per_phone_pending": round((pending - base) / n, 1),
            "otp_keys_per_phone_after_verify": round((keys2 - keys0) / n, 2),
            "otp_bytes_per_phone_after_verify": round((verified - base) / n, 1),
            "otp_redis_cpu_us_per_sign_in": round(1e6 * redis_cpu / n, 1)}


def used_memory(r: redis.Redis) -> int:
    return int(r.info("memory")["used_memory"])


def load(o: argparse.Namespace, r: redis.Redis, settings: Settings, camp: stack.Campaign) -> dict[str, Any]:
    """Every voter casts ``votes`` votes for distinct candidates; votes of one voter are spread over the run."""
    route = Route(camp.id, camp.shards, camp.voter_buckets, camp.k, True, "published")
    rec = Calls(route, limit_args(settings))
    script = Script(VOTE_SCRIPT)
    sha = script.sha
    r.script_load(script.source)
    rng = random.Random(o.seed)
    cands = [str(c) for c in camp.candidate_ids]
    pkey = settings.secrets.pseudonym_key
    # Votes go out in rounds: round j sends every voter's j-th vote, so buckets fill as in a real campaign
    # (a voter's later votes rewrite a listpack that other voters already grew).
    chunk = o.pipeline
    statuses: dict[str, int] = {}
    sent = 0
    started = time.perf_counter()
    choices: dict[int, list[str]] = {}
    last_log = started
    conn = r.connection_pool.get_connection()
    inflight = 0
    for rnd in range(o.votes):
        for lo in range(0, o.voters, chunk):
            hi = min(o.voters, lo + chunk)
            rec.calls.clear()
            for n in range(lo, hi):
                if rnd == 0:
                    choices[n] = rng.sample(cands, o.votes)
                ip = (n * 2654435761) & 0xFFFFFFFF
                ip_hash = b64u(hashlib.blake2b(ip.to_bytes(4, "big"), digest_size=9).digest())
                net = f"{ip >> 24 & 255}.{ip >> 16 & 255}.{ip >> 8 & 255}.0/24"
                voter = pseudonym(pkey, "voter", f"+77{n:09d}")
                rec.add(voter=voter, candidate_id=choices[n][rnd], ip_hash=ip_hash, ip_net=net)
            if rnd == o.votes - 1:
                for n in range(lo, hi):
                    del choices[n]
            calls = rec.calls
            # The previous chunk's answers are read only after this chunk is sent: Redis works on one
            # while this process builds and parses the other.
            conn.send_packed_command(rec.pack(conn, sha), check_health=False)
            if inflight:
                tally_answers(conn, inflight, statuses)
            inflight = len(calls)
            sent += len(calls)
            now = time.perf_counter()
            if now - last_log > 10:
                last_log = now
                log(f"round {rnd + 1}/{o.votes}: {sent:,} votes sent, {sent / (now - started):,.0f}/s, "
                    f"statuses {statuses}")
    if inflight:
        tally_answers(conn, inflight, statuses)
    r.connection_pool.release(conn)
    elapsed = time.perf_counter() - started
    example_keys, example_args = rec.calls[-1] if rec.calls else ([], [])
    rec.calls[:] = rec.calls[-1:]
    wire = rec.pack(conn, sha)
    return {"wire_bytes_per_call": sum(len(c) for c in wire), "votes_sent": sent, "load_s": round(elapsed, 1),
            "votes_per_s_loaded": round(sent / elapsed),
            "statuses": statuses, "keys_per_call": len(example_keys), "args_per_call": len(example_args),
            "example_call": {"keys": example_keys, "args": [str(a) for a in example_args]}}


def tally_answers(conn: Any, n: int, statuses: dict[str, int]) -> None:
    for _ in range(n):
        try:
            res = conn.read_response(disable_decoding=True)
            outcome = res[0].decode() if isinstance(res, list) else f"other:{res!r}"
        except redis.exceptions.ResponseError as exc:
            outcome = f"error:{exc}"
        statuses[outcome] = statuses.get(outcome, 0) + 1


def bucket_sample(r: redis.Redis, camp: stack.Campaign, n: int = 50) -> dict[str, Any]:
    sk = keys.ShardKeys.of(camp.id, 0)
    rng = random.Random(7)
    picks = rng.sample(range(camp.voter_buckets), min(n, camp.voter_buckets))
    pipe = r.pipeline(transaction=False)
    for b in picks:
        pipe.object("encoding", sk.voters(b))
        pipe.hlen(sk.voters(b))
        pipe.memory_usage(sk.voters(b), samples=0)
    out = pipe.execute()
    enc = [x.decode() if isinstance(x, bytes) else str(x) for x in out[0::3]]
    lens = [int(x) for x in out[1::3]]
    mem = [int(x or 0) for x in out[2::3]]
    encodings: dict[str, int] = {}
    for e in enc:
        encodings[e] = encodings.get(e, 0) + 1
    return {"sampled_buckets": len(picks), "encodings": encodings,
            "voters_per_bucket": {"min": min(lens), "mean": round(statistics.mean(lens), 1), "max": max(lens)},
            "memory_usage_per_bucket": {"min": min(mem), "mean": round(statistics.mean(mem)), "max": max(mem)},
            "bucket_bytes_per_voter": round(sum(mem) / max(1, sum(lens)), 1)}


def count_voters(r: redis.Redis, camp: stack.Campaign) -> int:
    sk = keys.ShardKeys.of(camp.id, 0)
    total = 0
    for lo in range(0, camp.voter_buckets, 5000):
        pipe = r.pipeline(transaction=False)
        for b in range(lo, min(camp.voter_buckets, lo + 5000)):
            pipe.hlen(sk.voters(b))
        total += sum(pipe.execute())
    return total


def cpu_delta_all(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds per group between two snapshots; a process that appeared in between counts from zero."""
    return {name: round(sum(max(0.0, t - before.get(name, {}).get(pid, 0.0)) for pid, t in pids.items()), 2)
            for name, pids in after.items()}


def drop_limit_counters(r: redis.Redis, camp: stack.Campaign) -> dict[str, Any]:
    """Count and measure the vote limit counters (``:rl:`` keys, TTL = their window), then delete them so the
    per-voter figure is the state that outlives the windows."""
    pattern = keys.ShardKeys.of(camp.id, 0).rl_voter("")[:-3] + "*"
    names = list(r.scan_iter(match=pattern, count=5000))
    kinds: dict[str, int] = {}
    for name in names:
        kind = name.decode().split(":rl:", 1)[1].split(":", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    mem = used_memory(r)
    for lo in range(0, len(names), 5000):
        r.unlink(*names[lo:lo + 5000])
    time.sleep(3)   # Redis's cron shrinks the key tables the counters grew (part of what a counter costs)
    freed = mem - used_memory(r)
    return {"rate_limit_keys": kinds, "rate_limit_bytes_per_key": round(freed / max(1, len(names)), 1)}


def voter_state_bytes(r: redis.Redis, camp: stack.Campaign) -> int:
    """MEMORY USAGE summed over every voter bucket: the per-voter state alone, whatever else the server holds."""
    sk = keys.ShardKeys.of(camp.id, 0)
    total = 0
    for lo in range(0, camp.voter_buckets, 2000):
        pipe = r.pipeline(transaction=False)
        for b in range(lo, min(camp.voter_buckets, lo + 2000)):
            pipe.memory_usage(sk.voters(b), samples=0)
        total += sum(int(x or 0) for x in pipe.execute())
    return total


async def _wal_lsn(db_url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"))
    finally:
        await conn.close()


def drain_with_flusher(o: argparse.Namespace, r: redis.Redis, env: dict[str, str], stream: str) -> dict[str, Any]:
    backlog = r.xlen(stream)
    wal0 = asyncio.run(_wal_lsn(env["DATABASE_URL"]))
    workdir = Path(tempfile.mkdtemp(prefix="memory-"))
    p = stack.Process("flusher", [sys.executable, "-m", "voting_service", "flusher"], env,
                      workdir / "flusher.log").start()
    redis_pid = int(r.info("server")["process_id"])
    groups = {"flusher": [p.pid], "postgres": stack.pids_named("postgres"), "redis": [redis_pid]}
    cpu0 = stack.cpu_snapshot(groups)
    started = time.monotonic()
    try:
        while time.monotonic() - started < o.drain_timeout:
            left = r.xlen(stream)
            if left == 0:
                break
            if not p.alive():
                raise RuntimeError(f"flusher exited:\n{p.tail()}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"flusher did not drain {r.xlen(stream)} votes in {o.drain_timeout} s")
        took = time.monotonic() - started
        # Postgres backends the flusher opened after the first snapshot count from zero.
        cpu = cpu_delta_all(cpu0, stack.cpu_snapshot({**groups, "postgres": stack.pids_named("postgres")}))
    finally:
        p.stop()
    wal = asyncio.run(_wal_lsn(env["DATABASE_URL"])) - wal0   # server-wide: other databases' writes count too
    us = {g: round(1e6 * c / max(1, backlog), 1) for g, c in cpu.items()}
    log(f"flusher drained {backlog:,} votes in {took:.1f} s ({backlog / took:,.0f} votes/s); CPU us/vote {us}")
    return {"drained_votes": backlog, "drain_s": round(took, 1), "flusher_votes_per_s": round(backlog / took),
            "drain_cpu_s": cpu, "drain_cpu_us_per_vote": us, "pg_wal_bytes_per_vote": round(wal / max(1, backlog), 1)}


async def postgres_figures(db_url: str, campaign_id: int) -> dict[str, Any]:
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            part = await conn.fetchval(
                "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'votes'::regclass "
                "AND pg_get_expr(c.relpartbound, c.oid) = $1", f"FOR VALUES IN ('{campaign_id}')")
            part = part or "votes_default"
            await conn.execute(f"VACUUM ANALYZE {part}")
            rows = await conn.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", campaign_id)
            heap = await conn.fetchval("SELECT pg_table_size($1::regclass)", part)
            total = await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", part)
            indexes = await conn.fetch(
                "SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes "
                "FROM pg_index WHERE indrelid = $1::regclass", part)
    finally:
        await pool.close()
    return {"pg_partition": part, "pg_rows": rows, "pg_heap_bytes_per_vote": round(heap / rows, 1) if rows else None,
            "pg_total_bytes_per_vote": round(total / rows, 1) if rows else None,
            "pg_index_bytes_per_vote": {i["name"]: round(i["bytes"] / rows, 1) for i in indexes} if rows else {}}


def main(argv: list[str] | None = None) -> int:
    o = parse_args(argv)
    server = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
    redis_url = stack.with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), f"/{o.redis_db}")
    db = stack.ScratchDatabase(server)
    credentials = stack.ServiceCredentials()
    r = redis.Redis.from_url(redis_url, socket_timeout=120)
    report: dict[str, Any] = {"voters": o.voters, "votes_per_voter": o.votes, "candidates": o.candidates,
                              "redis_db": o.redis_db}
    ok = False
    try:
        camp, db_url = asyncio.run(setup(o, db, redis_url))
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("VOTE_LIMIT_", "PROMETHEUS_MULTIPROC"))},
               "APP_ENV": "production", "SMS_BACKEND": "http", "SMS_GATEWAY_URL": "http://127.0.0.1:9/unused",
               "DATABASE_URL": db_url, "REDIS_URL": redis_url, "VOTER_TOKEN_KEY": _key(), "PSEUDONYM_KEY": _key(),
               "CONTACT_PUBLIC_KEY": stack.contact_public_key(), "SMS_BUDGET_PER_MINUTE": "100000000",
               **({} if o.rate_limits else {"VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0"}),
               "FLUSHER_METRICS_PORT": "0", "FLUSHER_CONSUMER": "memory-flusher", "LOG_LEVEL": "WARNING",
               **asyncio.run(credentials.create(db_url, redis_url))}
        settings = Settings.from_env(env, service="voting")
        report.update(campaign_id=camp.id, voter_buckets=camp.voter_buckets,
                      hash_max_listpack_entries=int(r.config_get("hash-max-listpack-entries")
                                                    ["hash-max-listpack-entries"]),
                      hash_max_listpack_value=int(r.config_get("hash-max-listpack-value")["hash-max-listpack-value"]),
                      redis_version=r.info("server")["redis_version"])
        log(f"campaign {camp.id}: {o.candidates} candidates, k={o.votes}, {camp.voter_buckets} voter buckets; "
            f"loading {o.voters:,} voters x {o.votes} votes into {redis_url}")
        before = used_memory(r)
        report.update(load(o, r, settings, camp))
        stream = keys.ShardKeys.of(camp.id, 0).stream
        if o.rate_limits:
            report.update(drop_limit_counters(r, camp))
        with_stream = used_memory(r)
        voters = count_voters(r, camp)
        report.update(voters_in_redis=voters, stream_len=r.xlen(stream), used_memory_before=before,
                      used_memory_with_stream=with_stream,
                      redis_bytes_per_voter_with_stream=round((with_stream - before) / voters, 1),
                      stream_bytes_per_vote=round(r.memory_usage(stream, samples=0) / max(1, r.xlen(stream)), 1))
        log(f"loaded: {voters:,} voters, stream {report['stream_len']:,} entries; "
            f"{report['redis_bytes_per_voter_with_stream']} bytes/voter with the stream")
        if o.drain == "flusher":
            report.update(drain_with_flusher(o, r, env, stream))
            report.update(asyncio.run(postgres_figures(db_url, camp.id)))
        elif o.drain == "trim":
            r.xtrim(stream, maxlen=0, approximate=False)
        if o.drain != "none":
            after = used_memory(r)
            report.update(used_memory_after=after, redis_bytes_per_voter=round((after - before) / voters, 1))
        report["bucket_sample"] = bucket_sample(r, camp)
        report["voter_buckets_bytes_per_voter"] = round(voter_state_bytes(r, camp) / voters, 1)
        tally = sum(sum_tallies(r.hgetall(k) for k in tally_keys(camp.id, camp.shards)).values())
        report["tally_total"] = tally
        if o.otp_phones:
            report.update(asyncio.run(otp_memory(o, redis_url, settings)))
        ok = tally == report["statuses"].get("ok", 0) == o.voters * o.votes
        report["all_accepted"] = ok
    finally:
        try:
            r.flushdb()
        finally:
            r.close()
            asyncio.run(credentials.drop())  # before the database it connects to
            asyncio.run(db.drop())
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
