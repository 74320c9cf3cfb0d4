from tests.factories import make_campaign
from tests.integration.voting.conftest import sign_in


async def test_vote_flow(client, pool, redis):
    camp = await make_campaign(pool, redis, candidates=4, k=2)
    token = await sign_in(client, "+77011234567")
    h = {"Authorization": f"Bearer {token}"}
    r = await client.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(camp.candidate_ids[0])}, headers=h)
    assert r.status_code == 201, r.text
    print(r.json())
    r = await client.get(f"/api/v1/receipts/{r.json()['receipt']}")
    print(r.status_code, r.text)
    r = await client.get(f"/api/v1/campaigns/{camp.id}/results")
    print(r.status_code, r.text)
    r = await client.get(f"/api/v1/campaigns/{camp.id}")
    print(r.status_code, r.text)
