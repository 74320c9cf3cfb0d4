"""The flusher: moves accepted votes from the Redis streams into Postgres, in batches, losing none.

One pass covers every registered stream (each campaign shard has its own): one XREADGROUP over all of them,
``flusher_batch`` divided among the streams that gave entries last pass from each, so a pass totals about
``flusher_batch`` however many shards the votes are spread over. Everything read goes into ONE transaction (idempotent on the vote id), and only
after COMMIT is it acknowledged and trimmed, stream by stream in one pipeline. A crash anywhere replays at
most the pass in flight, which the ON CONFLICT clause absorbs. Entries a dead consumer left pending are
claimed after ``flusher_claim_idle_ms``; on start a flusher first re-reads its own pending entries.

Several flushers may run at once on the same streams (2-4 processes; tests/e2e/test_several_flushers.py): the
consumer group hands each new entry to one of them, each has its own consumer name, the one that dies leaves
its entries pending until another claims them (XAUTOCLAIM, every housekeeping pass), and a batch inserted
twice (claimed from a flusher that was slow, not dead) is absorbed by the insert's ON CONFLICT. Trimming is
safe with several: each stream is trimmed below the group's oldest pending entry, whoever holds it.

Every few seconds it also re-projects published campaigns into Redis (a Redis that lost its data gets
its ballots back); the lag gauges are refreshed once a second. After a pass in which no stream filled its
share it waits ``FLUSHER_FILL_MS`` (200 ms) so the next batch is bigger: each batch pays a fixed cost (read,
COMMIT, XACK, XPENDING, XTRIM, and the fraud summaries' rows shared by many votes: a candidate, a network, the
campaign), so fuller batches cost less per vote, for at most that much more lag.
Its own pending entries (delivered, not acknowledged) can only exist after a crash or a failed batch, so
they are re-read at start and after an error rather than on every pass.

What it says to Redis (read, claim, acknowledge and trim, backlog) is the vote store's:
shared/votestore/streams.py; this module is the policy and the Postgres side.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import redis.exceptions

from shared import fraud_signals
from shared.repos import campaigns as campaigns_repo
from shared.settings import Settings
from shared.votestore import streams
from shared.votestore.projection import is_current, project
from shared.votestore.receipts import make_receipt
from voting_service import flusher_metrics as m
from voting_service.repos import votes as votes_repo
from voting_service.services.attack import AttackWatch, current_level

log = logging.getLogger("voting_service.flusher")

LAG_EVERY_S = 1.0    # refresh of the lag gauges

Entry = streams.Entry


def to_row(campaign_id: int, shard: int, entry_id: str, fields: dict[str, str]) -> tuple[Any, ...]:
    """A stream entry as a row of ``votes_repo.INSERT_BATCH``; cast_at is the entry id's milliseconds, then the
    vote's fraud signals (the ``s`` field, shared/fraud_signals.py; all None for an entry without them)."""
    return (
        campaign_id,
        make_receipt(campaign_id, shard, entry_id, fields["r"]),
        int(fields["c"]),
        fields["v"],
        fields.get("ih", ""),
        fields.get("n") or None,
        int(entry_id.partition("-")[0]),
        *fraud_signals.unpack(fields.get("s")),
    )


