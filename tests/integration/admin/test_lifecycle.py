"""The candidate lifecycle: one table of transitions, role-gated by target, reasons where the concept asks,
preconditions (verification answered, expert review written), history + audit, nothing changed on refusal."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from admin_service.services.lifecycle import SYSTEM_TRANSITIONS, TRANSITIONS, allowed_targets, roles_for_target
from tests.integration.admin.helpers import counts, create_candidate, move, problem, set_status, status_of

STATUSES = ("nominated", "under_verification", "verified", "rejected", "under_review", "recommended",
            "not_recommended", "shortlisted", "declined", "on_ballot", "finalist", "not_selected")
REASON = "Мотивированное заключение экспертной группы по кандидату."


async def test_the_whole_path_through_the_api(staff, pool):
    sec, exp, wg = await staff("secretariat"), await staff("expert"), await staff("working_group")
    card = await create_candidate(sec)
    cid = card["id"]

    r = await move(sec, cid, "under_verification")
    assert r.status_code == 200 and r.json()["status"] == "under_verification"
    problem(await move(sec, cid, "verified"), 409, "invalid_transition")  # nothing answered yet
    req = (await sec.post(f"/api/v1/candidates/{cid}/verification-requests",
                          json={"authority": "ОВП акимата г. Алматы", "question": "Подтвердите место работы."})).json()
    problem(await move(sec, cid, "verified"), 409, "invalid_transition")  # sent, not answered
    assert (await sec.patch(f"/api/v1/verification-requests/{req['id']}",
                            json={"outcome": "confirmed", "notes": "Работает с 2015 г."})).status_code == 200
    assert (await move(sec, cid, "verified")).json()["status"] == "verified"
    assert (await move(sec, cid, "under_review")).json()["status"] == "under_review"

    problem(await move(exp, cid, "recommended", REASON), 409, "invalid_transition")  # no review yet
    r = await exp.post(f"/api/v1/candidates/{cid}/reviews", json={"recommend": True, "motivation": REASON})
    assert r.status_code == 201
    problem(await move(exp, cid, "recommended"), 422, "invalid_request")  # a conclusion is motivated
    problem(await move(exp, cid, "recommended", "   "), 422, "invalid_request")
    r = await move(exp, cid, "recommended", REASON)
    assert r.status_code == 200 and r.json()["allowed_transitions"] == []  # the expert's part is done
    r = await move(wg, cid, "shortlisted")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "shortlisted"

    assert [(h["from"], h["to"]) for h in body["history"]] == [
        (None, "nominated"), ("nominated", "under_verification"), ("under_verification", "verified"),
        ("verified", "under_review"), ("under_review", "recommended"), ("recommended", "shortlisted")]
    assert body["history"][4]["reason"] == REASON and body["history"][4]["actor_id"] == exp.user["id"]
    assert body["history"][5]["actor"] == wg.user["email"]
    assert body["review_summary"] == {"recommend": 1, "against": 0}
    audit = await pool.fetch("SELECT action, actor_email, old_value, new_value, reason FROM audit_log "
                             "WHERE entity_type = 'candidate' AND entity_id = $1 AND action = 'candidate.transition' "
                             "ORDER BY id", cid)
    assert [(a["old_value"]["status"], a["new_value"]["status"]) for a in audit] == [
        (f, t) for f, t in (("nominated", "under_verification"), ("under_verification", "verified"),
                            ("verified", "under_review"), ("under_review", "recommended"),
                            ("recommended", "shortlisted"))]
    assert audit[3]["reason"] == REASON and audit[3]["actor_email"] == exp.user["email"]


async def test_pairs_outside_the_table_are_409_and_change_nothing(staff, pool):
    """Every (from, to) not in the table, tried by one who holds every role that may transition."""
    everyone = await staff("secretariat", "expert", "working_group")
    card = await create_candidate(everyone)
    cid = card["id"]
    refused = 0
    for frm, to in itertools.product(STATUSES, STATUSES):
        if (frm, to) in TRANSITIONS:
            continue
        await set_status(pool, cid, frm)
        before = await counts(pool, cid)
        r = await move(everyone, cid, to, REASON)
        problem(r, 409, "invalid_transition")
        assert await status_of(pool, cid) == frm and await counts(pool, cid) == before, (frm, to)
        refused += 1
    assert refused == len(STATUSES) ** 2 - len(TRANSITIONS)


@pytest.mark.parametrize(("frm", "to"), sorted(SYSTEM_TRANSITIONS))
async def test_system_transitions_never_through_the_endpoint(staff, pool, frm, to):
    everyone = await staff("secretariat", "expert", "working_group")
    card = await create_candidate(everyone)
    await set_status(pool, card["id"], frm)
    problem(await move(everyone, card["id"], to, REASON), 409, "invalid_transition")
    assert await status_of(pool, card["id"]) == frm


@pytest.mark.parametrize(("frm", "to"), sorted(TRANSITIONS))
async def test_a_role_not_allowed_for_the_target_is_403(staff, pool, frm, to):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    await set_status(pool, card["id"], frm)
    before = await counts(pool, card["id"])
    for role in {"secretariat", "expert", "working_group"} - roles_for_target(to):
        c = await staff(role)
        problem(await move(c, card["id"], to, REASON), 403, "forbidden")
    for role in ("admin", "auditor"):  # never move candidates: refused by the route's guard
        c = await staff(role)
        problem(await move(c, card["id"], to, REASON), 403, "forbidden")
    assert await status_of(pool, card["id"]) == frm and await counts(pool, card["id"]) == before


@pytest.mark.parametrize(("frm", "to", "role"), [("under_verification", "rejected", "secretariat"),
                                                 ("recommended", "declined", "working_group"),
                                                 ("under_review", "not_recommended", "expert")])
async def test_reasons_where_the_concept_asks(staff, pool, frm, to, role):
    c = await staff(role)
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    await set_status(pool, card["id"], frm)
    if role == "expert":
        await c.post(f"/api/v1/candidates/{card['id']}/reviews", json={"recommend": False, "motivation": REASON})
    problem(await move(c, card["id"], to), 422, "invalid_request")
    assert await status_of(pool, card["id"]) == frm
    r = await move(c, card["id"], to, "  " + REASON + "  ")
    assert r.status_code == 200 and r.json()["history"][-1]["reason"] == REASON


async def test_a_refuted_answer_blocks_verified(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    cid = card["id"]
    await move(sec, cid, "under_verification")
    ids = []
    for q in ("Подтвердите стаж.", "Подтвердите награду."):
        r = await sec.post(f"/api/v1/candidates/{cid}/verification-requests", json={"authority": "ОВП", "question": q})
        ids.append(r.json()["id"])
    await sec.patch(f"/api/v1/verification-requests/{ids[0]}", json={"outcome": "confirmed"})
    await sec.patch(f"/api/v1/verification-requests/{ids[1]}", json={"outcome": "refuted", "notes": "Нет данных"})
    body = problem(await move(sec, cid, "verified"), 409, "invalid_transition")
    assert "refuted" in body["detail"]
    r = await move(sec, cid, "rejected", "Сведения о награде не подтвердились.")
    assert r.status_code == 200 and r.json()["status"] == "rejected"


async def test_unknown_candidate_and_bad_bodies(staff, pool):
    sec = await staff("secretariat")
    problem(await move(sec, "123456789012", "under_verification"), 404, "not_found")
    card = await create_candidate(sec)
    url = f"/api/v1/candidates/{card['id']}/transitions"
    for body in ({"to": "famous"}, {"to": "verified", "extra": 1}, {"reason": "x"}, {"to": 5}, [],
                 {"to": "rejected", "reason": "x" * 4001}):
        problem(await sec.post(url, json=body), (400, 422), "invalid_request")
    assert await status_of(pool, card["id"]) == "nominated" and await counts(pool, card["id"]) == (1, 1)


async def test_concurrent_transitions_of_one_candidate_serialise(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    results = await asyncio.gather(*(move(sec, card["id"], "under_verification") for _ in range(6)))
    assert sorted(r.status_code for r in results) == [200] + [409] * 5
    history, audit = await counts(pool, card["id"])
    assert (history, audit) == (2, 2)


def test_allowed_targets_follow_the_table():
    assert allowed_targets("nominated", {"secretariat"}) == ["under_verification"]
    assert allowed_targets("under_verification", {"secretariat"}) == ["verified", "rejected"]
    assert allowed_targets("under_review", {"expert"}) == ["recommended", "not_recommended"]
    assert allowed_targets("under_review", {"secretariat", "auditor"}) == []
    assert allowed_targets("recommended", {"working_group"}) == ["shortlisted", "declined"]
    assert allowed_targets("shortlisted", {"secretariat", "expert", "working_group", "admin"}) == []
    assert not any(rule.roles & {"admin", "auditor"} for rule in TRANSITIONS.values())
