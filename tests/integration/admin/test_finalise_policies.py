"""Finalisation under a diversity policy, through the admin API on real Postgres and Redis: the preview
changes nothing and obeys the same readiness rules; finalise with bounds freezes the list the preview showed
and its report names who entered and who left and what it cost; an impossible policy is a 422 that names the
bound; malformed policies are 422 with the field."""

from __future__ import annotations

import pytest

from admin_service.services import finalise as service
from tests.factories import make_campaign
from tests.integration.admin.helpers import problem
from tests.integration.admin.test_finalise import cast_plan, flush, recompute_digest
from tests.integration.voting.conftest import client, voting_app  # noqa: F401 (fixtures: the voting app)


@pytest.fixture(autouse=True)
def short_reconcile_wait(monkeypatch):
    monkeypatch.setattr(service, "RECONCILE_WAIT_S", 0.3)


# Five candidates, three seats. Valid votes 4, 3, 2, 1, 0; genders male, female, male, female, male (the
# factory alternates). top_votes seats 0, 1, 2 (two men); "at least two women" seats 0, 1, 3 instead:
# 3 entered, 2 left, at a cost of 2 - 1 = 1 valid vote.
PLAN = [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
TWO_WOMEN = {"kind": "bounds", "bounds": [{"dimension": "gender", "value": "female", "min": 2}]}


async def _state(pool, camp) -> dict:
    return {
        "campaign": await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id),
        "snapshots": await pool.fetchval("SELECT count(*) FROM campaign_results WHERE campaign_id = $1", camp.id),
        "statuses": [r["status"] for r in await pool.fetch(
            "SELECT status FROM candidates WHERE id = ANY($1::bigint[]) ORDER BY id", camp.candidate_ids)],
        "finalise_audits": await pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE entity_type = 'campaign' AND entity_id = $1 "
            "AND action = 'campaign.finalise'", str(camp.id)),
    }


