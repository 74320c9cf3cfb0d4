"""Public results after finalisation (issue 10): the voting service answers the frozen snapshot's VALID counts,
not the live tallies that still count invalidated votes, and gives the portal the final list (finalists with
their texts, by region and sphere, composition vs the population). Real Postgres and Redis: votes cast through
the voting API, flushed by the flusher, invalidated and finalised through the admin API."""

from __future__ import annotations

import asyncio

import pytest

from admin_service.services import finalise as finalise_service
from shared.reference import demographics, regions
from shared.texts import localized_texts
from shared.votestore.tally import tallies
from tests.factories import make_campaign
from tests.integration.admin.test_finalise import cast_plan, flush
from tests.integration.voting.conftest import app_client, assert_problem, client, voting_app  # noqa: F401
from voting_service.services.results import NotFinalised
from voting_service.state import Services


@pytest.fixture(autouse=True)
def short_reconcile_wait(monkeypatch):
    monkeypatch.setattr(finalise_service, "RECONCILE_WAIT_S", 0.3)


A, B, C, D = range(4)
PLAN = [A, A, A, A, B, B, B, C, C, D]  # A 4, B 3, C 2, D 1; then two of A's and one of B's are invalidated
KK = {"summary": "Ауыл мұғалімі", "story": "Ауылда робототехника үйірмесін ашты.", "achievements": []}


async def test_public_results_after_finalisation_are_the_frozen_valid_counts(
        staff, pool, redis, settings, client, flusher_pool, flusher_redis, voting_pool, voting_redis):
    camp = await make_campaign(pool, redis, candidates=4, k=3)
    ids = camp.candidate_ids
    await pool.execute("UPDATE campaigns SET seats = 2 WHERE id = $1", camp.id)
    await pool.execute("UPDATE candidates SET texts = $2 WHERE id = $1", ids[B], {"kk": KK})
    receipts = await cast_plan(settings, client, camp, PLAN)
    wg = await staff("working_group")
    assert (await wg.post(f"/api/v1/campaigns/{camp.id}/close")).status_code == 200
    await flush(settings, flusher_pool, flusher_redis)
    bad = [rc for rc, cand in receipts if cand == ids[A]][:2] + [rc for rc, cand in receipts if cand == ids[B]][:1]
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations", json={"vote_ids": bad, "reason": "SIM farm"})
    assert r.status_code == 200, r.text

    # Closed, not finalised: the live tallies (every accepted vote), as before.
    await asyncio.sleep(0.25)
    live = (await client.get(f"/api/v1/campaigns/{camp.id}/results")).json()
    assert {c["candidate_id"]: c["votes"] for c in live["candidates"]} == \
        {str(ids[A]): 4, str(ids[B]): 3, str(ids[C]): 2, str(ids[D]): 1}
    assert live.get("finalised", False) is False

    r = await wg.post(f"/api/v1/campaigns/{camp.id}/finalise")
    assert r.status_code == 200, r.text
    await asyncio.sleep(0.25)  # the directory's and the results' caches (0.2 s in tests)

    r = await client.get(f"/api/v1/campaigns/{camp.id}/results")
    assert r.status_code == 200, r.text
    body = r.json()
    # Valid counts: A 4-2 = 2, B 3-1 = 2, C 2 (the tie goes to more raw votes: A, B, C), D 1; rank order.
    assert [(c["candidate_id"], c["votes"]) for c in body["candidates"]] == [
        (str(ids[A]), 2), (str(ids[B]), 2), (str(ids[C]), 2), (str(ids[D]), 1)]
    assert body["total_votes"] == 7 and body["invalidated_votes"] == 3
    assert body["status"] == "finalised" and body["finalised"] is True
    assert body["seats"] == [str(ids[A]), str(ids[B])]
    finalised_at = await pool.fetchval("SELECT finalised_at FROM campaign_results WHERE campaign_id = $1", camp.id)
    assert body["as_of"].startswith(finalised_at.isoformat()[:19])
    # Redis still holds the raw tallies (10 accepted votes); the public answer no longer follows them.
    assert sum((await tallies(redis, camp.id, 1)).values()) == 10

    # The final list for the portal, through the voting service's own role.
    services = Services.build(settings, voting_pool, voting_redis)
    try:
        final = await services.results.final(camp.id)
    finally:
        await services.close()
    assert [f["candidate_id"] for f in final["finalists"]] == [str(ids[A]), str(ids[B])]
    assert [(f["rank"], f["votes"]) for f in final["finalists"]] == [(1, 2), (2, 2)]
    a, b = final["finalists"]
    assert b["full_name"].startswith("Кандидат ") and b["story"] and b["texts"] == {"kk": KK}
    assert localized_texts(b, "kk").story == KK["story"] and localized_texts(b, "en").lang == "kk"
    assert a["texts"] == {} and localized_texts(a, "kk").lang == "ru"
    assert final["by_region"] == {a["region"]: [str(ids[A])], b["region"]: [str(ids[B])]}  # distinct (factory)
    assert sum(len(v) for v in final["by_sphere"].values()) == 2
    comp = final["composition"]
    assert comp["total"] == 2 and {row["code"] for row in comp["region"]} == {r["code"] for r in regions()}
    assert sum(row["count"] for row in comp["region"]) == 2
    female = next(row for row in comp["gender"] if row["code"] == "female")
    g = demographics()["gender"]
    assert female["population_share"] == round(g["female"] / (g["female"] + g["male"]), 4)
    snapshot = await pool.fetchrow("SELECT digest, merkle_root FROM campaign_results WHERE campaign_id = $1", camp.id)
    assert (final["digest"], final["merkle_root"]) == (snapshot["digest"], snapshot["merkle_root"])
    assert final["counted_votes"] == 7 and final["seats_wanted"] == 2


async def test_final_list_of_an_unfinalised_campaign_is_refused(settings, pool, redis, voting_pool, voting_redis):
    camp = await make_campaign(pool, redis, candidates=2)
    services = Services.build(settings, voting_pool, voting_redis)
    try:
        with pytest.raises(NotFinalised):
            await services.results.final(camp.id)
    finally:
        await services.close()


async def test_a_finalised_state_without_a_snapshot_is_not_answered_from_live_tallies(
        settings, pool, redis, voting_pool, voting_redis):
    """Cannot happen through the admin service (one transaction); if it did, no live count is passed off as
    final."""
    camp = await make_campaign(pool, redis, candidates=2, live_results=True)
    await pool.execute("UPDATE campaigns SET state = 'finalised', finalised_at = now() WHERE id = $1", camp.id)
    async with app_client(settings, voting_pool, voting_redis) as c:
        assert_problem(await c.get(f"/api/v1/campaigns/{camp.id}/results"), 404, "not_finalised")
