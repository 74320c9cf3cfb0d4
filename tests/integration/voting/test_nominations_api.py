"""POST /api/v1/nominations: validated, stored for triage with the nominator's contact sealed (AES-GCM)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid

import msgspec
import pytest

from shared.crypto import NOMINATION_CONTACT, ContactOpener
from tests.integration.voting.conftest import app_client, assert_problem, settings_with

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
    s = settings_with(env, NOMINATIONS_PER_IP_HOUR="2")
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
