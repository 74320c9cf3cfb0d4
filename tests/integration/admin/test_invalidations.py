"""Fraud review invalidates votes without deleting them; results, receipts, export and audit show it."""

from __future__ import annotations

import csv
import io

from tests.factories import make_campaign
from tests.integration.admin.helpers import problem
from tests.integration.voting.conftest import cast, client, mint_token, voting_app  # noqa: F401 (fixtures)
from voting_service.flusher import Flusher


async def voted_campaign(pool, redis, settings, voting_client):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    receipts = []
    for i in range(4):
        token = mint_token(settings, f"voter-{i}")
        for cand in camp.candidate_ids[: 1 + i % 3]:
            r = await cast(voting_client, camp.id, cand, token)
            assert r.status_code == 201, r.text
            receipts.append((r.json()["receipt"], str(cand)))
    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    await f.drain_once()
    return camp, receipts


async def test_invalidate_marks_votes_and_everything_shows_it(staff, pool, redis, settings, client):
    camp, receipts = await voted_campaign(pool, redis, settings, client)
    wg = await staff("working_group")
    bad = [rc for rc, cand in receipts if cand == str(camp.candidate_ids[0])][:2]
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations", json={"vote_ids": bad, "reason": "SIM farm"})
    assert r.status_code == 200, r.text
    assert r.json()["invalidated"] == 2
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == len(receipts)
    rows = await pool.fetch("SELECT invalidation_reason, invalidated_by FROM votes WHERE vote_id = ANY($1)", bad)
    assert {(x["invalidation_reason"], x["invalidated_by"]) for x in rows} == {("SIM farm", wg.user["email"])}
    assert (await client.get(f"/api/v1/receipts/{bad[0]}")).json()["status"] == "invalidated"

    res = (await wg.get(f"/api/v1/campaigns/{camp.id}/results")).json()
    first = next(c for c in res["candidates"] if c["candidate_id"] == str(camp.candidate_ids[0]))
    assert (first["raw"], first["invalidated"], first["valid"]) == (4, 2, 2)

    again = await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations", json={"vote_ids": bad, "reason": "again"})
    assert again.status_code == 200 and again.json()["invalidated"] == 0 and again.json()["already_invalid"] == 2

    auditor = await staff("auditor")
    entries = (await auditor.get("/api/v1/audit", params={"action": "votes.invalidate"})).json()["items"]
    assert any(e["entity_id"] == str(camp.id) and e["reason"] == "SIM farm" for e in entries)

    text = (await auditor.get(f"/api/v1/campaigns/{camp.id}/export.csv")).text
    table = list(csv.DictReader(io.StringIO(text)))
    assert {row["candidate_id"] for row in table} == {str(c) for c in camp.candidate_ids}
    row = next(x for x in table if x["candidate_id"] == str(camp.candidate_ids[0]))
    assert (row["raw"], row["invalidated"], row["valid"]) == ("4", "2", "2")


async def test_invalidation_refuses_unknown_votes_and_bad_input_and_changes_nothing(staff, pool, redis, settings,
                                                                                     client):
    camp, receipts = await voted_campaign(pool, redis, settings, client)
    wg = await staff("working_group")
    url = f"/api/v1/campaigns/{camp.id}/invalidations"
    problem(await wg.post(url, json={"vote_ids": [receipts[0][0], "1.0.1-0.nosuchvote"], "reason": "x"}), 404)
    problem(await wg.post(url, json={"vote_ids": [receipts[0][0]], "reason": "   "}), 422, "invalid_request")
    problem(await wg.post(url, json={"vote_ids": [], "reason": "x"}), 422, "invalid_request")
    problem(await wg.post(url, json={"cluster_id": "c1", "reason": "x"}), 422, "invalid_request")
    problem(await wg.post(url, json={"vote_ids": [receipts[0][0]], "reason": "x", "extra": 1}), (400, 422))
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1 AND invalidated_at IS NOT NULL",
                               camp.id) == 0


async def test_no_invalidation_after_finalisation(staff, pool, redis, settings, client):
    camp, receipts = await voted_campaign(pool, redis, settings, client)
    await pool.execute("UPDATE campaigns SET state = 'finalised', finalised_at = now() WHERE id = $1", camp.id)
    wg = await staff("working_group")
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations", json={"vote_ids": [receipts[0][0]], "reason": "x"})
    problem(r, 409)


async def test_csv_cells_cannot_become_formulas(staff, pool, redis, settings, client):
    camp, _ = await voted_campaign(pool, redis, settings, client)
    await pool.execute("UPDATE candidates SET full_name = '=HYPERLINK(\"http://x\")' WHERE id = $1",
                       camp.candidate_ids[0])
    text = (await (await staff("auditor")).get(f"/api/v1/campaigns/{camp.id}/export.csv")).text
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
