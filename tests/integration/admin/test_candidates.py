"""Candidate intake by the secretariat, search and the card (any role), contact details sealed at rest."""

from __future__ import annotations

import uuid

import pytest

from admin_service.services import candidates as service
from tests.integration.admin.helpers import DROP, candidate_body, create_candidate, problem

URL = "/api/v1/candidates"
PHONE = "+77017654321"


async def test_intake_creates_a_nominated_card_with_history_and_audit(staff, pool):
    sec = await staff("secretariat")
    r = await sec.post(URL, json=candidate_body(contact={"phone": "8 701 765 43 21", "email": "A@Example.kz"}))
    assert r.status_code == 201, r.text
    card = r.json()
    assert isinstance(card["id"], str) and card["status"] == "nominated"
    assert card["source"] == {"kind": "akimat", "name": "Акимат города Алматы"}
    assert card["achievements"] == [{"claim": "Обучила 1200 детей", "evidence_url": "https://example.kz/robots"}]
    assert card["contact"] == {"phone": PHONE, "email": "a@example.kz"}  # normalised, shown to the secretariat
    assert card["allowed_transitions"] == ["under_verification"]
    (h,) = card["history"]
    assert h["from"] is None and h["to"] == "nominated" and h["actor"] == sec.user["email"]
    assert h["actor_id"] == sec.user["id"]
    entry = await pool.fetchrow("SELECT * FROM audit_log WHERE entity_type = 'candidate' AND entity_id = $1",
                                card["id"])
    assert entry["action"] == "candidate.create" and entry["actor_email"] == sec.user["email"]
    assert PHONE not in str(entry["new_value"]) and "765" not in str(entry["new_value"])


async def test_contact_is_sealed_at_rest_and_shown_only_to_secretariat_and_admin(staff, pool, admin_settings):
    sec = await staff("secretariat")
    card = await create_candidate(sec, contact={"phone": PHONE})
    raw = await pool.fetchval("SELECT c::text FROM candidates c WHERE id = $1", int(card["id"]))
    sealed = await pool.fetchval("SELECT contact_sealed FROM candidates WHERE id = $1", int(card["id"]))
    assert PHONE not in raw and PHONE.encode() not in sealed and "7654321" not in raw
    from shared.crypto import CANDIDATE_CONTACT, ContactOpener

    opener = ContactOpener(admin_settings.secrets.contact_private_keys)
    assert PHONE.encode() in opener.open(sealed, context=CANDIDATE_CONTACT)
    for role, sees in (("admin", True), ("auditor", False), ("expert", False), ("working_group", False)):
        c = await staff(role)
        body = (await c.get(f"{URL}/{card['id']}")).json()
        assert ("contact" in body) is sees, role
        assert body["has_contact"] is True
    listing = (await sec.get(URL, params={"q": card["full_name"]})).json()
    assert listing["total"] == 1 and "contact" not in listing["items"][0]


async def test_search_filters_and_pages(staff):
    sec = await staff("secretariat")
    tag = uuid.uuid4().hex[:8]
    a = await create_candidate(sec, full_name=f"Асель {tag}", region="KZ-71", sphere="healthcare")
    b = await create_candidate(sec, full_name=f"Бауыржан {tag}", region="KZ-79", sphere="healthcare",
                               gender="male")
    await create_candidate(sec, full_name=f"Гульнара {tag}", region="KZ-71", sphere="social",
                           story=f"Её история про {tag}-особый проект помощи ветеранам в регионе.")
    auditor = await staff("auditor")
    r = await auditor.get(URL, params={"q": tag})
    assert r.status_code == 200 and r.json()["total"] == 3  # name or story
    r = await auditor.get(URL, params={"q": tag, "region": "KZ-71", "sphere": "healthcare"})
    assert [i["id"] for i in r.json()["items"]] == [a["id"]]
    r = await auditor.get(URL, params={"q": tag, "status": "nominated", "per_page": 2, "page": 2})
    body = r.json()
    assert body["total"] == 3 and len(body["items"]) == 1
    r = await auditor.get(URL, params={"q": tag, "page": 9})
    assert r.json() == {"items": [], "total": 3, "page": 9, "per_page": 50}
    r = await auditor.get(URL, params={"q": tag, "status": "verified"})
    assert r.json()["total"] == 0
    r = await auditor.get(URL, params={"q": f"Бауыржан {tag}".upper()})
    assert [i["id"] for i in r.json()["items"]] == [b["id"]]
    r = await auditor.get(URL, params={"q": "%"})  # a literal percent sign, not a wildcard
    assert r.status_code == 200 and all("%" in i["full_name"] for i in r.json()["items"])


