"""Candidate texts in several languages (migration 0006): intake with ``text_lang`` and ``texts``, the edit API
``PUT /api/v1/candidates/{id}/texts/{lang}``, and the card page's form."""

from __future__ import annotations

import re

from tests.integration.admin.helpers import create_candidate, problem
from tests.integration.admin.test_web_pages import html, signed_in  # noqa: F401 - fixture

URL = "/api/v1/candidates"
KK = {"summary": "Ауыл балаларына робототехника үйреткен мұғалім",
      "story": "Алматы облысының ауылдарында балаларға арналған тегін робототехника үйірмелерін ашты.",
      "achievements": [{"claim": "1200 баланы оқытты", "evidence_url": "https://example.kz/robots"}]}
EN = {"summary": "A teacher who brought robotics to village children",
      "story": "She opened free robotics clubs for children in the villages of Almaty region.",
      "achievements": [{"claim": "Taught 1,200 children"}]}


async def test_intake_with_texts_in_three_languages(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec, text_lang="ru", texts={"kk": KK, "en": EN})
    assert card["text_lang"] == "ru"
    assert card["texts"]["kk"]["story"] == KK["story"]
    assert card["texts"]["en"]["achievements"] == [{"claim": "Taught 1,200 children", "evidence_url": None}]
    row = await pool.fetchrow("SELECT text_lang, texts FROM candidates WHERE id = $1", int(card["id"]))
    assert row["text_lang"] == "ru" and set(row["texts"]) == {"kk", "en"}
    default = await create_candidate(sec)
    assert (default["text_lang"], default["texts"]) == ("ru", {})


async def test_intake_refusals(staff, pool):
    sec = await staff("secretariat")
    before = await pool.fetchval("SELECT count(*) FROM candidates")
    for changes in ({"text_lang": "de"}, {"texts": {"de": EN}}, {"texts": {"kk": {"story": "x", "extra": 1}}},
                    {"text_lang": "kk", "texts": {"kk": KK}},  # the own language is in the columns already
                    {"texts": {"en": {**EN, "achievements": [{"claim": "ok"}]}}}):
        from tests.integration.admin.helpers import candidate_body

        r = await sec.post(URL, json=candidate_body(**changes))
        problem(r, (400, 422))
    assert await pool.fetchval("SELECT count(*) FROM candidates") == before


async def test_set_texts_in_another_language_then_remove_it(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    r = await sec.put(f"{URL}/{card['id']}/texts/kk", json=KK)
    assert r.status_code == 200, r.text
    assert r.json()["texts"] == {"kk": KK}
    assert r.json()["story"] == card["story"]  # the Russian columns are untouched
    audit = await pool.fetchrow("SELECT * FROM audit_log WHERE action = 'candidate.texts' AND entity_id = $1",
                                card["id"])
    assert audit["actor_email"] == sec.user["email"] and audit["new_value"]["lang"] == "kk"
    r = await sec.put(f"{URL}/{card['id']}/texts/kk", json={"summary": " ", "story": ""})
    assert r.status_code == 200 and r.json()["texts"] == {}
    assert await pool.fetchval("SELECT texts FROM candidates WHERE id = $1", int(card["id"])) == {}


async def test_set_texts_in_the_own_language_replaces_the_columns_and_keeps_the_story_required(staff, pool):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    new = {"summary": "Новая аннотация", "story": "Новая история успеха: открыла ещё десять кружков.",
           "achievements": [{"claim": "Открыла десять кружков"}]}
    r = await sec.put(f"{URL}/{card['id']}/texts/ru", json=new)
    assert r.status_code == 200, r.text
    row = await pool.fetchrow("SELECT summary, story, achievements FROM candidates WHERE id = $1", int(card["id"]))
    assert (row["summary"], row["story"]) == (new["summary"], new["story"])
    assert row["achievements"] == [{"claim": "Открыла десять кружков", "evidence_url": None}]
    body = problem(await sec.put(f"{URL}/{card['id']}/texts/ru", json={"summary": "x", "story": "коротко"}), 422)
    assert body.get("field") == "story"
    assert await pool.fetchval("SELECT story FROM candidates WHERE id = $1", int(card["id"])) == new["story"]


async def test_set_texts_refusals(staff):
    sec = await staff("secretariat")
    card = await create_candidate(sec)
    problem(await sec.put(f"{URL}/{card['id']}/texts/de", json=EN), 422, "invalid_request")
    problem(await sec.put(f"{URL}/999999999999/texts/en", json=EN), 404)
    problem(await sec.put(f"{URL}/{card['id']}/texts/en", json={**EN, "title": "x"}), (400, 422))
    expert = await staff("expert")
    problem(await expert.put(f"{URL}/{card['id']}/texts/en", json=EN), 403, "forbidden")


async def test_card_page_shows_and_edits_texts(staff, signed_in, pool):
    card = await create_candidate(await staff("secretariat"), texts={"kk": KK})
    sec = await signed_in("secretariat")
    page = html(await sec.get(f"/candidates/{card['id']}"))
    assert KK["story"] in page and 'lang="kk"' in page
    for lang in ("kk", "ru", "en"):
        assert f'data-testid="texts-form-{lang}"' in page
    r = await sec.post(f"/candidates/{card['id']}/texts", data={
        "csrf_token": sec.token, "lang": "en", "summary": EN["summary"], "story": EN["story"],
        "achievements": "Taught 1,200 children | https://example.kz/robots\n\nWon a national grant"})
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/candidates/{card['id']}?ok=texts")
    texts = await pool.fetchval("SELECT texts FROM candidates WHERE id = $1", int(card["id"]))
    assert texts["en"]["achievements"] == [
        {"claim": "Taught 1,200 children", "evidence_url": "https://example.kz/robots"},
        {"claim": "Won a national grant", "evidence_url": None}]
    page = html(await sec.get(f"/candidates/{card['id']}?ok=texts&lang=en"))
    assert "The text was saved." in page and EN["story"] in page
    # The achievements come back in the form as they were typed (claim | link), ready to edit.
    assert re.search(r"Taught 1,200 children \| https://example.kz/robots\s*\nWon a national grant", page)
    # A too-short story in the card's own language: an error page, nothing changed.
    r = await sec.post(f"/candidates/{card['id']}/texts", data={
        "csrf_token": sec.token, "lang": "ru", "summary": "", "story": "коротко", "achievements": ""})
    assert r.status_code == 422
    assert await pool.fetchval("SELECT story FROM candidates WHERE id = $1", int(card["id"])) == card["story"]


async def test_other_roles_see_texts_but_no_form(staff, signed_in):
    card = await create_candidate(await staff("secretariat"), texts={"kk": KK})
    auditor = await signed_in("auditor")
    page = html(await auditor.get(f"/candidates/{card['id']}"))
    assert KK["story"] in page and "texts-form-" not in page
