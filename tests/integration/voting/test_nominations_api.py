"""POST /api/v1/nominations: validated, stored for triage with the nominator's contact sealed (AES-GCM)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import time
import uuid

import msgspec
import pytest

from shared.crypto import NOMINATION_CONTACT, ContactOpener, pseudonym
from shared.errors import InvalidRequest
from tests.integration.voting.conftest import app_client, assert_problem, bearer, mint_token, settings_with
from shared.errors import RateLimited
from voting_service.services.nominations import (CONSENT_TEXT_VERSION, STATUS_LOOKUPS_PER_IP_HOUR, NominationNotFound,
                                                 NominationService, normalise_reference)
from voting_service.state import Services

URL = "/api/v1/nominations"
NOMINATOR_PHONE = "+77056667788"
NOMINATOR_NAME = "Айгерим Сапарова"


def nomination(**changes) -> dict:
    body = {
        "nominee": {"full_name": "Ерлан Нурланов", "region": "KZ-75", "sphere": "education_science",
                    "gender": "male", "birth_year": 1988},
        "story": "Открыл бесплатную школу программирования для детей из сёл.",
        "achievements": [{"claim": "Обучил 500 детей", "evidence_url": "https://example.kz/school"},
                         {"claim": "Грант акимата"}],
        "nominated_by": {"kind": "third_party", "full_name": NOMINATOR_NAME, "phone": NOMINATOR_PHONE},
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = body
        for p in parents:
            node = node[p] if not p.isdigit() else node[int(p)]
        if value is _DROP:
            del node[leaf]
        else:
            node[leaf] = value
    return body


_DROP = object()


async def row_of(pool, nomination_id: str):
    async with pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM nominations WHERE id = $1", uuid.UUID(nomination_id))


async def row_as_text(pool, nomination_id: str) -> str:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT n::text FROM nominations n WHERE id = $1", uuid.UUID(nomination_id))


async def count(pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM nominations")


async def test_nomination_received(client, pool):
    r = await client.post(URL, json=nomination())
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "received"
    row = await row_of(pool, body["nomination_id"])
    assert row is not None
    assert row["status"] == "received"
    assert row["nominator_kind"] == "third_party"
    assert row["nominee"]["full_name"] == "Ерлан Нурланов"
    assert row["nominee"]["region"] == "KZ-75"
    assert row["story"].startswith("Открыл")
    assert [a["claim"] for a in row["achievements"]] == ["Обучил 500 детей", "Грант акимата"]


async def test_nominator_contact_is_sealed(client, pool, settings, admin_settings):
    r = await client.post(URL, json=nomination(nominated_by__phone="8 (705) 666-77-88"))
    assert r.status_code == 202, r.text
    nid = r.json()["nomination_id"]
    text = await row_as_text(pool, nid)
    for clear in (NOMINATOR_PHONE, NOMINATOR_PHONE[2:], NOMINATOR_PHONE[1:], "666-77-88", NOMINATOR_NAME,
                  NOMINATOR_NAME.split()[1]):
        assert clear not in text, f"{clear!r} stored in clear"
    hexed = text.encode().hex()
    assert NOMINATOR_NAME.encode().hex() not in hexed
    row = await row_of(pool, nid)
    with pytest.raises(AttributeError):  # the public service holds only the public key: it cannot open this
        settings.secrets.contact_private_keys
    opener = ContactOpener(admin_settings.secrets.contact_private_keys)
    contact = json.loads(opener.open(bytes(row["nominator_sealed"]), context=NOMINATION_CONTACT))
    assert contact == {"full_name": NOMINATOR_NAME, "phone": NOMINATOR_PHONE}  # normalised to E.164
    assert row["nominator_pseudonym"] and NOMINATOR_PHONE[2:] not in row["nominator_pseudonym"]
    assert "203.0.113" not in text  # the client's address is kept only as a keyed hash


async def test_same_nominator_same_pseudonym(client, pool):
    a = (await client.post(URL, json=nomination())).json()["nomination_id"]
    b = (await client.post(URL, json=nomination(nominated_by__phone="87056667788"))).json()["nomination_id"]
    assert (await row_of(pool, a))["nominator_pseudonym"] == (await row_of(pool, b))["nominator_pseudonym"]


async def test_self_nomination_and_optional_evidence(client, pool):
    body = nomination(nominated_by__kind="self", nominee__gender="female", nominee__sphere="public_political",
                      nominee__region="KZ-62")
    body["achievements"] = [{"claim": "Основала НКО"}]
    r = await client.post(URL, json=body)
    assert r.status_code == 202, r.text
    assert (await row_of(pool, r.json()["nomination_id"]))["nominator_kind"] == "self"


this_year = dt.date.today().year

INVALID = {
    "region pattern": nomination(nominee__region="Almaty"),
    "region unknown": nomination(nominee__region="KZ-99"),
    "region lowercase": nomination(nominee__region="kz-75"),
    "sphere": nomination(nominee__sphere="sports"),
    "gender": nomination(nominee__gender="other"),
    "birth_year too old": nomination(nominee__birth_year=1850),
    "birth_year future": nomination(nominee__birth_year=this_year + 1),
    "birth_year too young": nomination(nominee__birth_year=this_year - 10),
    "full_name too short": nomination(nominee__full_name="Е"),
    "full_name missing": nomination(nominee__full_name=_DROP),
    "nominee missing": nomination(nominee=_DROP),
    "story missing": nomination(story=_DROP),
    "story too short": nomination(story="Хороший"),
    "achievements missing": nomination(achievements=_DROP),
    "achievements empty": nomination(achievements=[]),
    "achievements too many": nomination(achievements=[{"claim": f"Успех {n}"} for n in range(21)]),
    "claim too short": nomination(achievements=[{"claim": "ok"}]),
    "evidence_url not a url": nomination(achievements__0__evidence_url="not a url"),
    "evidence_url javascript": nomination(achievements__0__evidence_url="javascript:alert(1)"),
    "evidence_url ftp": nomination(achievements__0__evidence_url="ftp://example.kz/a"),
    "evidence_url with space": nomination(achievements__0__evidence_url="https://exa mple.kz"),
    "evidence_url empty host": nomination(achievements__0__evidence_url="https://"),
    "nominated_by missing": nomination(nominated_by=_DROP),
    "nominator kind": nomination(nominated_by__kind="anonymous"),
    "nominator phone landline": nomination(nominated_by__phone="+77172123456"),
    "nominator phone russian": nomination(nominated_by__phone="+79161234567"),
    "nominator phone missing": nomination(nominated_by__phone=_DROP),
    "nominator name missing": nomination(nominated_by__full_name=_DROP),
    "unknown nominee field": nomination(nominee__iin="900101300017"),
    "unknown top field": nomination(status="accepted"),
}


@pytest.mark.parametrize("case", list(INVALID))
async def test_invalid_nominations_are_refused(client, pool, case):
    before = await count(pool)
    r = await client.post(URL, json=copy.deepcopy(INVALID[case]))
    body = assert_problem(r, (400, 422), "invalid_request")
    assert NOMINATOR_PHONE not in r.text or case.startswith("nominator phone")
    assert body["status"] in (400, 422)
    assert await count(pool) == before


async def test_birth_year_as_string_is_refused(client, pool):
    before = await count(pool)
    r = await client.post(URL, json=nomination(nominee__birth_year="1988"))
    assert_problem(r, (400, 422), "invalid_request")
    assert await count(pool) == before


async def test_rate_limited_per_ip(env, pool, redis):
    s = settings_with(env, NOMINATIONS_PER_IP_HOUR="2", LIMIT_HARD_FACTOR="1")
    async with app_client(s, pool, redis) as c:
        for _ in range(2):
            assert (await c.post(URL, json=nomination())).status_code == 202
        before = await count(pool)
        r = await c.post(URL, json=nomination())
        assert_problem(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 3600
        assert await count(pool) == before
    async with app_client(s, pool, redis, ip="198.51.100.30") as c:  # another address is not affected
        assert (await c.post(URL, json=nomination())).status_code == 202


def test_nomination_fixture_is_valid_json():
    msgspec.json.encode(nomination())  # guards the helper itself


async def test_nul_character_is_refused_and_nothing_stored(client, pool):
    body = {
        "nominee": {"full_name": "Айгерим Сапарова", "region": "KZ-75", "sphere": "education_science",
                    "gender": "female", "birth_year": 1988},
        "story": "Открыла школу робототехники\u0000 в ауле и вывела учеников на мировые олимпиады.",
        "achievements": [{"claim": "Победа на олимпиаде", "evidence_url": "https://example.kz/a"}],
        "nominated_by": {"kind": "self", "full_name": "Айгерим Сапарова", "phone": "+77011112233"},
    }
    before = await pool.fetchval("SELECT count(*) FROM nominations")
    r = await client.post("/api/v1/nominations", json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    assert await pool.fetchval("SELECT count(*) FROM nominations") == before


# --- issue 10: reference, consent, confirmed phone, status lookup ------------------------------------------

REFERENCE = re.compile(r"NF-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
CONSENT_3RD = {"processing": True, "nominee_will_be_asked": True}


async def test_answer_carries_a_reference_to_look_the_status_up(client, pool):
    r = await client.post(URL, json=nomination())
    assert r.status_code == 202, r.text
    body = r.json()
    assert REFERENCE.fullmatch(body["reference"]) and body["phone_confirmed"] is False
    assert (await row_of(pool, body["nomination_id"]))["reference"] == body["reference"]
    s = await client.get(f"{URL}/status/{body['reference']}")
    assert s.status_code == 200, s.text
    status = s.json()
    assert status.keys() == {"reference", "status", "received_at"}
    assert status["reference"] == body["reference"] and status["status"] == "received"
    assert abs(dt.datetime.fromisoformat(status["received_at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    for field in (NOMINATOR_NAME, "Ерлан", "KZ-75", NOMINATOR_PHONE[2:]):
        assert field not in s.text  # nothing about the nominee or the nominator


async def test_status_follows_triage_and_accepts_a_loosely_typed_reference(client, pool):
    body = (await client.post(URL, json=nomination())).json()
    async with pool.acquire() as conn:
        await conn.execute("UPDATE nominations SET status = 'rejected' WHERE id = $1",
                           uuid.UUID(body["nomination_id"]))
    ref = body["reference"]
    loose = " " + ref.lower().replace("-", " ").replace("nf ", "").replace("0", "o").replace("1", "l") + " "
    for typed in (ref, ref.lower(), loose, ref[3:].replace("-", "")):
        r = await client.get(f"{URL}/status/{typed}")
        assert r.status_code == 200, (typed, r.text)
        assert r.json() == {**r.json(), "reference": ref, "status": "rejected"}


@pytest.mark.parametrize("ref", ["NF-0000-0000", "NF-UUUU-UUUU", "x", "NF-7K3F-9QXDX", "%00", "NF-7K3F"])
async def test_unknown_reference_is_404(client, ref):
    assert_problem(await client.get(f"{URL}/status/{ref}"), 404, "nomination_not_found")


async def test_consent_is_stored_with_the_text_version_and_time(client, pool):
    r = await client.post(URL, json=nomination(consent=CONSENT_3RD))
    assert r.status_code == 202, r.text
    consent = (await row_of(pool, r.json()["nomination_id"]))["consent"]
    assert consent["processing"] is True and consent["nominee_will_be_asked"] is True
    assert consent["text_version"] == CONSENT_TEXT_VERSION
    assert abs(dt.datetime.fromisoformat(consent["at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    r = await client.post(URL, json=nomination(nominated_by__kind="self", consent={"processing": True}))
    assert r.status_code == 202, r.text
    assert (await row_of(pool, r.json()["nomination_id"]))["consent"]["nominee_will_be_asked"] is False
    r = await client.post(URL, json=nomination())  # the JSON API without consent, as before issue 10
    assert (await row_of(pool, r.json()["nomination_id"]))["consent"] is None


@pytest.mark.parametrize(("consent", "kind", "field"), [
    ({"processing": False, "nominee_will_be_asked": True}, "third_party", "consent.processing"),
    ({"processing": False}, "self", "consent.processing"),
    ({"processing": True}, "third_party", "consent.nominee_will_be_asked"),
    ({"processing": True, "nominee_will_be_asked": False}, "third_party", "consent.nominee_will_be_asked"),
])
async def test_consent_refused_or_incomplete_is_422_naming_the_field(client, pool, consent, kind, field):
    before = await count(pool)
    body = assert_problem(await client.post(URL, json=nomination(consent=consent, nominated_by__kind=kind)),
                          422, "invalid_request")
    assert body["field"] == field
    if field == "consent.processing":
        assert body["detail"] == "Consent to the processing of the personal data in the nomination is required to send it."
    assert await count(pool) == before


@pytest.mark.parametrize("consent", [{"processing": "yes"}, {}, {"processing": True, "marketing": True}, True])
async def test_malformed_consent_is_refused(client, pool, consent):
    before = await count(pool)
    assert_problem(await client.post(URL, json=nomination(consent=consent)), (400, 422), "invalid_request")
    assert await count(pool) == before


async def test_phone_confirmed_only_with_the_nominators_own_token(client, pool, settings):
    async def sent(headers: dict) -> bool:
        r = await client.post(URL, json=nomination(consent=CONSENT_3RD), headers=headers)
        assert r.status_code == 202, r.text
        stored = (await row_of(pool, r.json()["nomination_id"]))["phone_confirmed"]
        assert stored is r.json()["phone_confirmed"]
        return stored

    assert await sent(bearer(mint_token(settings, NOMINATOR_PHONE))) is True
    assert await sent(bearer(mint_token(settings, "+77019998877"))) is False  # somebody else's phone
    expired = mint_token(settings, NOMINATOR_PHONE, now=time.time() - settings.voter_token_ttl_s - 60)
    assert await sent(bearer(expired)) is False
    forged = mint_token(settings, NOMINATOR_PHONE)[:-4] + "AAAA"
    assert await sent(bearer(forged)) is False
    assert await sent({"Authorization": "Basic abc"}) is False
    assert await sent({}) is False


async def test_the_service_the_portal_calls(settings, pool, redis):
    """voting_service/services/nominations.py directly, as the portal's form handler does: parse a mapping
    (per-field errors), submit with the signed-in voter, look the status up."""
    services = Services.build(settings, pool, redis)
    try:
        nominations = services.nominations
        with pytest.raises(InvalidRequest) as err:
            nominations.parse(nomination(nominee__birth_year="1988"))
        assert err.value.extra["field"] == "nominee.birth_year"
        with pytest.raises(InvalidRequest) as err:
            nominations.parse(nomination(achievements=[{"claim": "ok"}]))
        assert err.value.extra["field"] == "achievements[0].claim"
        with pytest.raises(InvalidRequest) as err:
            await nominations.submit(nominations.parse(nomination(nominated_by__phone="+77172123456")), ip_hash="h")
        assert err.value.extra["field"] == "nominated_by.phone"
        voter = pseudonym(settings.secrets.pseudonym_key, "voter", NOMINATOR_PHONE)
        receipt = await nominations.submit(nominations.parse(nomination(consent=CONSENT_3RD)), ip_hash="h",
                                           voter=voter, consent_text_version="portal-v7")
        assert receipt.phone_confirmed and REFERENCE.fullmatch(receipt.reference)
        row = await row_of(pool, receipt.nomination_id)
        assert row["consent"]["text_version"] == "portal-v7" and row["phone_confirmed"] is True
        status = await nominations.status(receipt.reference.lower())
        assert status["status"] == "received" and status["reference"] == receipt.reference
        with pytest.raises(NominationNotFound):
            await nominations.status("NF-0000-0000")
    finally:
        await services.close()


@pytest.mark.parametrize(("typed", "expected"), [
    ("NF-7K3F-9QXD", "NF-7K3F-9QXD"), ("nf-7k3f-9qxd", "NF-7K3F-9QXD"), ("7K3F9QXD", "NF-7K3F-9QXD"),
    ("NF 7K3F 9QXD", "NF-7K3F-9QXD"), ("NF-OIL0-0000", "NF-0110-0000"), ("NF-UUUU-0000", None),
    ("NF-7K3F", None), ("", None), ("NF-7K3F-9QXD-1", None), ("ＮＦ-7K3F-9QXD", "NF-7K3F-9QXD"), ("NF-7K3F-9QXД", None),
])
def test_normalise_reference(typed, expected):
    assert normalise_reference(typed) == expected


async def test_status_lookups_are_limited_per_network(settings, pool, redis):
    nominations = NominationService(settings=settings, pool=pool, redis=redis, status_lookups_per_ip_hour=3)
    receipt = await nominations.submit(nominations.parse(nomination()), ip_hash="h")
    for _ in range(3):
        assert (await nominations.status(receipt.reference, ip_hash="net-a"))["status"] == "received"
    with pytest.raises(RateLimited):
        await nominations.status(receipt.reference, ip_hash="net-a")
    with pytest.raises(RateLimited):  # a wrong guess counts too
        await nominations.status("NF-0000-0000", ip_hash="net-a")
    assert (await nominations.status(receipt.reference, ip_hash="net-b"))["status"] == "received"
    assert (await nominations.status(receipt.reference))["status"] == "received"  # no address: not limited


async def test_status_route_is_rate_limited(client, pool):
    body = (await client.post(URL, json=nomination())).json()
    for _ in range(STATUS_LOOKUPS_PER_IP_HOUR):
        r = await client.get(f"{URL}/status/NF-0000-0000")
        assert r.status_code == 404
    assert_problem(await client.get(f"{URL}/status/{body['reference']}"), 429, "rate_limited")