@pytest.mark.parametrize("params", [{"region": "KZ-99"}, {"sphere": "magic"}, {"status": "famous"},
                                   {"page": "0"}, {"page": "x"}, {"per_page": "1000"}, {"q": "x" * 201},
                                   {"q": "a\x00b"}])
async def test_search_bad_filters_are_422(staff, params):
    c = await staff("expert")
    r = await c.get(URL, params=params)
    problem(r, (400, 422), "invalid_request")


@pytest.mark.parametrize("role", ["admin", "secretariat", "expert", "working_group", "auditor"])
async def test_every_role_reads(staff, role):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    c = await staff(role)
    assert (await c.get(URL)).status_code == 200
    r = await c.get(f"{URL}/{card['id']}")
    assert r.status_code == 200 and r.json()["full_name"] == card["full_name"]


@pytest.mark.parametrize("role", ["admin", "expert", "working_group", "auditor"])
async def test_only_the_secretariat_takes_in(staff, role):
    c = await staff(role)
    problem(await c.post(URL, json=candidate_body()), 403, "forbidden")


@pytest.mark.parametrize("raw", ["0", "abc", "99999999999999999999999", "-1", "1e3"])
async def test_unknown_card_is_404(staff, raw):
    c = await staff("auditor")
    problem(await c.get(f"{URL}/{raw}"), 404, "not_found")
    problem(await c.get(f"{URL}/{10**15}"), 404, "not_found")


BAD_BODIES = {
    "unknown field": candidate_body(fame="high"),
    "unknown nested field": candidate_body(source={"kind": "ngo", "name": "x", "extra": 1}),
    "region not a code": candidate_body(region="Almaty"),
    "region unknown": candidate_body(region="KZ-99"),
    "sphere": candidate_body(sphere="magic"),
    "gender": candidate_body(gender="other"),
    "birth year type": candidate_body(birth_year="nineteen ninety"),
    "birth year list": candidate_body(birth_year=[1990]),
    "too young": candidate_body(birth_year=2024),
    "too old": candidate_body(birth_year=1800),
    "source kind": candidate_body(source={"kind": "president", "name": "x"}),
    "no source": candidate_body(source=DROP),
    "ethnicity": candidate_body(ethnicity="martian"),
    "short story": candidate_body(story="short"),
    "blank story": candidate_body(story=" " * 30),
    "no achievements": candidate_body(achievements=[]),
    "bad evidence url": candidate_body(achievements=[{"claim": "Claim", "evidence_url": "javascript:alert(1)"}]),
    "bad phone": candidate_body(contact={"phone": "+79161234567"}),
    "bad email": candidate_body(contact={"email": "not-an-email"}),
    "name too long": candidate_body(full_name="Я" * 201),
    "null name": candidate_body(full_name=None),
    "array body": [candidate_body()],
    "NUL in the story": candidate_body(story="История успеха\u0000 кандидата из региона, подробно."),
    "NUL in a claim": candidate_body(achievements=[{"claim": "Награда\u0000"}]),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
async def test_bad_intake_is_4xx_with_a_code_and_stores_nothing(staff, pool, case):
    sec = await staff("secretariat")
    before = await pool.fetchval("SELECT count(*) FROM candidates")
    r = await sec.post(URL, json=BAD_BODIES[case])
    problem(r, (400, 422), "invalid_request")
    assert await pool.fetchval("SELECT count(*) FROM candidates") == before


async def test_malformed_json_and_wrong_media_type(staff, pool):
    sec = await staff("secretariat")
    before = await pool.fetchval("SELECT count(*) FROM candidates")
    problem(await sec.post(URL, content=b'{"full_name": ', headers={"content-type": "application/json"}), 400,
            "invalid_request")
    problem(await sec.post(URL, content=b"full_name=x", headers={"content-type": "application/x-www-form-urlencoded"}),
            415, "unsupported_media_type")
    assert await pool.fetchval("SELECT count(*) FROM candidates") == before


async def test_service_accepts_a_mapping_as_the_web_ui_sends_it(staff, pool):
    from admin_service.auth.context import Staff

    sec = await staff("secretariat")
    actor = Staff(id=int(sec.user["id"]), email=sec.user["email"], roles=frozenset({"secretariat"}))
    form = {k: v for k, v in candidate_body().items()}
    form["birth_year"] = "1985"  # forms carry strings
    card = await service.create(pool, data=form, actor=actor)
    assert card["birth_year"] == 1985 and card["status"] == "nominated"
    items, total = await service.search(pool, q=card["full_name"])
    assert total == 1 and items[0]["id"] == card["id"]
    full = await service.card(pool, candidate_id=int(card["id"]))
    assert full["history"][0]["to"] == "nominated" and full["review_summary"] == {"recommend": 0, "against": 0}
