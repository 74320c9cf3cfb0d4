"""One flusher pass covers every shard's stream in ONE Postgres transaction (votes spread over 16 shards must
not shrink the batches 16-fold), takes about ``flusher_batch`` in all, and still acknowledges and trims each
stream only after the COMMIT, never past another consumer's pending entries. Rows inserted by one transaction
share its id (``xmin``), which is what counts the transactions here."""

from __future__ import annotations

import asyncio
import os

from shared.crypto import b64u
from shared.settings import Settings
from shared.votestore import keys
from shared.votestore.reconcile import reconcile
from tests.factories import make_campaign
from voting_service.flusher import Flusher
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import RouteTable

SHARDS = 4


def settings_for(env: dict[str, str], **extra: str) -> Settings:
    return Settings.from_env({**env, "VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0",
                              **extra}, service="voting")


async def cast(settings: Settings, redis, camp, voters: int) -> None:
    box = BallotBox(settings=settings, redis=redis, routes=RouteTable(redis, 60))
    for _ in range(voters):
        await box.cast(campaign_id=camp.id, voter=b64u(os.urandom(12)), candidate_id=str(camp.candidate_ids[0]),
                       ip_hash="h", ip_net="203.0.113.0/24")
    await box.close()


async def stream_lengths(redis, camp) -> list[int]:
    return [await redis.xlen(keys.ShardKeys.of(camp.id, s).stream) for s in range(SHARDS)]


async def transactions(pool, *campaign_ids: int) -> int:
    return await pool.fetchval("SELECT count(DISTINCT xmin::text) FROM votes WHERE campaign_id = ANY($1)",
                               list(campaign_ids))


async def test_every_shard_of_every_campaign_in_one_transaction(env, pool, redis):
    settings = settings_for(env)
    a = await make_campaign(pool, redis, candidates=2, k=1, shards=SHARDS)
    b = await make_campaign(pool, redis, candidates=2, k=1, shards=2)
    await cast(settings, redis, a, 60)
    await cast(settings, redis, b, 20)
    assert all(n > 0 for n in await stream_lengths(redis, a))  # the votes really are spread over the shards

    f = Flusher(settings, pool, redis, consumer="one-pass")
    await f.refresh_streams()
    assert await f.drain_once() == 80
    assert f.batches == 1 and not f.more_waiting
    assert await transactions(pool, a.id, b.id) == 1
    assert await f.drain_once() == 0 and f.batches == 1  # nothing left, and no empty transaction either
    for camp, shards in ((a, SHARDS), (b, 2)):
        for s in range(shards):
            stream = keys.ShardKeys.of(camp.id, s).stream
            assert await redis.xlen(stream) == 0
            assert (await redis.xpending(stream, keys.STREAM_GROUP))["pending"] == 0
        assert (await reconcile(pool, redis, campaign_id=camp.id, wait_s=1))[0].clean


async def test_a_pass_takes_about_flusher_batch_spread_over_the_streams(env, pool, redis):
    settings = settings_for(env, FLUSHER_BATCH="8")  # 4 streams: 2 entries from each per pass
    camp = await make_campaign(pool, redis, candidates=2, k=1, shards=SHARDS)
    await cast(settings, redis, camp, 60)
    lengths = await stream_lengths(redis, camp)

    f = Flusher(settings, pool, redis, consumer="shares")
    await f.refresh_streams()
    assert f.share() == 2
    assert await f.drain_once() == sum(min(n, 2) for n in lengths)
    assert f.more_waiting  # some stream filled its share: the flusher goes again without waiting
    moved = sum(min(n, 2) for n in lengths)
    while (n := await f.drain_once()) > 0:
        moved += n
        assert n <= 8 + SHARDS  # the share is rounded up per stream
    assert moved == 60 and not f.more_waiting
    assert await transactions(pool, camp.id) == f.batches
    assert (await reconcile(pool, redis, campaign_id=camp.id, wait_s=1))[0].clean


