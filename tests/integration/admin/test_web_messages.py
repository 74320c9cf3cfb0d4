"""One language per page: each domain error, triggered through the staff app's forms in kk, ru and en, shows the
catalogue's message in that language, with field names in that language, and never the English detail the JSON
API sends (issue 14, item 1). The API keeps its stable code."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import uuid

import httpx
import pytest

from admin_service.web.i18n import catalogue
from tests.integration.admin.helpers import create_candidate, problem, set_status
from tests.integration.admin.test_web_pages import html, signed_in  # noqa: F401 - the fixture

LANGS = ("kk", "ru", "en")
ALERT = re.compile(r'<div class="error" role="alert"[^>]*>(.*?)</div>', re.S)
DETAIL = re.compile(r'data-testid="error-detail">(.*?)</', re.S)


def msg(lang: str, key: str, **values: object) -> str:
    return catalogue(lang)[f"msg.{key}"].format(**{k: str(v) for k, v in values.items()})


def field(lang: str, name: str) -> str:
    return catalogue(lang)[f"field.{name}"]


def shown(body: str) -> str:
    """The message the page shows (the alert on a form, the detail on an error page), unescaped."""
    found = DETAIL.search(body) or ALERT.search(body)
    assert found, body[:3000]
    return htmllib.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def assert_one_language(body: str, lang: str, expected: str, english: str, allowed: tuple[str, ...] = ()) -> None:
    text = shown(body)
    assert text == expected, (lang, text, expected)  # the catalogue's text, nothing appended
    if lang != "en":
        assert english not in body, f"{lang}: the API's English detail is on the page"
    box = ALERT.search(body)  # a form's alert: its translated prefix and the message
    alert = htmllib.unescape(re.sub(r"<[^>]+>", " ", box.group(1))) if box else text
    for word in allowed:
        alert = alert.replace(word, "")
    if lang != "en":  # Kazakh and Russian pages: no English words in the message
        assert not re.search(r"[A-Za-z]{3,}", alert), (lang, alert)


def campaign_form(token: str, **changes: str) -> dict[str, str]:
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(days=1)
    return {"csrf_token": token, "slug": f"m-{uuid.uuid4().hex[:10]}", "title_ru": "Сезон", "title_kk": "Маусым",
            "title_en": "Season", "opens_at": start.strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (start + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"), "votes_per_voter": "3",
            "seats": "100", **changes}


@pytest.mark.parametrize("lang", LANGS)
async def test_campaign_form_errors_are_in_the_readers_language(signed_in, lang):
    wg = await signed_in("working_group")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    form = campaign_form(wg.token, opens_at=start.strftime("%Y-%m-%dT%H:%M"),
                         closes_at=(start - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    body = html(await wg.post(f"/campaigns?lang={lang}", data=form), 422)
    assert_one_language(body, lang, msg(lang, "closes_before_opens"), "closes_at must be after opens_at")

    taken = campaign_form(wg.token)
    assert (await wg.post("/campaigns", data=taken)).status_code == 303
    body = html(await wg.post(f"/campaigns?lang={lang}", data={**taken, "title_ru": "Другой"}), 409)
    assert_one_language(body, lang, msg(lang, "slug_taken", slug=taken["slug"]), "exists",
                        allowed=(taken["slug"],))

    body = html(await wg.post(f"/campaigns?lang={lang}", data=campaign_form(wg.token, slug="Bad slug!")), 422)
    assert_one_language(body, lang, msg(lang, "invalid", field=field(lang, "slug")), "Expected")

    body = html(await wg.post(f"/campaigns?lang={lang}", data=campaign_form(wg.token, opens_at="tomorrow")), 422)
    assert_one_language(body, lang, msg(lang, "date_time", field=field(lang, "opens_at")), "enter a date")


@pytest.mark.parametrize("lang", LANGS)
async def test_account_forms_errors_are_in_the_readers_language(signed_in, lang):
    admin = await signed_in("admin")
    email = f"m-{uuid.uuid4().hex[:8]}@100faces.kz"
    form = {"csrf_token": admin.token, "email": email, "password": "password1234", "role": ["expert"]}
    body = html(await admin.post(f"/users?lang={lang}", data=form), 422)
    assert_one_language(body, lang, msg(lang, "password_common"), "list of common passwords")
    r = await admin.post("/users", data={**form, "password": "Qyzylorda-Aral-1997"})
    assert r.status_code == 303
    body = html(await admin.post(f"/users?lang={lang}", data={**form, "password": "Another-Strong-Pass-9"}), 409)
    assert_one_language(body, lang, msg(lang, "user_exists", email=email), "exists", allowed=(email,))
    body = html(await admin.post(f"/users?lang={lang}", data={**form, "email": f"x-{email}", "role": ["boss"]}), 422)
    assert_one_language(body, lang, msg(lang, "choose_from_list", field=field(lang, "roles")), "Invalid enum")

    me = await signed_in("expert")
    pw = {"csrf_token": me.token, "current_password": "Zhetisu-Steppe-2026!", "new_password": "qwertyuiop12",
          "new_password2": "qwertyuiop12"}
    body = html(await me.post(f"/account/password?lang={lang}", data={**pw, "new_password": "short",
                                                                         "new_password2": "short"}), 422)
    assert shown(body) == msg(lang, "password_short", n=12)
    assert lang == "en" or "Use at least" not in body


@pytest.mark.parametrize("lang", LANGS)
async def test_missing_records_and_refused_moves_are_in_the_readers_language(signed_in, lang):
    sec = await signed_in("secretariat")
    body = html(await sec.get(f"/candidates/99999?lang={lang}"), 404)
    assert_one_language(body, lang, msg(lang, "no_candidate", id=99999), "No candidate")
    # The API keeps its code (and its English detail).
    assert problem(await sec.get("/api/v1/candidates/99999"), 404, "not_found")["detail"] == "No candidate 99999."

    form = {"csrf_token": sec.token, "full_name": "Ерлан Жаксылыков", "region": "KZ-99", "sphere": "social",
            "gender": "male", "birth_year": "1980", "source_kind": "ngo", "story": "Достаточно длинная история успеха.",
            "achievement_claim": "Построил школу"}
    body = html(await sec.post(f"/candidates?lang={lang}", data=form), 422)
    assert_one_language(body, lang, msg(lang, "choose_from_list", field=field(lang, "region")), "Invalid enum")
    body = html(await sec.post(f"/candidates?lang={lang}", data={**form, "region": "KZ-75", "story": "Коротко"}), 422)
    assert_one_language(body, lang, msg(lang, "too_short", field=field(lang, "story"), n=20), "Expected")
    r = await sec.post("/candidates", data={**form, "region": "KZ-75"})
    assert r.status_code == 303, r.text
    cid = r.headers["location"].split("/candidates/")[1].split("?")[0]
    def move(to: str, _expected: int):  # noqa: ANN202 - a coroutine
        return sec.post(f"/candidates/{cid}/transitions?lang={lang}", data={"csrf_token": sec.token, "to": to})

    status = {s: catalogue(lang)[f"status.{s}"] for s in ("nominated", "verified", "rejected")}
    body = html(await move("verified", 409), 409)  # not a move from "nominated"
    assert_one_language(body, lang, msg(lang, "status_move", **{"from": status["nominated"], "to": status["verified"]}),
                        "cannot go from")
    assert (await move("under_verification", 303)).status_code == 303
    body = html(await move("rejected", 422), 422)
    assert_one_language(body, lang, msg(lang, "status_reason", to=status["rejected"]), "needs a reason")
    body = html(await move("verified", 409), 409)  # no confirmed verification request yet
    assert_one_language(body, lang, msg(lang, "verification_needed"), "at least one verification request")


@pytest.mark.parametrize("lang", LANGS)
async def test_review_verification_triage_and_ballot_errors_are_in_the_readers_language(signed_in, pool, lang):
    sec, expert, wg = await signed_in("secretariat"), await signed_in("expert"), await signed_in("working_group")
    sec.headers["X-CSRF-Token"] = sec.token
    card = await create_candidate(sec)
    del sec.headers["X-CSRF-Token"]
    cid = card["id"]

    body = html(await sec.post(f"/candidates/{cid}/verification-requests?lang={lang}",
                               data={"csrf_token": sec.token, "authority": "", "question": ""}), 422)
    assert_one_language(body, lang, msg(lang, "verification_incomplete"), "Name the authority")
    # A review while the candidate is not under review: the status named in the reader's language.
    body = html(await expert.post(f"/candidates/{cid}/reviews?lang={lang}", data={
        "csrf_token": expert.token, "recommend": "yes", "motivation": "Достаточно подробное обоснование."}), 409)
    assert_one_language(body, lang, msg(lang, "review_not_now", status=catalogue(lang)["status.nominated"]),
                        "Reviews are written")
    await set_status(pool, cid, "under_review")
    body = html(await expert.post(f"/candidates/{cid}/reviews?lang={lang}",
                                  data={"csrf_token": expert.token, "recommend": "yes", "motivation": "Кратко"}), 422)
    assert_one_language(body, lang, msg(lang, "motivation_short", n=20), "A conclusion is motivated")

    nomination = uuid.uuid4()
    body = html(await sec.post(f"/nominations/{nomination}/reject?lang={lang}",
                               data={"csrf_token": sec.token, "reason": "Нет фактов"}), 404)
    assert_one_language(body, lang, msg(lang, "no_nomination", id=nomination), "No nomination",
                        allowed=(str(nomination),))

    r = await wg.post("/campaigns", data=campaign_form(wg.token))
    camp = r.headers["location"].split("/campaigns/")[1].split("?")[0]
    body = html(await wg.post(f"/campaigns/{camp}/ballot?lang={lang}",
                              data={"csrf_token": wg.token, "candidate_id": [cid]}), 409)
    assert_one_language(body, lang, msg(lang, "ballot_not_shortlisted", ids=cid), "Only shortlisted",
                        allowed=(cid,))
    body = html(await wg.post(f"/campaigns/{camp}/publish?lang={lang}", data={"csrf_token": wg.token}), 409)
    assert_one_language(body, lang, msg(lang, "ballot_empty"), "The ballot is empty")
