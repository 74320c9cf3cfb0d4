"""Admin API: junk text and implausible values are refused with 422 naming the field, nothing is stored;
non-ASCII tokens are a 403, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.admin.helpers import campaign_body, candidate_body, create_candidate, problem, set_status

BAD_LINES = ["   ", "\u3000\u00a0", "Айдана\u202eавокиреС", "Айд\u200dана", "Айдана\x1b Серикова", "Айдана\nСерикова"]
BAD_PROSE = [" " * 40, "\n \t\r\n" * 10, "Основала сеть \u2067кружков робототехники в сёлах",
             "Основала\x00 сеть кружков"]


async def tables(pool) -> tuple[int, ...]:
    return tuple([await pool.fetchval(f"SELECT count(*) FROM {t}")
                  for t in ("candidates", "campaigns", "audit_log", "expert_reviews", "verification_requests",
                            "candidate_transitions", "users")])


def named(body: dict, field: str) -> None:
    assert f"`{field}`" in body["detail"], body


@pytest.mark.parametrize(("field", "value"), [
    *[("full_name", v) for v in BAD_LINES],
    *[("story", v) for v in BAD_PROSE],
    ("achievements", [{"claim": "   "}]),
    ("achievements", [{"claim": "Обучила\u202e 1200 детей"}]),
    ("source", {"kind": "akimat", "name": "Акимат\u2066 Алматы"}),
    ("summary", "Кратко\x07"),
    ("birth_year", 1899), ("birth_year", dt.date.today().year), ("birth_year", 9999),
    ("region", "KZ-99"),
    ("ethnicity", " kazakh"),
])
async def test_candidate_junk_refused(staff, pool, field, value):
    sec = await staff("secretariat")
    before = await tables(pool)
    body = problem(await sec.post("/api/v1/candidates", json=candidate_body(**{field: value})), 422,
                   "invalid_request")
    if isinstance(value, str) and field not in ("region", "ethnicity"):
        named(body, field)
    assert await tables(pool) == before


async def test_candidate_text_stored_normalised(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec, full_name="  Айгу\u0308ль Серикова  ",
                                  story="\r\nОснователь школы.\r\nУчит детей. ")
    row = await pool.fetchrow("SELECT full_name, story FROM candidates WHERE id = $1", int(card["id"]))
    assert row["full_name"] == "Айгӱль Серикова"
    assert row["story"] == "Основатель школы.\nУчит детей."


def _iso(d: dt.datetime) -> str:
    return d.isoformat()


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": {"kk": "  ", "ru": "100 новых лиц", "en": "100 New Faces"}}, "kk"),
    ({"title": {"kk": "100 жаңа есім", "ru": "100 новых\u202e лиц", "en": "100 New Faces"}}, "ru"),
    ({"title": {"kk": "100 жаңа есім", "ru": "100 новых лиц", "en": "100\u200b New Faces"}}, "en"),
    ({"title": {"kk": "100 жаңа есім", "ru": "100 новых лиц", "en": "100 New\tFaces"}}, "en"),
    ({"opens_at": "9999-01-01T00:00:00Z", "closes_at": "9999-02-01T00:00:00Z"}, "opens_at"),
    ({"closes_at": _iso(NOW + dt.timedelta(days=8 * 365))}, "closes_at"),
    ({"opens_at": "1970-01-01T00:00:00Z"}, "opens_at"),
    ({"opens_at": _iso(NOW + dt.timedelta(days=3)), "closes_at": _iso(NOW + dt.timedelta(days=2))}, "closes_at"),
    ({"slug": "Season 2026"}, None),
])
async def test_campaign_junk_refused(staff, pool, changes, field):
    wg = await staff("working_group")
    before = await tables(pool)
    body = problem(await wg.post("/api/v1/campaigns", json=campaign_body(**changes)), 422, "invalid_request")
    if field:
        named(body, field)
    assert await tables(pool) == before


@pytest.mark.parametrize("value", ["   " * 10, "Хороший кандидат, рекомендую\u202e без оговорок", "short"])
async def test_review_motivation_refused(staff, pool, value):
    sec, exp = await staff("secretariat"), await staff("expert")
    card = await create_candidate(sec)
    await set_status(pool, card["id"], "under_review")
    before = await tables(pool)
    body = problem(await exp.post(f"/api/v1/candidates/{card['id']}/reviews",
                                  json={"recommend": True, "motivation": value}), 422, "invalid_request")
    named(body, "motivation")
    assert await tables(pool) == before


@pytest.mark.parametrize(("payload", "field"), [
    ({"authority": "   ", "question": "Подтвердите диплом"}, "authority"),
    ({"authority": "МОН\u200b РК", "question": "Подтвердите диплом"}, "authority"),
    ({"authority": "МОН РК", "question": "\n\n   \n"}, "question"),
    ({"authority": "МОН РК", "question": "Подтвердите\x08 диплом"}, "question"),
])
async def test_verification_request_refused(staff, pool, payload, field):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    before = await tables(pool)
    body = problem(await sec.post(f"/api/v1/candidates/{card['id']}/verification-requests", json=payload), 422,
                   "invalid_request")
    named(body, field)
    assert await tables(pool) == before


async def test_transition_reason_refused(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    before = await tables(pool)
    body = problem(await sec.post(f"/api/v1/candidates/{card['id']}/transitions",
                                  json={"to": "under_verification", "reason": "ok\u202e"}), 422, "invalid_request")
    named(body, "reason")
    assert await tables(pool) == before


@pytest.mark.parametrize("email", ["a\u202eb@100faces.kz", "ab@100faces\x00.kz", "a b@100faces.kz", "   "])
async def test_user_email_refused(staff, pool, email):
    admin = await staff("admin")
    before = await tables(pool)
    problem(await admin.post("/api/v1/users", json={"email": email, "password": "Zhetisu-Steppe-2026!x",
                                                    "roles": ["expert"]}), 422, "invalid_request")
    assert await tables(pool) == before


@pytest.mark.parametrize("token", ["токен-csrf", "\u00e9t\u00e9", "x" * 5000])
async def test_non_ascii_csrf_token_is_403(staff, pool, token):
    sec = await staff("secretariat")
    before = await tables(pool)
    sec.headers["X-CSRF-Token"] = token.encode("utf-8").decode("latin-1")  # raw UTF-8 bytes on the wire
    problem(await sec.post("/api/v1/candidates", json=candidate_body()), 403, "csrf_failed")
    assert await tables(pool) == before


async def test_non_ascii_login_token_on_the_sign_in_form_is_403(anon):
    r = await anon.get("/login")
    assert r.status_code == 200
    r = await anon.post("/login", data={"email": "x@100faces.kz", "password": "пароль", "login_token": "токен"})
    assert r.status_code == 403


async def test_non_ascii_password_is_401(anon):
    r = await anon.post("/api/v1/session", json={"email": "nobody@100faces.kz", "password": "пароль\u202e"})
    problem(r, 401, "invalid_credentials")


@pytest.mark.parametrize("url", ["/api/v1/users/99999999999999999999/sessions", "/api/v1/users/0/sessions"])
async def test_out_of_range_user_id_is_4xx(staff, url):
    admin = await staff("admin")
    problem(await admin.delete(url), (404, 422))


async def test_out_of_range_audit_cursor_is_4xx(staff):
    auditor = await staff("auditor")
    problem(await auditor.get("/api/v1/audit", params={"before": "99999999999999999999"}), (400, 422))
