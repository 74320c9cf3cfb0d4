"""Triage of citizens' nominations: the queue (contacts opened for the secretariat only), accept, merge,
reject, each once, audited."""

from __future__ import annotations

import math
import uuid

import msgspec
import pytest

from admin_service.web.controllers.nominations import PER_PAGE as WEB_PER_PAGE
from shared.crypto import pseudonym
from tests.integration.admin.helpers import create_candidate, problem
from voting_service.models import NominationIn
from voting_service.services.nominations import CONSENT_TEXT_VERSION, NominationService

URL = "/api/v1/nominations"


async def submit(settings, pool, redis, *, kind: str = "third_party", phone: str = "+77051112233",
                 name: str | None = None, region: str = "KZ-79", **extra) -> str:
    """A nomination through the voting service's own intake (sealed contact, pseudonym); its id."""
    return (await submitted(settings, pool, redis, kind=kind, phone=phone, name=name, region=region,
                            **extra)).nomination_id


async def submitted(settings, pool, redis, *, kind: str = "third_party", phone: str = "+77051112233",
                    name: str | None = None, region: str = "KZ-79", story: str | None = None,
                    consent: dict | None = None, voter: str | None = None):
    body = {
        "nominee": {"full_name": name or f"Ерлан Нурланов {uuid.uuid4().hex[:6]}", "region": region,
                    "sphere": "education_science", "gender": "male", "birth_year": 1988},
        "story": story or "Открыл бесплатную школу программирования для детей из сёл.",
        "achievements": [{"claim": "Обучил 500 детей", "evidence_url": "https://example.kz/school"}],
        "nominated_by": {"kind": kind, "full_name": "Айгерим Сапарова", "phone": phone},
    }
    if consent is not None:
        body["consent"] = consent
    service = NominationService(settings=settings, pool=pool, redis=redis)
    return await service.submit(msgspec.convert(body, NominationIn), ip_hash=uuid.uuid4().hex, voter=voter)


async def test_queue_shows_contacts_to_the_secretariat_only(staff, settings, pool, redis):
    nid = await submit(settings, pool, redis, phone="8 705 111 22 33")
    sec, auditor = await staff("secretariat"), await staff("auditor")
    r = await sec.get(URL, params={"status": "received"})
    assert r.status_code == 200
    body = r.json()
    (item,) = [i for i in body["items"] if i["id"] == nid]
    assert body["total"] >= 1
    assert item["status"] == "received" and item["nominee"]["region"] == "KZ-79"
    assert item["achievements"][0]["claim"] == "Обучил 500 детей" and "школу" in item["story"]
    assert item["nominated_by"] == {"kind": "third_party", "full_name": "Айгерим Сапарова", "phone": "+77051112233"}
    items = (await auditor.get(URL)).json()["items"]
    (seen,) = [i for i in items if i["id"] == nid]
    assert seen["nominated_by"] == {"kind": "third_party"}
    for role in ("expert", "working_group", "admin"):
        c = await staff(role)
        problem(await c.get(URL), 403, "forbidden")
    problem(await sec.get(URL, params={"status": "lost"}), 422, "invalid_request")


async def test_accept_creates_a_nominated_card_once(staff, settings, pool, redis):
    nid = await submit(settings, pool, redis, kind="self", phone="+77059998877")
    sec = await staff("secretariat")
    r = await sec.post(f"{URL}/{nid}/accept")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "accepted" and out["candidate_id"]
    card = (await sec.get(f"/api/v1/candidates/{out['candidate_id']}")).json()
    assert card["status"] == "nominated" and card["source"]["kind"] == "self" and card["region"] == "KZ-79"
    assert card["contact"] == {"phone": "+77059998877"}  # the self-nominee's own phone, sealed again
    assert card["history"][0]["reason"] == f"nomination {nid}"
    row = await pool.fetchrow("SELECT status, candidate_id, triaged_by FROM nominations WHERE id = $1",
                              uuid.UUID(nid))
    assert row["status"] == "accepted" and str(row["candidate_id"]) == out["candidate_id"]
    assert str(row["triaged_by"]) == sec.user["id"]
    for action in ("accept", "reject"):
        body = {"reason": "Дубликат"} if action == "reject" else None
        problem(await sec.post(f"{URL}/{nid}/{action}", json=body), 409, "conflict")
    assert await pool.fetchval("SELECT count(*) FROM candidates WHERE id = $1", int(out["candidate_id"])) == 1
    audit = await pool.fetchval("SELECT action FROM audit_log WHERE entity_type = 'nomination' AND entity_id = $1",
                                nid)
    assert audit == "nomination.accepted"
    r = await sec.get(URL, params={"status": "accepted"})
    assert any(i["id"] == nid and i["triaged_by"] == sec.user["email"] for i in r.json()["items"])


async def test_merge_links_the_duplicate(staff, settings, pool, redis):
    sec = await staff("secretariat")
    existing = await create_candidate(sec)
    nid = await submit(settings, pool, redis, name=existing["full_name"])
    items = (await sec.get(URL, params={"status": "received"})).json()["items"]
    (item,) = [i for i in items if i["id"] == nid]
    assert [d["id"] for d in item["possible_duplicates"]] == [existing["id"]]
    before = await pool.fetchval("SELECT count(*) FROM candidates")
    problem(await sec.post(f"{URL}/{nid}/merge", json={"candidate_id": "987654321098"}), 422, "invalid_request")
    problem(await sec.post(f"{URL}/{nid}/merge", json={}), (400, 422), "invalid_request")
    for bad in ("0", "99999999999999999999", "x1", -5, True):
        problem(await sec.post(f"{URL}/{nid}/merge", json={"candidate_id": bad}), (400, 422), "invalid_request")
    r = await sec.post(f"{URL}/{nid}/merge", json={"candidate_id": existing["id"]})
    assert r.status_code == 200 and r.json() == {"id": nid, "status": "merged", "candidate_id": existing["id"],
                                                 "triage_reason": None}
    assert await pool.fetchval("SELECT count(*) FROM candidates") == before
    problem(await sec.post(f"{URL}/{nid}/merge", json={"candidate_id": existing["id"]}), 409, "conflict")


