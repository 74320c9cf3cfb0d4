import asyncio

from tests.factories import make_campaign
from tests.integration.voting.conftest import sign_in
from voting_service.flusher import Flusher
from voting_service.reconcile import reconcile


async def test_flush(client, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=4, k=3)
    receipts = []
    for i in range(5):
        token = await sign_in(client, f"+7701123450{i}")
        for c in camp.candidate_ids[:3]:
            r = await client.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(c)},
                                  headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            receipts.append(r.json()["receipt"])
    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    moved = await f.drain_once()
    print("moved", moved)
    reps = await reconcile(pool, redis, campaign_id=camp.id, wait_s=1)
    print(reps)
    assert reps[0].clean
    r = await client.get(f"/api/v1/receipts/{receipts[0]}")
    assert r.json()["status"] == "recorded"
