"""Verification requests (secretariat, answered once) and expert reviews (one motivated review per expert per
candidate, only while the candidate is under review)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.admin.helpers import create_candidate, problem, set_status

MOTIVATION = "История подтверждена, вклад в развитие региона значителен."


def vr_url(cid: str) -> str:
    return f"/api/v1/candidates/{cid}/verification-requests"


def review_url(cid: str) -> str:
    return f"/api/v1/candidates/{cid}/reviews"


async def test_request_and_answer_once(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    r = await sec.post(vr_url(card["id"]), json={"authority": "ОВП Туркестанской области",
                                                 "question": "Подтвердите, что кандидат руководит НКО."})
    assert r.status_code == 201
    req = r.json()
    assert req["status"] == "sent" and isinstance(req["id"], str) and req["requested_by"] == sec.user["email"]
    r = await sec.patch(f"/api/v1/verification-requests/{req['id']}",
                        json={"outcome": "confirmed", "notes": "Подтверждено письмом №12"})
    assert r.status_code == 200
    assert r.json()["status"] == "confirmed" and r.json()["answered_by"] == sec.user["email"]
    problem(await sec.patch(f"/api/v1/verification-requests/{req['id']}", json={"outcome": "refuted"}), 409,
            "conflict")
    row = await pool.fetchrow("SELECT status, notes FROM verification_requests WHERE id = $1", int(req["id"]))
    assert tuple(row) == ("confirmed", "Подтверждено письмом №12")
    card = (await sec.get(f"/api/v1/candidates/{card['id']}")).json()
    assert [v["status"] for v in card["verification_requests"]] == ["confirmed"]
    actions = await pool.fetch("SELECT action FROM audit_log WHERE entity_type = 'candidate' AND entity_id = $1 "
                               "ORDER BY id", card["id"])
    assert [a["action"] for a in actions] == ["candidate.create", "verification.request", "verification.outcome"]


async def test_concurrent_answers_one_wins(staff):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    req = (await sec.post(vr_url(card["id"]), json={"authority": "ОВП", "question": "Подтвердите стаж."})).json()
    results = await asyncio.gather(*(sec.patch(f"/api/v1/verification-requests/{req['id']}",
                                               json={"outcome": o}) for o in ("confirmed", "refuted") * 3))
    assert sorted(r.status_code for r in results) == [200] + [409] * 5


async def test_verification_errors(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    problem(await sec.post(vr_url("987654321098"), json={"authority": "ОВП", "question": "Вопрос?"}), 404,
            "not_found")
    problem(await sec.patch("/api/v1/verification-requests/987654321098", json={"outcome": "confirmed"}), 404,
            "not_found")
    for body in ({"authority": "ОВП"}, {"authority": "ОВП", "question": "Вопрос?", "x": 1},
                 {"authority": "", "question": "Вопрос?"}, {"authority": "ОВП", "question": 12}):
        problem(await sec.post(vr_url(card["id"]), json=body), (400, 422), "invalid_request")
    req = (await sec.post(vr_url(card["id"]), json={"authority": "ОВП", "question": "Вопрос?"})).json()
    for body in ({"outcome": "maybe"}, {"outcome": "confirmed", "notes": 5}, {"notes": "x"}):
        problem(await sec.patch(f"/api/v1/verification-requests/{req['id']}", json=body), (400, 422),
                "invalid_request")
    assert await pool.fetchval("SELECT count(*) FROM verification_requests WHERE candidate_id = $1",
                               int(card["id"])) == 1
    for role in ("expert", "working_group", "auditor", "admin"):
        c = await staff(role)
        problem(await c.post(vr_url(card["id"]), json={"authority": "ОВП", "question": "Вопрос?"}), 403, "forbidden")
        problem(await c.patch(f"/api/v1/verification-requests/{req['id']}", json={"outcome": "confirmed"}), 403,
                "forbidden")


async def test_one_motivated_review_per_expert_while_under_review(staff, pool):
    sec, exp1, exp2 = await staff("secretariat"), await staff("expert"), await staff("expert")
    card = await create_candidate(sec)
    cid = card["id"]
    body = problem(await exp1.post(review_url(cid), json={"recommend": True, "motivation": MOTIVATION}), 409,
                   "conflict")
    assert "under review" in body["detail"]
    await set_status(pool, cid, "under_review")
    r = await exp1.post(review_url(cid), json={"recommend": True, "motivation": MOTIVATION})
    assert r.status_code == 201
    assert r.json()["recommend"] is True and r.json()["expert"] == exp1.user["email"]
    problem(await exp1.post(review_url(cid), json={"recommend": False, "motivation": MOTIVATION}), 409, "conflict")
    r = await exp2.post(review_url(cid), json={"recommend": False, "motivation": "  " + MOTIVATION + "  "})
    assert r.status_code == 201 and r.json()["motivation"] == MOTIVATION
    card = (await sec.get(f"/api/v1/candidates/{cid}")).json()
    assert card["review_summary"] == {"recommend": 1, "against": 1}
    assert {(rv["expert"], rv["recommend"]) for rv in card["reviews"]} == {
        (exp1.user["email"], True), (exp2.user["email"], False)}
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'review.add' AND entity_id = $1",
                               cid) == 2


@pytest.mark.parametrize("body", [
    {"recommend": True, "motivation": "Коротко."},
    {"recommend": True, "motivation": " " * 25 + "ok" + " " * 25},
    {"recommend": True},
    {"recommend": "yes", "motivation": MOTIVATION},
    {"recommend": True, "motivation": MOTIVATION, "score": 10},
])
async def test_bad_reviews_are_4xx_and_store_nothing(staff, pool, body):
    sec, exp = await staff("secretariat"), await staff("expert")
    card = await create_candidate(sec)
    await set_status(pool, card["id"], "under_review")
    problem(await exp.post(review_url(card["id"]), json=body), (400, 422), "invalid_request")
    assert await pool.fetchval("SELECT count(*) FROM expert_reviews WHERE candidate_id = $1", int(card["id"])) == 0


async def test_only_experts_review(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    await set_status(pool, card["id"], "under_review")
    for role in ("secretariat", "working_group", "auditor", "admin"):
        c = await staff(role)
        problem(await c.post(review_url(card["id"]), json={"recommend": True, "motivation": MOTIVATION}), 403,
                "forbidden")
    exp = await staff("expert")
    problem(await exp.post(review_url("987654321098"), json={"recommend": True, "motivation": MOTIVATION}), 404,
            "not_found")