async def test_idle_streams_do_not_shrink_the_share_of_the_live_ones(env, pool, redis):
    """Streams of campaigns nobody votes in stay registered: after one pass the share is divided among the
    streams that gave entries, not among every registered one."""
    settings = settings_for(env, FLUSHER_BATCH="40")
    idle = await make_campaign(pool, redis, candidates=2, k=1, shards=SHARDS)
    live = await make_campaign(pool, redis, candidates=2, k=1, shards=1)
    await cast(settings, redis, live, 60)

    f = Flusher(settings, pool, redis, consumer="skewed")
    await f.refresh_streams()
    assert len(f.streams) == SHARDS + 1 and f.share() == 8  # nothing known yet: 40 over 5 streams
    assert await f.drain_once() == 8 and f.more_waiting
    assert f.share() == 40  # one live stream: it gets the whole batch
    assert await f.drain_once() == 40
    assert await f.drain_once() == 12 and not f.more_waiting
    assert f.share() == 40 and await f.drain_once() == 0
    assert f.share() == 8  # after an idle pass, shared among all again
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = ANY($1)", [idle.id, live.id]) == 60


async def test_replay_claims_and_trimming_across_streams(env, pool, redis):
    """A previous run of this consumer died after reading from shards 1-3: their pending entries are re-read
    first, in the same transaction as shard 0's new entries. A dead consumer holds entries of shard 0, which
    stay in the stream until claimed, while the other streams are trimmed to nothing."""
    settings = settings_for(env, FLUSHER_CLAIM_IDLE_MS="1")
    camp = await make_campaign(pool, redis, candidates=2, k=1, shards=SHARDS)
    await cast(settings, redis, camp, 60)
    streams = [keys.ShardKeys.of(camp.id, s).stream for s in range(SHARDS)]
    await redis.xreadgroup(keys.STREAM_GROUP, "dead-consumer", {streams[0]: ">"}, count=2)
    own_count = 0
    for s in streams[1:]:  # one stream per read: on Redis Cluster each shard's stream has its own slot
        own = await redis.xreadgroup(keys.STREAM_GROUP, "restarted", {s: ">"}, count=3)
        own_count += sum(len(entries) for _, entries in own)
    lengths = await stream_lengths(redis, camp)

    f = Flusher(settings, pool, redis, consumer="restarted")
    await f.refresh_streams()
    first = await f.drain_once(claim=False)
    # Streams with own pending entries replay only those; shard 0 gives its new entries in the same pass.
    assert first == own_count + lengths[0] - 2
    assert f.batches == 1 and await transactions(pool, camp.id) == 1 and not f.own_pending_possible
    while await f.drain_once(claim=False):
        pass
    assert await redis.xlen(streams[0]) >= 2  # the dead consumer's entries (and what follows) stay
    assert [await redis.xlen(s) for s in streams[1:]] == [0] * (SHARDS - 1)
    await asyncio.sleep(0.01)
    assert await f.drain_once(claim=True) == 2
    assert [await redis.xlen(s) for s in streams] == [0] * SHARDS
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == sum(lengths) == 60
    assert await transactions(pool, camp.id) == f.batches
    assert (await reconcile(pool, redis, campaign_id=camp.id, wait_s=1))[0].clean


async def test_a_stream_that_lost_its_group_is_recreated_and_the_others_still_drain(env, pool, redis):
    """Redis lost one shard's stream (and so its group): the multi-stream read of the flusher's own pending
    entries fails with NOGROUP for all of them and recreates the missing group; the read of new entries that
    follows drains the other streams."""
    settings = settings_for(env)
    camp = await make_campaign(pool, redis, candidates=2, k=1, shards=SHARDS)
    await cast(settings, redis, camp, 60)
    lost = keys.ShardKeys.of(camp.id, 1).stream
    kept = sum(await stream_lengths(redis, camp)) - await redis.xlen(lost)
    await redis.delete(lost)

    f = Flusher(settings, pool, redis, consumer="after-loss")
    await f.refresh_streams()
    assert await f.drain_once() == kept
    assert [g["name"] for g in await redis.xinfo_groups(lost)] == [keys.STREAM_GROUP]
    assert await f.drain_once() == 0
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == kept