@dataclass
class Flusher:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    consumer: str = ""
    streams: list[tuple[int, int]] = field(default_factory=list)
    flushed: int = 0
    batches: int = 0  # transactions committed
    more_waiting: bool = False  # the last pass filled some stream's share: go again without waiting
    active: int = 0  # streams that gave entries in the last pass (0: none, or no pass yet)
    own_pending_possible: bool = True  # at start (a previous run may have died mid-batch) and after errors
    attack: AttackWatch | None = None  # the national attack mode (services/attack.py); from settings

    @property
    def wait(self) -> tuple[int, int]:
        """REDIS_WAIT_REPLICAS: move only entries the replicas hold (``streams.read``), as votes are only
        acknowledged once they do: a failover then never leaves Postgres with votes Redis lost."""
        return self.settings.redis_wait_replicas, self.settings.redis_wait_timeout_ms

    def __post_init__(self) -> None:
        # Several flushers may drain the same streams at once (one consumer group, a consumer each): the
        # default name is unique per process (host and pid). FLUSHER_CONSUMER gives a stable one (e.g. the
        # replica's name), so that a restarted flusher re-reads its own pending entries at once instead of
        # waiting ``flusher_claim_idle_ms`` for another flusher (or itself) to claim them.
        self.consumer = (self.consumer or self.settings.flusher_consumer
                         or f"flusher-{socket.gethostname()}-{os.getpid()}")
        m.suspect_votes()  # exported from the start, every signal at 0
        if self.attack is None:
            self.attack = AttackWatch(self.settings)

    async def refresh_streams(self) -> None:
        self.streams = await streams.registered(self.redis)

    async def read_attack_level(self) -> None:
        """Export the national attack level (declared here or by an operator; it lapses by itself)."""
        m.attack_level().set((await current_level(self.redis))[0])

    async def sync_projections(self) -> None:
        """Re-project any campaign whose Redis copy is missing or stale (e.g. Redis restarted empty)."""
        async with self.pool.acquire() as conn:
            projections = await campaigns_repo.projections(conn)
        for p in projections:
            if not await is_current(self.redis, p):
                log.info("re-projecting campaign %s into Redis", p.id)
                await project(self.redis, p)

    async def _commit(self, batch: dict[streams.StreamRef, dict[str, dict[str, str]]]) -> int:
        """Insert every stream's entries in one transaction; only after COMMIT acknowledge and trim them."""
        rows = [to_row(campaign_id, shard, eid, f)
                for (campaign_id, shard), entries in batch.items() for eid, f in entries.items()]
        if not rows:
            return 0
        started = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            await votes_repo.insert_batch(conn, rows, bucket_s=self.settings.fraud_bucket_s,
                                          fast_s=self.settings.fraud_fast_s, seq_run=self.settings.fraud_seq_run)
        # Acknowledge only what is committed; then trim everything below each stream's oldest pending entry.
        await streams.ack_and_trim(self.redis, {ref: list(entries) for ref, entries in batch.items()})
        m.batch_seconds().observe(time.perf_counter() - started)
        m.flushed().inc(len(rows))
        flagged = self._count_suspects(rows)
        if self.attack is not None and self.attack.enabled:
            level = self.attack.observe(len(rows), flagged)
            if level:
                await self.attack.declare(self.redis, level)
        self.flushed += len(rows)
        self.batches += 1
        return len(rows)

    def _count_suspects(self, rows: list[tuple[Any, ...]]) -> int:
        """Votes of the batch with a suspicious live signal (to_row's columns 7 signin_s, 8 ua_class, 13 seq_run),
        for the surge alert; the review itself reads the summaries. Returns the votes from an automated client
        or a sequential number (the attack mode's share)."""
        fast_s, seq_run = self.settings.fraud_fast_s, self.settings.fraud_seq_run
        auto = fast = seq = flagged = 0
        for r in rows:
            if r[8] is None:
                continue
            a, s = r[8] != "browser", r[13] >= seq_run
            auto += a
            fast += r[7] < fast_s
            seq += s
            flagged += a or s
        c = m.suspect_votes()
        for name, n in (("automated", auto), ("fast_after_signin", fast), ("sequential_numbers", seq)):
            if n:
                c.labels(name).inc(n)
        return flagged

    def share(self) -> int:
        """Entries per stream in one pass, so that a pass totals about ``flusher_batch``: divided among the
        streams that gave entries last pass (streams of closed campaigns stay registered and idle and must not
        shrink the live ones' share), or among all of them after an idle pass."""
        return max(1, -(-self.settings.flusher_batch // max(1, self.active or len(self.streams))))

    async def drain_once(self, *, claim: bool = False) -> int:
        """One pass over every stream: own pending first, then claimed, then new entries, all committed in one
        transaction. Returns votes moved; ``more_waiting`` says whether a stream filled its share."""
        if not self.streams:
            self.more_waiting, self.active = False, 0
            return 0
        count = self.share()
        read_own = self.own_pending_possible
        batch: dict[streams.StreamRef, dict[str, dict[str, str]]] = {}

        def add(found: dict[streams.StreamRef, list[Entry]]) -> None:
            for ref, entries in found.items():  # keyed by entry id: own pending and claimed may overlap
                batch.setdefault(ref, {}).update(entries)

        own: dict[streams.StreamRef, list[Entry]] = {}
        own_left: set[streams.StreamRef] = set()
        if read_own:
            own, own_left = await streams.read(self.redis, dict.fromkeys(self.streams, "0"),
                                               consumer=self.consumer, count=count, wait=self.wait)
            add(own)
        if claim:
            add(await streams.claim(self.redis, self.streams, consumer=self.consumer,
                                    idle_ms=self.settings.flusher_claim_idle_ms, count=count, wait=self.wait))
        # A stream with own pending entries gets no new ones this pass (as before: replay first).
        new, full = await streams.read(self.redis, {ref: ">" for ref in self.streams if ref not in own},
                                       consumer=self.consumer, count=count, wait=self.wait)
        add(new)
        moved = await self._commit(batch)
        if read_own:
            # Every stream's own pending entries were moved, unless a stream had more than its share.
            self.own_pending_possible = bool(own_left)
        self.more_waiting = bool(full or own_left)
        self.active = len(batch)
        return moved

    async def update_lag(self) -> None:
        pending_total, oldest_ms = await streams.backlog(self.redis, self.streams)
        m.pending().set(pending_total)
        m.lag_seconds().set(0.0 if oldest_ms is None else max(0.0, time.time() - oldest_ms / 1000))

    async def run(self, stop: asyncio.Event) -> None:
        log.info("flusher %s started", self.consumer)
        last_housekeeping = last_lag = 0.0
        while not stop.is_set():
            try:
                now = time.monotonic()
                housekeeping = now - last_housekeeping >= 2.0
                if housekeeping:
                    await self.sync_projections()
                    await self.refresh_streams()
                    await self.read_attack_level()
                    last_housekeeping = now
                moved = await self.drain_once(claim=housekeeping)
                if now - last_lag >= LAG_EVERY_S:
                    await self.update_lag()
                    last_lag = now
                if not self.more_waiting:  # caught up: let the next batch fill (or idle)
                    wait = self.settings.flusher_fill_ms / 1000 if moved else self.settings.flusher_block_ms / 1000
                    try:
                        await asyncio.wait_for(stop.wait(), wait)
                    except TimeoutError:
                        pass
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError,
                    # Redis Cluster failing over: no primary for a slot yet, CLUSTERDOWN, TRYAGAIN
                    redis.exceptions.ClusterError, redis.exceptions.RedisClusterException,
                    redis.exceptions.TryAgainError,
                    asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError) as exc:
                # Nothing was acknowledged: whatever was in flight stays pending and is replayed.
                m.errors().inc()
                self.own_pending_possible = True
                log.warning("flusher: store unavailable (%r); retrying in 1 s", exc)
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                except TimeoutError:
                    pass
        log.info("flusher %s stopped after %d votes", self.consumer, self.flushed)
