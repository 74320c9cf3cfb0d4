"""Several flushers at once on the same streams (one consumer group, a consumer name each), one of them killed
with SIGKILL in the middle of its batch, another killed at a moment nobody chose, while votes keep arriving:
every acknowledged vote ends in Postgres exactly once, the dead flushers' pending entries are claimed by the
live ones (XAUTOCLAIM), and ``reconcile`` exits 0. With TEST_REDIS_CLUSTER=1 it runs on a Redis Cluster."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.crypto import b64u
from shared.errors import AppError
from shared.infra import create_pool
from shared.settings import Settings
from shared.votestore import keys
from tests.e2e.test_flusher_crash import wait_until
from tests.factories import make_campaign
from tests.integration.admin.conftest import env_on_own_database
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import RouteTable

pytestmark = pytest.mark.e2e

SHARDS = 4
FLUSHER_ENV = {"FLUSHER_BATCH": "200", "FLUSHER_CLAIM_IDLE_MS": "500", "FLUSHER_METRICS_PORT": "0",
               "LOG_LEVEL": "WARNING"}


@pytest.fixture(scope="module")
async def env(env: dict[str, str], server_url: str) -> AsyncIterator[dict[str, str]]:
    async with env_on_own_database(env, server_url) as own:  # the flushers re-project what they find
        yield own


@pytest.fixture(scope="module")
async def pool(env: dict[str, str]) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(env["DATABASE_URL"], min_size=1, max_size=8)
    yield p
    await p.close()


class Voters:
    """Votes cast continuously (until ``stop``) through the real ballot box; ``receipts`` are the acknowledged."""

    def __init__(self, box: BallotBox, campaign_id: int, candidates: list[int]) -> None:
        self.box, self.campaign_id, self.candidates = box, campaign_id, candidates
        self.receipts: list[str] = []
        self.stop = asyncio.Event()

    async def one_voter(self) -> None:
        voter = b64u(os.urandom(12))
        for cand in random.sample(self.candidates, 3):
            try:
                acc = await self.box.cast(campaign_id=self.campaign_id, voter=voter, candidate_id=str(cand),
                                          ip_hash="h", ip_net="203.0.113.0/24")
            except AppError:
                continue
            self.receipts.append(acc.receipt)

    async def run(self, burst: int = 40) -> None:
        while not self.stop.is_set():
            await asyncio.gather(*(self.one_voter() for _ in range(burst)))
            await asyncio.sleep(0.02)


async def pending_of(redis, streams: list[str], consumer: str) -> int:
    total = 0
    for stream in streams:
        for row in (await redis.xpending(stream, keys.STREAM_GROUP))["consumers"]:
            if row["name"] == consumer:
                total += int(row["pending"])
    return total


async def test_several_flushers_one_killed_mid_batch_every_vote_once(env, pool, redis, spawn):
    settings = Settings.from_env({**env, "VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0"},
                                 service="voting")
    camp = await make_campaign(pool, redis, candidates=12, k=3, shards=SHARDS)
    box = BallotBox(settings=settings, redis=redis, routes=RouteTable(redis, 60))
    streams = [keys.ShardKeys.of(camp.id, s).stream for s in range(SHARDS)]
    voters = Voters(box, camp.id, camp.candidate_ids)
    voting = asyncio.create_task(voters.run())

    def flusher(name: str) -> subprocess.Popen:
        return spawn("-m", "voting_service", "flusher", extra_env={**FLUSHER_ENV, "FLUSHER_CONSUMER": name})

    async def blocked_inserts() -> int:
        return int(await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO votes%'"))

    try:
        procs = {name: flusher(name) for name in ("flusher-a", "flusher-b", "flusher-c")}
        await wait_until(lambda: _flushed_some(pool, camp.id), 30, "the flushers to move votes")

        # All three inside a batch (their INSERTs wait on the lock the test holds); kill -9 one of them there.
        async with pool.acquire() as locker, locker.transaction():
            await locker.execute(f"LOCK TABLE votes_c{camp.id} IN SHARE MODE")

            async def all_blocked() -> bool:
                return await blocked_inserts() >= 3

            await wait_until(all_blocked, 30, "three flushers to block inside their batches")
            held = {name: await pending_of(redis, streams, name) for name in procs}
            victim = max(held, key=held.__getitem__)
            assert held[victim] > 0  # it holds a batch, read and unacknowledged
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait(timeout=10)

        # Another one killed at a moment nobody chose, and a fourth joins; the votes keep coming.
        await asyncio.sleep(random.uniform(0.2, 1.5))
        second = random.choice([name for name in procs if name != victim])
        procs[second].send_signal(signal.SIGKILL)
        procs[second].wait(timeout=10)
        procs["flusher-d"] = flusher("flusher-d")
        await asyncio.sleep(1.0)
    finally:
        voters.stop.set()
        await voting
        await box.close()
    assert len(voters.receipts) > 500

    async def drained() -> bool:
        for stream in streams:
            if await redis.xlen(stream) or (await redis.xpending(stream, keys.STREAM_GROUP))["pending"]:
                return False
        return True

    await wait_until(drained, 90, "the streams to drain (the dead flushers' entries claimed)")
    assert await pending_of(redis, streams, victim) == 0 and await pending_of(redis, streams, second) == 0
    survivors = [n for n in procs if n not in (victim, second)]

    async def survivors_running() -> bool:  # each has read through the group: started, its SIGTERM handler set
        seen = set()
        for stream in streams:
            seen |= {c["name"] for c in await redis.xinfo_consumers(stream, keys.STREAM_GROUP)}
        return set(survivors) <= seen

    await wait_until(survivors_running, 60, "the surviving flushers to be running")
    for name in survivors:
        procs[name].send_signal(signal.SIGTERM)
        assert procs[name].wait(timeout=15) == 0

    rows = await pool.fetch("SELECT vote_id FROM votes WHERE campaign_id = $1", camp.id)
    stored = [r["vote_id"] for r in rows]
    assert len(stored) == len(set(stored)) == len(voters.receipts)  # none lost, none twice
    assert set(stored) == set(voters.receipts)

    rec = subprocess.run([sys.executable, "-m", "voting_service", "reconcile", "--campaign", str(camp.id),
                          "--wait", "5"], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    assert "clean" in rec.stdout


async def _flushed_some(pool: asyncpg.Pool, campaign_id: int) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", campaign_id))
