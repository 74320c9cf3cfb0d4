"""The results page of the admin UI: the count per candidate for every role, the finalise form for the
working group once voting has ended (a refusal comes back on the page with its reason and changes nothing),
and the frozen result after finalisation, equal to what the JSON API exports."""

from __future__ import annotations

import pytest

from admin_service.services import finalise as finalise_service
from tests.factories import make_campaign
from tests.integration.admin.test_finalise import cast_plan, flush
from tests.integration.admin.test_web_pages import html, signed_in  # noqa: F401 (signed_in is a fixture)
from tests.integration.voting.conftest import client, voting_app  # noqa: F401 (fixtures: the voting app)


@pytest.fixture(autouse=True)
def short_reconcile_wait(monkeypatch):
    monkeypatch.setattr(finalise_service, "RECONCILE_WAIT_S", 0.3)


async def test_results_finalise_through_the_form_and_the_frozen_result(signed_in, pool, redis, settings, client):
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    await pool.execute("UPDATE campaigns SET seats = 2 WHERE id = $1", camp.id)
    await cast_plan(settings, client, camp, [2, 2, 2, 0, 0, 1])
    wg, auditor = await signed_in("working_group"), await signed_in("auditor")
    page_url, post_url = f"/campaigns/{camp.id}/results", f"/campaigns/{camp.id}/finalise"

    # Open: counts for everyone (the live tally is ahead of the database), no finalise form yet.
    body = html(await auditor.get(page_url))
    assert 'data-testid="counts"' in body and 'data-testid="finalise"' not in body
    assert f'data-candidate="{camp.candidate_ids[2]}"' in body
    assert 'data-testid="finalise"' not in html(await wg.get(page_url))
    assert f'href="/campaigns/{camp.id}/results"' in html(await auditor.get(f"/campaigns/{camp.id}"))

    # Closed with votes still in the stream: the form is offered, the refusal comes back with its reason.
    r = await wg.post(f"/campaigns/{camp.id}/close", data={"csrf_token": wg.token})
    assert r.status_code == 303, r.text
    assert 'data-testid="finalise"' in html(await wg.get(page_url))
    body = html(await wg.post(post_url, data={"csrf_token": wg.token}), 409)
    assert 'data-code="not_ready"' in body and "ещё не записанных в базу голосов" in body and "drained" not in body
    assert await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id) == "closed"

    # Other roles cannot finalise; without the CSRF token nobody can.
    html(await auditor.post(post_url, data={"csrf_token": auditor.token}), 403)
    assert (await wg.post(post_url, data={})).status_code == 403

    await flush(settings, pool, redis)
    r = await wg.post(post_url, data={"csrf_token": wg.token})
    assert r.status_code == 303 and r.headers["location"] == f"{page_url}?ok=finalised", r.text
    body = html(await auditor.get(r.headers["location"]))
    snap = (await auditor.get(f"/api/v1/campaigns/{camp.id}/finalisation")).json()
    assert snap["counted_votes"] == 6
    for value in (snap["digest"], snap["merkle_root"]):
        assert value in body
    seated = body.split('data-testid="seated"')[1].split("</ol>")[0]
    assert seated.index(f"/candidates/{camp.candidate_ids[2]}") < seated.index(f"/candidates/{camp.candidate_ids[0]}")
    assert f"/candidates/{camp.candidate_ids[1]}" not in seated
    assert 'data-testid="finalise"' not in html(await wg.get(page_url))  # frozen: nothing left to do

    # Finalising again through the form: refused on the page, the snapshot unchanged.
    body = html(await wg.post(post_url, data={"csrf_token": wg.token}), 409)
    assert 'data-code="conflict"' in body
    assert (await auditor.get(f"/api/v1/campaigns/{camp.id}/finalisation")).json()["digest"] == snap["digest"]


