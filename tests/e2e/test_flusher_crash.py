"""Invariant 1 across flusher crashes: every acknowledged vote reaches Postgres exactly once.

The flusher runs as a real process and is killed with SIGKILL while its batch transaction is open
(held there by a lock the test takes), and a 'ghost' consumer that committed a batch but died before
XACK is replayed. Afterwards every receipt is in Postgres once and `reconcile` exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.votestore import keys
from shared.crypto import b64u
from shared.errors import AppError
from shared.infra import create_pool
from shared.settings import Settings
from tests.integration.admin.conftest import env_on_own_database
from tests.factories import make_campaign
from voting_service.flusher import to_row
from voting_service.repos import votes as votes_repo
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import RouteTable

pytestmark = pytest.mark.e2e


# A database of this module's own: the flusher re-projects every published campaign it finds in Postgres (the
# tests of this session leave many, whose Redis state each test's flush removed), which is not what is tested.
@pytest.fixture(scope="module")
async def env(env: dict[str, str], server_url: str) -> AsyncIterator[dict[str, str]]:
    async with env_on_own_database(env, server_url) as own:
        yield own


@pytest.fixture(scope="module")
async def pool(env: dict[str, str]) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(env["DATABASE_URL"], min_size=1, max_size=8)
    yield p
    await p.close()

FLUSHER_ENV = {"FLUSHER_BATCH": "400", "FLUSHER_CLAIM_IDLE_MS": "500", "FLUSHER_METRICS_PORT": "0",
               "FLUSHER_CONSUMER": "flusher-under-test"}


async def cast_many(box: BallotBox, campaign_id: int, candidates: list[int], voters: int) -> list[str]:
    receipts: list[str] = []

    async def one_voter() -> None:
        voter = b64u(os.urandom(12))
        for cand in candidates[:3]:
            try:
                acc = await box.cast(campaign_id=campaign_id, voter=voter, candidate_id=str(cand),
                                     ip_hash="h", ip_net="203.0.113.0/24")
            except AppError:
                continue
            receipts.append(acc.receipt)

    for start in range(0, voters, 250):
        await asyncio.gather(*(one_voter() for _ in range(min(250, voters - start))))
    return receipts


async def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def test_sigkill_mid_batch_loses_nothing_and_counts_nothing_twice(env, pool, redis, spawn):
    settings = Settings.from_env({**env, "VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0"}, service="voting")
    camp = await make_campaign(pool, redis, candidates=12, k=3)
    box = BallotBox(settings=settings, redis=redis, routes=RouteTable(redis, 60))
    stream = keys.ShardKeys.of(camp.id, 0).stream
    receipts = await cast_many(box, camp.id, camp.candidate_ids, 1500)
    assert len(receipts) == 4500

    # A ghost flusher read a batch and committed it, then died before XACK.
    ghost = await redis.xreadgroup(keys.STREAM_GROUP, "ghost", {stream: ">"}, count=300)
    ghost_entries = ghost[0][1]
    async with pool.acquire() as conn, conn.transaction():
        await votes_repo.insert_batch(conn, [to_row(camp.id, 0, eid, f) for eid, f in ghost_entries])

    # Hold the campaign's partition so the real flusher's INSERT blocks inside its transaction.
    async def flusher_blocked_in_insert() -> bool:
        return bool(await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO votes%'"))

    async with pool.acquire() as locker, locker.transaction():
        await locker.execute(f"LOCK TABLE votes_c{camp.id} IN SHARE MODE")
        flusher = spawn("-m", "voting_service", "flusher", extra_env=FLUSHER_ENV)
        await wait_until(flusher_blocked_in_insert, 20, "the flusher to block inside its batch")
        own = await redis.xpending(stream, keys.STREAM_GROUP)
        assert own["pending"] > len(ghost_entries)  # it holds a batch, unacknowledged
        flusher.send_signal(signal.SIGKILL)
        flusher.wait(timeout=10)
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == len(ghost_entries)

    # More votes arrive while no flusher runs; then a new flusher starts and must finish the job.
    receipts += await cast_many(box, camp.id, camp.candidate_ids, 500)
    flusher = spawn("-m", "voting_service", "flusher", extra_env=FLUSHER_ENV)

    async def drained() -> bool:
        return await redis.xlen(stream) == 0 and (await redis.xpending(stream, keys.STREAM_GROUP))["pending"] == 0

    await wait_until(drained, 60, "the streams to drain")
    flusher.send_signal(signal.SIGTERM)
    assert flusher.wait(timeout=15) == 0

    rows = await pool.fetch("SELECT vote_id FROM votes WHERE campaign_id = $1", camp.id)
    stored = [r["vote_id"] for r in rows]
    assert len(stored) == len(set(stored)) == len(receipts)
    assert set(stored) == set(receipts)
    await box.close()

    rec = subprocess.run([sys.executable, "-m", "voting_service", "reconcile", "--campaign", str(camp.id),
                          "--wait", "5"], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    assert "clean" in rec.stdout


async def test_reconcile_reports_a_difference(env, pool, redis):
    camp = await make_campaign(pool, redis, candidates=3, k=1)
    await redis.hincrby(keys.ShardKeys.of(camp.id, 0).tally, str(camp.candidate_ids[1]), 2)
    rec = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voting_service", "reconcile", "--campaign", str(camp.id), "--wait", "0",
        env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await rec.communicate()
    assert rec.returncode == 1
    assert f"candidate {camp.candidate_ids[1]}: redis=2 postgres=0" in out.decode()