async def test_preview_then_finalise_with_bounds(staff, pool, redis, settings, client, flusher_pool,
                                                 flusher_redis):
    camp = await make_campaign(pool, redis, candidates=5, k=3)
    await pool.execute("UPDATE campaigns SET seats = 3 WHERE id = $1", camp.id)
    ids = [str(i) for i in camp.candidate_ids]
    wg, auditor = await staff("working_group"), await staff("auditor")
    preview_url = f"/api/v1/campaigns/{camp.id}/finalise/preview"

    body = problem(await auditor.post(preview_url, json={"policy": TWO_WOMEN}), 409, "not_ready")
    assert body["reason"] == "open"
    await cast_plan(settings, client, camp, PLAN)
    assert (await wg.post(f"/api/v1/campaigns/{camp.id}/close")).status_code == 200
    body = problem(await auditor.post(preview_url, json={"policy": TWO_WOMEN}), 409, "not_ready")
    assert body["reason"] == "not_drained"
    await flush(settings, flusher_pool, flusher_redis)
    problem(await (await staff("secretariat")).post(preview_url), 403, "forbidden")

    before = await _state(pool, camp)
    r = await auditor.post(preview_url, json={"policy": TWO_WOMEN})
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["frozen"] is False and "merkle_root" not in shown
    assert [s["candidate_id"] for s in shown["seats"]] == [ids[0], ids[1], ids[3]]
    versus = shown["report"]["compared_with_top_votes"]
    assert [p["candidate_id"] for p in versus["entered"]] == [ids[3]]
    assert [p["candidate_id"] for p in versus["left"]] == [ids[2]]
    assert (versus["valid_votes_top_votes"], versus["valid_votes_selected"], versus["votes_cost"]) == (9, 8, 1)
    assert shown["report"]["bounds"] == [{"dimension": "gender", "value": "female", "min": 2, "max": None,
                                          "seats": 2, "binding": True}]
    assert next(g for g in shown["report"]["representation"]["gender"] if g["code"] == "female")["count"] == 2
    # Nothing frozen, nothing moved; the preview itself is on the record.
    assert await _state(pool, camp) == before
    assert before["campaign"] == "closed" and before["snapshots"] == 0 and before["finalise_audits"] == 0
    assert set(before["statuses"]) == {"on_ballot"}
    previews = await pool.fetch("SELECT actor_email, new_value FROM audit_log WHERE entity_id = $1 "
                                "AND action = 'campaign.finalise_preview'", str(camp.id))
    assert len(previews) == 1 and previews[0]["actor_email"] == auditor.user["email"]

    # The default policy previews top_votes, with nothing entered or left.
    r = await wg.post(preview_url)
    assert r.status_code == 200, r.text
    assert [s["candidate_id"] for s in r.json()["seats"]] == ids[:3]
    assert r.json()["report"]["compared_with_top_votes"]["votes_cost"] == 0

    # Finalise with the same policy: the list and the digest the preview showed.
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/finalise", json={"policy": TWO_WOMEN})
    assert r.status_code == 200, r.text
    frozen = r.json()
    assert [s["candidate_id"] for s in frozen["seats"]] == [ids[0], ids[1], ids[3]]
    assert frozen["digest"] == shown["digest"] == recompute_digest(frozen)
    assert frozen["policy"] == ('{"bounds":[{"dimension":"gender","max":null,"min":2,"value":"female"}],'
                                '"kind":"bounds"}')
    assert frozen["report"]["policy"] == "bounds"
    assert frozen["report"]["policy_spec"] == {"kind": "bounds", "bounds": [
        {"dimension": "gender", "value": "female", "min": 2, "max": None}]}
    assert frozen["report"]["compared_with_top_votes"] == versus
    snap = (await auditor.get(f"/api/v1/campaigns/{camp.id}/finalisation")).json()
    assert snap["report"]["compared_with_top_votes"]["entered"][0]["candidate_id"] == ids[3]
    statuses = dict(await pool.fetch("SELECT id::text, status FROM candidates WHERE id = ANY($1::bigint[])",
                                     camp.candidate_ids))
    assert [statuses[i] for i in ids] == ["finalist", "finalist", "not_selected", "finalist", "not_selected"]
    problem(await auditor.post(preview_url), 409, "conflict")  # finalised: nothing left to preview


