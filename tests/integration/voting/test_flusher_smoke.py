import ipaddress

from tests.factories import make_campaign
from tests.integration.voting.conftest import CLIENT_IP, sign_in
from voting_service.flusher import Flusher
from shared.votestore.reconcile import reconcile


async def test_flush(client, pool, redis, settings, flusher_pool, flusher_redis):
    camp = await make_campaign(pool, redis, candidates=4, k=3)
    receipts = []
    for i in range(5):
        token = await sign_in(client, f"+7701123{i}450")
        for c in camp.candidate_ids[:3]:
            r = await client.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(c)},
                                  headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            receipts.append(r.json()["receipt"])
    f = Flusher(settings, flusher_pool, flusher_redis)
    await f.refresh_streams()
    assert await f.drain_once() == 15
    reps = await reconcile(flusher_pool, flusher_redis, campaign_id=camp.id, wait_s=1)
    assert reps[0].clean
    r = await client.get(f"/api/v1/receipts/{receipts[0]}")
    assert r.json()["status"] == "recorded"
    # Each row as the stream entry said: cast at the entry id's millisecond, the client's /24, its IP hash.
    rows = await pool.fetch("SELECT vote_id, ip_net, ip_hash, cast_at FROM votes WHERE campaign_id = $1", camp.id)
    assert sorted(r["vote_id"] for r in rows) == sorted(receipts)
    for row in rows:
        ms = int(row["vote_id"].split(".")[2].split("-")[0])
        assert round(row["cast_at"].timestamp() * 1000) == ms
        assert row["ip_net"] == ipaddress.ip_network(CLIENT_IP).supernet(new_prefix=24)
        assert row["ip_hash"]
