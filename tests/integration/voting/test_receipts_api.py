"""GET /api/v1/receipts/{receipt}: accepted (in Redis) -> recorded (in Postgres) -> invalidated; never the candidate."""

from __future__ import annotations

import pytest

from tests.factories import make_campaign
from tests.integration.voting.conftest import assert_problem, cast, mint_token
from voting_service.flusher import Flusher
from voting_service.services.ballot_box import new_nonce

PHONE = "+77017778899"


async def flush(settings, pool, redis) -> int:
    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    return await f.drain_once()


async def one_vote(client, pool, redis, settings) -> tuple[str, int, int]:
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    cand = camp.candidate_ids[2]
    r = await cast(client, camp.id, cand, mint_token(settings, PHONE))
    assert r.status_code == 201, r.text
    return r.json()["receipt"], camp.id, cand


def assert_no_candidate(body: dict, candidate_id: int) -> None:
    assert set(body) == {"receipt", "campaign_id", "status"}, body
    assert not any("candidate" in k for k in body)
    assert str(candidate_id) not in (body["campaign_id"], body["status"])


async def test_receipt_accepted_before_flush(client, pool, redis, settings):
    receipt, campaign_id, cand = await one_vote(client, pool, redis, settings)
    r = await client.get(f"/api/v1/receipts/{receipt}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {"receipt": receipt, "campaign_id": str(campaign_id), "status": "accepted"}
    assert_no_candidate(body, cand)


async def test_receipt_recorded_after_flush(client, pool, redis, settings, flusher_pool, flusher_redis):
    receipt, campaign_id, cand = await one_vote(client, pool, redis, settings)
    assert await flush(settings, flusher_pool, flusher_redis) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM votes WHERE vote_id = $1", receipt) == 1
    body = (await client.get(f"/api/v1/receipts/{receipt}")).json()
    assert body == {"receipt": receipt, "campaign_id": str(campaign_id), "status": "recorded"}
    assert_no_candidate(body, cand)
    # A second pass moves nothing and the status holds.
    assert await flush(settings, flusher_pool, flusher_redis) == 0
    assert (await client.get(f"/api/v1/receipts/{receipt}")).json()["status"] == "recorded"


async def test_receipt_invalidated(client, pool, redis, settings, flusher_pool, flusher_redis):
    receipt, campaign_id, cand = await one_vote(client, pool, redis, settings)
    await flush(settings, flusher_pool, flusher_redis)
    async with pool.acquire() as conn:
        updated = await conn.execute(
            "UPDATE votes SET invalidated_at = now(), invalidation_reason = 'test', invalidated_by = 'pytest' "
            "WHERE campaign_id = $1 AND vote_id = $2", campaign_id, receipt)
    assert updated == "UPDATE 1"
    r = await client.get(f"/api/v1/receipts/{receipt}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "invalidated"
    assert_no_candidate(body, cand)
    assert "test" not in r.text and "pytest" not in r.text  # the reason and the actor stay internal


async def test_each_receipt_tracks_its_own_vote(client, pool, redis, settings, flusher_pool, flusher_redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    token = mint_token(settings, PHONE)
    first = (await cast(client, camp.id, camp.candidate_ids[0], token)).json()["receipt"]
    await flush(settings, flusher_pool, flusher_redis)
    second = (await cast(client, camp.id, camp.candidate_ids[1], token)).json()["receipt"]
    assert (await client.get(f"/api/v1/receipts/{first}")).json()["status"] == "recorded"
    assert (await client.get(f"/api/v1/receipts/{second}")).json()["status"] == "accepted"


@pytest.mark.parametrize("garbage", [
    "nope", "1.2.3", "1.0.1-0.abcdefgh.extra", "a.b.c-d.efghijkl", "1.0.123-0.short", "1.0.123-0." + "x" * 17,
    "1.0.123-0.abc$defgh", "1.0.123.abcdefgh", "1" * 97, "١.0.123-0.abcdefgh",
    # Shaped like a receipt but not storable: these used to reach XRANGE / Postgres and answer 500.
    "1.0.١٢٣-0.abcdefgh",                                  # non-ASCII digits in the stream id
    "1.0.99999999999999999999999-0.abcdefgh",              # stream id beyond uint64
    "1.0.18446744073709551616-0.abcdefgh",                 # 2**64
    "99999999999999999999.0.1-0.abcdefgh",                 # campaign id beyond bigint
])
async def test_garbage_receipts_are_not_found(client, garbage):
    assert_problem(await client.get(f"/api/v1/receipts/{garbage}"), 404, "receipt_not_found")


async def test_well_formed_unknown_receipts_are_not_found(client, pool, redis, settings, flusher_pool, flusher_redis):
    receipt, campaign_id, _ = await one_vote(client, pool, redis, settings)
    cid, shard, sid, nonce = receipt.split(".")
    forged = [
        f"{cid}.{shard}.{sid}.{new_nonce()}",              # real entry, wrong nonce: receipts are unguessable
        f"{cid}.{shard}.1-0.{nonce}",                       # real nonce, another entry
        f"987654321098.0.{sid}.{nonce}",                       # no such campaign
        f"{cid}.7.{sid}.{nonce}",                           # no such shard
    ]
    for bad in forged:
        assert_problem(await client.get(f"/api/v1/receipts/{bad}"), 404, "receipt_not_found")
    await flush(settings, flusher_pool, flusher_redis)
    for bad in forged:  # also once the vote is in Postgres
        assert_problem(await client.get(f"/api/v1/receipts/{bad}"), 404, "receipt_not_found")
    assert (await client.get(f"/api/v1/receipts/{receipt}")).json()["status"] == "recorded"


async def test_receipts_and_results_across_shards(client, pool, redis, settings, flusher_pool, flusher_redis):
    """A campaign split over several shards: each receipt names its shard; results sum every shard."""
    camp = await make_campaign(pool, redis, candidates=2, k=1, shards=4)
    receipts = []
    for n in range(12):
        r = await cast(client, camp.id, camp.candidate_ids[n % 2], mint_token(settings, f"+770122200{n:02d}"))
        assert r.status_code == 201, r.text
        receipts.append(r.json()["receipt"])
    assert len({rc.split(".")[1] for rc in receipts}) > 1, "all voters landed on one shard"
    assert all(0 <= int(rc.split(".")[1]) < 4 for rc in receipts)
    results = (await client.get(f"/api/v1/campaigns/{camp.id}/results")).json()
    assert results["total_votes"] == 12
    assert [c["votes"] for c in results["candidates"]] == [6, 6]
    assert {(await client.get(f"/api/v1/receipts/{rc}")).json()["status"] for rc in receipts} == {"accepted"}
    assert await flush(settings, flusher_pool, flusher_redis) == 12
    assert {(await client.get(f"/api/v1/receipts/{rc}")).json()["status"] for rc in receipts} == {"recorded"}