async def test_impossible_and_malformed_policies(staff, pool, redis, settings, client, flusher_pool,
                                                 flusher_redis):
    camp = await make_campaign(pool, redis, candidates=5, k=3)
    await pool.execute("UPDATE campaigns SET seats = 3 WHERE id = $1", camp.id)
    await cast_plan(settings, client, camp, [0, 1])
    await pool.execute("UPDATE campaigns SET closes_at = now() - interval '1 minute' WHERE id = $1", camp.id)
    await flush(settings, flusher_pool, flusher_redis)
    wg = await staff("working_group")
    url = f"/api/v1/campaigns/{camp.id}/finalise"

    def bounds(*items):
        return {"policy": {"kind": "bounds", "bounds": list(items)}}

    # One bound alone: only two women on the ballot.
    body = problem(await wg.post(url, json=bounds({"dimension": "gender", "value": "female", "min": 3})),
                   422, "infeasible_policy")
    assert "gender female: min 3 but only 2 candidate(s) on the ballot" in body["detail"]
    assert body["bound"] == {"dimension": "gender", "value": "female", "min": 3, "max": None}
    # Two bounds that hold alone but not together with three seats: both named.
    body = problem(await wg.post(f"{url}/preview", json=bounds(
        {"dimension": "region", "value": "KZ-10", "max": 3},  # not involved
        {"dimension": "gender", "value": "female", "min": 2},
        {"dimension": "gender", "value": "male", "min": 2})), 422, "infeasible_policy")
    assert [(b["value"], b["min"]) for b in body["bounds"]] == [("female", 2), ("male", 2)]
    assert "gender female: min 2" in body["detail"] and "gender male: min 2" in body["detail"]

    for policy, field in (
        ({"kind": "bounds", "bounds": [{"dimension": "region", "value": "KZ-00", "min": 1}]},
         "policy.bounds[0].value"),
        ({"kind": "bounds", "bounds": [{"dimension": "gender", "value": "male", "min": 3, "max": 1}]},
         "policy.bounds[0].min"),
        ({"kind": "bounds", "bounds": [{"dimension": "gender", "value": "male", "min": 1},
                                       {"dimension": "gender", "value": "male", "max": 2}]}, "policy.bounds[1]"),
        ({"kind": "bounds", "bounds": [{"dimension": "gender", "value": "male"}]}, "policy.bounds[0]"),
        ({"kind": "proportional", "dimensions": ["gender", "gender"]}, "policy.dimensions"),
    ):
        body = problem(await wg.post(url, json={"policy": policy}), 422, "invalid_request")
        assert body["field"] == field, body
    # Spheres have no population share: not a dimension of a proportional policy (the type says so).
    body = problem(await wg.post(url, json={"policy": {"kind": "proportional", "dimensions": ["region", "sphere"]}}),
                   422, "invalid_request")
    assert body["errors"][0]["key"] == "policy.dimensions[1]" and "sphere" in body["detail"]
    for policy in ({"kind": "quota"}, {"kind": "bounds", "bounds": [{"dimension": "planet", "value": "x"}]},
                   {"kind": "bounds", "bounds": [{"dimension": "gender", "value": "male", "min": -1}]},
                   {"kind": "proportional", "dimensions": ["gender"], "tolerance": 1.5}, "diversity"):
        body = problem(await wg.post(url, json={"policy": policy}), 422, "invalid_request")
        assert "policy" in body["detail"], body
    # Nothing of this froze or closed anything.
    assert await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id) == "published"
    assert await pool.fetchval("SELECT count(*) FROM campaign_results WHERE campaign_id = $1", camp.id) == 0


async def test_proportional_by_gender(staff, pool, redis, settings, client, flusher_pool, flusher_redis):
    """Women are 51.1 % of the population: of 4 seats, 2.04 ± 0 % rounded outward is 2 to 3. The top four
    by votes are three men and one woman, so a woman enters and a man leaves."""
    camp = await make_campaign(pool, redis, candidates=7, k=3)
    await pool.execute("UPDATE campaigns SET seats = 4 WHERE id = $1", camp.id)
    # genders m f m f m f m; votes 6 5 4 3 2 1 0 -> top four: 0 (m), 1 (f), 2 (m), 3 (f)... make 3 the
    # weakest woman instead: give candidate 4 (m) more votes than 3.
    plan = [0] * 6 + [1] * 5 + [2] * 4 + [4] * 3 + [3] * 2 + [5]
    await cast_plan(settings, client, camp, plan)
    await pool.execute("UPDATE campaigns SET closes_at = now() - interval '1 minute' WHERE id = $1", camp.id)
    await flush(settings, flusher_pool, flusher_redis)
    wg = await staff("working_group")
    ids = [str(i) for i in camp.candidate_ids]
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/finalise/preview",
                      json={"policy": {"kind": "proportional", "dimensions": ["gender"], "tolerance": 0}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [s["candidate_id"] for s in out["seats"]] == [ids[0], ids[1], ids[2], ids[3]]
    versus = out["report"]["compared_with_top_votes"]
    assert ([p["candidate_id"] for p in versus["entered"]], [p["candidate_id"] for p in versus["left"]]) == \
        ([ids[3]], [ids[4]])
    assert versus["votes_cost"] == 1
    female = next(b for b in out["report"]["bounds"] if b["value"] == "female")
    assert (female["min"], female["max"], female["seats"]) == (2, 3, 2)
    assert 0.5 < female["population_share"] < 0.52
    # The published campaign past its window was not closed by the preview.
    assert await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id) == "published"
