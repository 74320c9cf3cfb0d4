"""The flusher trims its stream down to nothing once everything is committed, even when the last batch it
committed was a reclaimed batch of OLD entries (left by a dead consumer) behind newer, already acknowledged
ones. (Trimming only "past this batch" left the newer entries in the stream forever: never drained.)"""

from __future__ import annotations

import asyncio
import os

from shared.votestore import keys
from shared.crypto import b64u
from shared.settings import Settings
from tests.factories import make_campaign
from voting_service.flusher import Flusher
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import RouteTable


async def test_reclaimed_old_batch_does_not_strand_newer_entries(env, pool, redis):
    settings = Settings.from_env({**env, "VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0",
                                  "FLUSHER_CLAIM_IDLE_MS": "1"}, service="voting")
    camp = await make_campaign(pool, redis, candidates=3, k=1)
    box = BallotBox(settings=settings, redis=redis, routes=RouteTable(redis, 60))
    for _ in range(10):
        await box.cast(campaign_id=camp.id, voter=b64u(os.urandom(12)), candidate_id=str(camp.candidate_ids[0]),
                       ip_hash="h", ip_net="203.0.113.0/24")
    await box.close()
    stream = keys.ShardKeys.of(camp.id, 0).stream
    # A consumer that died holding the three oldest entries.
    await redis.xreadgroup(keys.STREAM_GROUP, "dead-consumer", {stream: ">"}, count=3)

    flusher = Flusher(settings, pool, redis, consumer="live")
    await flusher.refresh_streams()
    assert await flusher.drain_once(claim=False) == 7  # the seven newer ones
    assert await redis.xlen(stream) == 10  # nothing below the dead consumer's pending entries may go yet
    await asyncio.sleep(0.01)
    assert await flusher.drain_once(claim=True) == 3  # the old ones, reclaimed
    assert await redis.xlen(stream) == 0
    assert (await redis.xpending(stream, keys.STREAM_GROUP))["pending"] == 0
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == 10