async def test_reject_needs_a_reason(staff, settings, pool, redis):
    nid = await submit(settings, pool, redis)
    sec = await staff("secretariat")
    problem(await sec.post(f"{URL}/{nid}/reject", json={"reason": "  "}), 422, "invalid_request")
    problem(await sec.post(f"{URL}/{nid}/reject", json={}), (400, 422), "invalid_request")
    assert await pool.fetchval("SELECT status FROM nominations WHERE id = $1", uuid.UUID(nid)) == "received"
    r = await sec.post(f"{URL}/{nid}/reject", json={"reason": "Кандидат широко известен."})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    row = await pool.fetchrow("SELECT status, triage_reason FROM nominations WHERE id = $1", uuid.UUID(nid))
    assert tuple(row) == ("rejected", "Кандидат широко известен.")
    audit = await pool.fetchrow("SELECT action, reason FROM audit_log WHERE entity_type = 'nomination' "
                                "AND entity_id = $1", nid)
    assert tuple(audit) == ("nomination.rejected", "Кандидат широко известен.")


@pytest.mark.parametrize("action", ["accept", "merge", "reject"])
async def test_only_the_secretariat_triages(staff, settings, pool, redis, action):
    nid = await submit(settings, pool, redis)
    body = {"accept": None, "merge": {"candidate_id": "1"}, "reject": {"reason": "Нет оснований"}}[action]
    for role in ("auditor", "expert", "working_group", "admin"):
        c = await staff(role)
        problem(await c.post(f"{URL}/{nid}/{action}", json=body), 403, "forbidden")
    sec = await staff("secretariat")
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        problem(await sec.post(f"{URL}/{bad}/{action}", json=body), 404, "not_found")
    assert await pool.fetchval("SELECT status FROM nominations WHERE id = $1", uuid.UUID(nid)) == "received"


async def test_queue_shows_reference_consent_and_confirmed_phone(staff, settings, pool, redis):
    phone = "+77051112299"
    voter = pseudonym(settings.secrets.pseudonym_key, "voter", phone)
    confirmed = await submitted(settings, pool, redis, phone=phone, voter=voter,
                                consent={"processing": True, "nominee_will_be_asked": True})
    plain = await submitted(settings, pool, redis)
    sec = await staff("secretariat")
    items = {i["id"]: i for i in (await sec.get(URL, params={"status": "all"})).json()["items"]}
    a, b = items[confirmed.nomination_id], items[plain.nomination_id]
    assert a["reference"] == confirmed.reference and a["phone_confirmed"] is True
    assert a["consent"]["processing"] is True and a["consent"]["nominee_will_be_asked"] is True
    assert a["consent"]["text_version"] == CONSENT_TEXT_VERSION
    assert b["reference"] == plain.reference and b["phone_confirmed"] is False and b["consent"] is None
    one = (await sec.get(f"{URL}/{confirmed.nomination_id}")).json()
    assert one["reference"] == confirmed.reference and one["phone_confirmed"] is True
    auditor = await staff("auditor")  # no contact details, but the reference, consent and confirmation
    seen = (await auditor.get(f"{URL}/{confirmed.nomination_id}")).json()
    assert seen["nominated_by"] == {"kind": "third_party"} and seen["phone_confirmed"] is True


async def test_queue_page_shows_reference_consent_and_confirmed_phone(staff, settings, pool, redis):
    phone = "+77051112288"
    voter = pseudonym(settings.secrets.pseudonym_key, "voter", phone)
    confirmed = await submitted(settings, pool, redis, phone=phone, voter=voter, kind="self",
                                consent={"processing": True})
    sec = await staff("secretariat")
    # The queue is oldest first and the session's database holds the nominations of earlier tests: this one,
    # the newest, is on the last page.
    total = (await sec.get(URL, params={"status": "received"})).json()["total"]
    last = max(1, math.ceil(total / WEB_PER_PAGE))
    page = (await sec.get("/nominations", params={"status": "received", "lang": "en", "page": last})).text
    article = page[page.index(f'id="n-{confirmed.nomination_id}"'):]
    article = article[:article.index("</article>")]
    assert confirmed.reference in article
    assert 'data-confirmed="yes"' in article and "confirmed by an SMS code" in article
    assert "consent to the processing of personal data given" in article and CONSENT_TEXT_VERSION in article


async def test_accepting_a_kazakh_nomination_makes_a_kazakh_card(staff, settings, pool, redis):
    story = "Ауыл балаларына арналған тегін бағдарламалау мектебін ашты."
    nid = await submit(settings, pool, redis, story=story)
    sec = await staff("secretariat")
    out = (await sec.post(f"{URL}/{nid}/accept")).json()
    card = (await sec.get(f"/api/v1/candidates/{out['candidate_id']}")).json()
    assert card["text_lang"] == "kk" and card["story"] == story
    ru = await submit(settings, pool, redis)
    out = (await sec.post(f"{URL}/{ru}/accept")).json()
    assert (await sec.get(f"/api/v1/candidates/{out['candidate_id']}")).json()["text_lang"] == "ru"
