"""Invariant 1 across store restarts: acknowledged votes survive Redis kill -9 (AOF, appendfsync always)
and a Postgres restart under a running flusher; afterwards Postgres holds each exactly once and
reconcile is clean."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from shared.votestore import keys
from shared.infra import create_pool, create_redis
from shared.migrate import migrate_url
from shared.settings import Settings
from tests.e2e.servers import PostgresServer, RedisServer
from tests.e2e.test_flusher_crash import cast_many, wait_until
from tests.factories import make_campaign
from tests.stores import pointing_at
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import RouteTable

pytestmark = pytest.mark.e2e

NO_LIMITS = {"VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0"}
FLUSHER_ENV = {"FLUSHER_BATCH": "300", "FLUSHER_CLAIM_IDLE_MS": "500", "FLUSHER_METRICS_PORT": "0",
               "FLUSHER_CONSUMER": "flusher-restarts"}


async def stored_receipts(pool, campaign_id: int) -> list[str]:
    return [r["vote_id"] for r in await pool.fetch("SELECT vote_id FROM votes WHERE campaign_id = $1", campaign_id)]


def reconcile(env: dict[str, str], campaign_id: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voting_service", "reconcile", "--campaign", str(campaign_id),
                           "--wait", "10"], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


async def test_acknowledged_votes_survive_redis_kill_9_with_aof(env, pool, tmp_path: Path, spawn):
    server = RedisServer(tmp_path)
    server.start()
    r = create_redis(server.url, timeout_s=2.0)
    try:
        env2 = {**pointing_at(env, "REDIS", server.url), **NO_LIMITS}  # a private Redis
        settings = Settings.from_env(env2, service="voting")
        camp = await make_campaign(pool, r, candidates=6, k=3)
        box = BallotBox(settings=settings, redis=r, routes=RouteTable(r, 60))
        receipts = await cast_many(box, camp.id, camp.candidate_ids, 400)
        await box.close()
        assert len(receipts) == 1200

        server.kill()  # no shutdown, no final fsync: only what AOF already holds survives
        await r.aclose()
        server.start()
        r = create_redis(server.url, timeout_s=2.0)
        stream = keys.ShardKeys.of(camp.id, 0).stream
        assert await r.xlen(stream) == len(receipts)  # every acknowledged vote is still there

        flusher = spawn("-m", "voting_service", "flusher", extra_env={**env2, **FLUSHER_ENV})

        async def drained() -> bool:
            return await r.xlen(stream) == 0

        await wait_until(drained, 60, "the stream to drain")
        flusher.send_signal(signal.SIGTERM)
        assert flusher.wait(timeout=15) == 0
        stored = await stored_receipts(pool, camp.id)
        assert len(stored) == len(set(stored)) and set(stored) == set(receipts)
        rec = reconcile(env2, camp.id)
        assert rec.returncode == 0, rec.stdout + rec.stderr
    finally:
        await r.aclose()
        server.kill()


@pytest.mark.skipif(PostgresServer.bindir() is None, reason="PostgreSQL server binaries (initdb, pg_ctl) not found")
async def test_flusher_rides_out_a_postgres_restart(env, redis, spawn):
    # Not under pytest's tmp_path: as root the cluster runs as ``postgres``, which cannot enter it.
    workdir = Path(tempfile.mkdtemp(prefix="faces-pg-"))
    workdir.chmod(0o755)
    pg = PostgresServer(workdir / "pg")
    pg.init()
    pg.start()
    pool = None
    try:
        await migrate_url(pg.url)
        pool = await create_pool(pg.url, min_size=1, max_size=4)
        env2 = {**pointing_at(env, "DATABASE", pg.url), **NO_LIMITS}
        settings = Settings.from_env(env2, service="voting")
        camp = await make_campaign(pool, redis, candidates=6, k=3)
        box = BallotBox(settings=settings, redis=redis, routes=RouteTable(redis, 60))
        flusher = spawn("-m", "voting_service", "flusher", extra_env={**env2, **FLUSHER_ENV})
        receipts = await cast_many(box, camp.id, camp.candidate_ids, 300)

        async def flushing() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM votes"))

        await wait_until(flushing, 30, "the flusher to start moving votes")
        await pool.close()
        pool = None

        await asyncio.to_thread(pg.stop, "immediate")  # a crash, as far as Postgres is concerned
        receipts += await cast_many(box, camp.id, camp.candidate_ids, 300)  # votes go on: Redis only
        await asyncio.sleep(1.5)  # the flusher meets the outage and waits
        assert flusher.poll() is None, "the flusher must survive a Postgres outage:\n" + (
            flusher.stdout.read() if flusher.poll() is not None and flusher.stdout else "")
        await asyncio.to_thread(pg.start)
        await box.close()

        stream = keys.ShardKeys.of(camp.id, 0).stream

        async def drained() -> bool:
            return await redis.xlen(stream) == 0

        await wait_until(drained, 60, "the stream to drain after Postgres came back")
        flusher.send_signal(signal.SIGTERM)
        assert flusher.wait(timeout=15) == 0
        pool = await create_pool(pg.url, min_size=1, max_size=2)
        stored = await stored_receipts(pool, camp.id)
        assert len(stored) == len(set(stored)) == len(receipts) and set(stored) == set(receipts)
        rec = reconcile(env2, camp.id)
        assert rec.returncode == 0, rec.stdout + rec.stderr
    finally:
        if pool is not None:
            await pool.close()
        try:
            pg.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)