async def test_results_page_of_an_unknown_campaign_is_the_404_page(signed_in):
    c = await signed_in("auditor")
    html(await c.get("/campaigns/987654321/results"), 404)
    html(await c.get("/campaigns/abc/results"), 404)  # as for every malformed id in the admin


async def test_policy_preview_and_finalise_through_the_form(signed_in, pool, redis, settings, client):
    """Genders alternate male, female, ... (the factory): top votes would seat candidates 0 and 2 (two men);
    "at least one woman" seats 0 and 1 instead."""
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    await pool.execute("UPDATE campaigns SET seats = 2 WHERE id = $1", camp.id)
    await cast_plan(settings, client, camp, [0, 0, 0, 2, 2, 1])
    wg, auditor = await signed_in("working_group"), await signed_in("auditor")
    ids = camp.candidate_ids
    page_url = f"/campaigns/{camp.id}/results"
    assert (await wg.post(f"/campaigns/{camp.id}/close", data={"csrf_token": wg.token})).status_code == 303
    await flush(settings, pool, redis)

    body = html(await auditor.get(page_url))  # auditors may preview, not finalise
    assert 'data-testid="preview"' in body and 'data-testid="finalise"' not in body
    one_woman = {"policy_kind": "bounds", "bound_group_0": "gender:female", "bound_min_0": "1"}
    body = html(await auditor.post(f"/campaigns/{camp.id}/finalise/preview", data={**one_woman,
                                                                               "csrf_token": auditor.token}))
    seated = body.split('data-testid="preview-seated"')[1].split("</ol>")[0]
    assert f"/candidates/{ids[0]}" in seated and f"/candidates/{ids[1]}" in seated
    assert f"/candidates/{ids[2]}" not in seated
    assert f"/candidates/{ids[1]}" in body.split('data-testid="entered"')[1].split("</ul>")[0]
    assert f"/candidates/{ids[2]}" in body.split('data-testid="left"')[1].split("</ul>")[0]
    assert 'data-testid="votes-cost">1<' in body
    assert 'value="gender:female" selected' in body  # the form keeps the choice
    assert await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id) == "closed"

    body = html(await wg.post(f"/campaigns/{camp.id}/finalise/preview", data={
        "policy_kind": "bounds", "bound_group_0": "gender:female", "bound_min_0": "3", "csrf_token": wg.token}), 422)
    assert 'data-code="infeasible_policy"' in body and "в бюллетене таких кандидатов только 1" in body
    body = html(await wg.post(f"/campaigns/{camp.id}/finalise", data={
        "policy_kind": "bounds", "bound_group_0": "gender:female", "bound_min_0": "x", "csrf_token": wg.token}), 422)
    assert 'data-code="invalid_request"' in body
    for bad in ({"policy_kind": "bounds", "bound_group_0": "gender:female", "bound_min_0": "²"},
                {"policy_kind": "bounds", "bound_group_0": "gender:female", "bound_max_0": "9" * 30},
                {"policy_kind": "proportional", "dimension_region": "on", "tolerance": "nan"},
                {"policy_kind": "proportional", "dimension_region": "on", "tolerance": "1e999"}):
        body = html(await wg.post(f"/campaigns/{camp.id}/finalise/preview", data={**bad, "csrf_token": wg.token}), 422)
        assert 'data-code="invalid_request"' in body, bad  # never a 500
    assert await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id) == "closed"

    r = await wg.post(f"/campaigns/{camp.id}/finalise", data={**one_woman, "csrf_token": wg.token})
    assert r.status_code == 303, r.text
    snap = (await auditor.get(f"/api/v1/campaigns/{camp.id}/finalisation")).json()
    assert [s["candidate_id"] for s in snap["seats"]] == [str(ids[0]), str(ids[1])]
    body = html(await auditor.get(f"{page_url}?lang=en"))
    assert 'data-testid="policy-kind">Bounds per group<' in body
    assert f"/candidates/{ids[2]}" in body.split('data-testid="left"')[1].split("</ul>")[0]
