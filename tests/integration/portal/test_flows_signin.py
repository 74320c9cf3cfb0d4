"""Signing in on the portal as a citizen would: the phone page, the code from the dev outbox, the code page;
its messages in kk/ru/en; the voter cookie's attributes; signing out."""

from __future__ import annotations

import time

import pytest

from shared.crypto import pseudonym
from tests.factories import make_campaign
from tests.integration.portal.flows import citizen_browser, csrf_of, post_form, same_origin, sign_in
from tests.integration.voting.conftest import bearer, outbox_code, postgres_dump, redis_dump, settings_with

PHONE = "+77015550101"


def cookie_header(r, name: str) -> str:
    found = [v for v in r.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
    assert len(found) == 1, r.headers.get_list("set-cookie")
    return found[0]


@pytest.fixture
async def b(settings, pool, voting_pool, voting_redis, portal_app, redis):  # ``redis``: the test database, flushed
    async with citizen_browser(settings, voting_pool, voting_redis, portal_app) as c:
        yield c


async def test_sign_in_with_the_code_from_the_outbox(b, settings, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    page = await b.get("/signin?next=/my-votes")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Телефон нөміріңізді енгізіңіз" in page.text  # Kazakh by default, one question
    r = await post_form(b, "/signin", {"phone": "8 701 555 01 01", "next": "/my-votes"}, page="/signin?next=/my-votes")
    assert r.status_code == 303 and r.headers["location"] == "/signin/code"
    code_page = await b.get("/signin/code")
    assert "+7 701 ••• •• 01" in code_page.text          # where the code went, masked
    assert "5 минут" in code_page.text                      # how long it is valid
    assert "Жаңа код сұрауға болатын уақыт: сағат" in code_page.text  # when a new one can be asked
    assert 'action="/signin/resend"' in code_page.text
    assert PHONE not in code_page.text and "555 01 01" not in code_page.text
    code = await outbox_code(b, PHONE)
    r = await b.post("/signin/code", data={"csrf_token": csrf_of(code_page.text), "code": f"{code[:3]} {code[3:]}"},
                     headers=same_origin(b))
    assert r.status_code == 303 and r.headers["location"] == "/my-votes"
    voter = cookie_header(r, "faces_voter")
    attrs = {a.strip().lower() for a in voter.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict"} <= attrs
    assert "secure" not in attrs                             # plain http on loopback in test: the one exception
    max_age = int(next(a for a in attrs if a.startswith("max-age="))[8:])
    assert settings.voter_token_ttl_s - 5 <= max_age <= settings.voter_token_ttl_s
    # The cookie holds the same voter token as the JSON API's: it works as a bearer token.
    token = voter.split(";")[0].split("=", 1)[1]
    api = await b.get(f"/api/v1/campaigns/{camp.id}/my-votes", headers=bearer(token))
    assert api.status_code == 200 and api.json()["votes_left"] == 2
    mine = await b.get("/my-votes")
    assert mine.status_code == 200 and "Сіз кірдіңіз." in mine.text


async def test_cookies_are_secure_and_host_prefixed_off_loopback(settings, pool, voting_pool, voting_redis, portal_app):
    async with citizen_browser(settings, voting_pool, voting_redis, portal_app, base_url="https://vote.example") as b:
        r = await sign_in(b, PHONE)
        voter = cookie_header(r, "__Host-faces_voter")
        attrs = {a.strip().lower() for a in voter.split(";")[1:]}
        assert {"httponly", "path=/", "samesite=strict", "secure"} <= attrs and not any(
            a.startswith("domain") for a in attrs)
        assert (await b.get("/my-votes")).status_code == 200  # read back under its prefixed name


@pytest.mark.parametrize(("lang", "missing", "invalid"), [
    ("kk", "Телефон нөміріңізді енгізіңіз", "Қазақстандық ұялы нөмірді енгізіңіз"),
    ("ru", "Введите номер телефона", "Введите казахстанский мобильный номер"),
    ("en", "Enter your phone number", "Enter a Kazakhstan mobile number"),
])
async def test_phone_errors_at_the_top_and_at_the_field(b, voting_redis, lang, missing, invalid):
    await b.get(f"/signin?lang={lang}")
    r = await post_form(b, "/signin", {"phone": ""})
    assert r.status_code == 422 and 'class="error-summary"' in r.text and 'href="#phone"' in r.text
    assert r.text.count(missing) >= 2  # the heading is the same words: summary + field message + label
    r = await post_form(b, "/signin", {"phone": "+7 495 123 45 67"})
    assert r.status_code == 422
    assert r.text.count(invalid) == 2                        # in the summary and at the field
    assert 'value="+7 495 123 45 67"' in r.text and 'aria-invalid="true"' in r.text  # kept, marked


async def test_wrong_codes_say_how_many_tries_remain_then_block(b, settings):
    await sign_in_start(b)
    code = await outbox_code(b, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    lefts = []
    for _ in range(settings.otp_max_attempts):
        r = await post_form(b, "/signin/code", {"code": wrong})
        assert r.status_code == 401 and 'role="alert"' in r.text
        lefts.append(r)
    assert "Қалған әрекет саны: 4." in lefts[0].text
    assert "Қалған әрекет саны: 1." in lefts[-2].text
    assert "Бұл кодты енді пайдалану мүмкін емес" in lefts[-1].text   # the last try used: no longer works
    r = await post_form(b, "/signin/code", {"code": code})              # even the right code, now
    assert r.status_code == 429 and "код бұғатталды" in r.text
    r = await post_form(b, "/signin/code", {"code": "12"})
    assert r.status_code == 422 and "Код 6 цифрдан тұрады" in r.text


async def sign_in_start(b, phone: str = PHONE, lang: str | None = None) -> None:
    page = "/signin" + (f"?lang={lang}" if lang else "")
    r = await post_form(b, "/signin", {"phone": phone}, page=page)
    assert r.status_code == 303, r.text


@pytest.mark.parametrize(("lang", "text"), [("kk", "Қалған әрекет саны: 4"), ("ru", "Осталось попыток: 4"),
                                            ("en", "Tries left: 4")])
async def test_wrong_code_message_in_each_language(b, lang, text):
    await sign_in_start(b, lang=lang)
    r = await post_form(b, "/signin/code", {"code": "000000" if (await outbox_code(b, PHONE)) != "000000"
                                            else "111111"})
    assert r.status_code == 401 and text in r.text


async def test_asking_again_too_soon_is_rate_limited_with_the_wait(b):
    await sign_in_start(b)
    r = await post_form(b, "/signin/resend", {}, page="/signin/code")
    assert r.status_code == 429 and "Жаңа код сұрау үшін" in r.text and "сек күтіңіз" in r.text
    r = await post_form(b, "/signin", {"phone": PHONE})
    assert r.status_code == 429 and "Код жақында ғана сұралды" in r.text
    assert 'href="/signin/code"' in r.text  # the code already sent can still be entered


async def test_resend_after_the_wait_sends_a_new_code(env, pool, voting_pool, voting_redis, redis):
    from voting_service.app import create_app
    fast = settings_with(env, OTP_RESEND_S="1")
    async with citizen_browser(fast, voting_pool, voting_redis, create_app(fast)) as b:
        await sign_in_start(b)
        first = await outbox_code(b, PHONE)
        time.sleep(1.1)
        r = await post_form(b, "/signin/resend", {}, page="/signin/code")
        assert r.status_code == 303 and r.headers["location"] == "/signin/code"
        assert "Жаңа код жіберілді" in (await b.get("/signin/code")).text
        second = await outbox_code(b, PHONE)
        r = await post_form(b, "/signin/code", {"code": second})
        assert r.status_code == 303 and cookie_header(r, "faces_voter")


async def test_next_must_be_a_path_of_this_site(b):
    for n, evil in enumerate(("//evil.example/x", "https://evil.example/", "/\\evil.example", "/signin")):
        r = await sign_in(b, f"+7701555020{n}", next_path=evil)
        assert r.headers["location"] == "/", evil
        b.cookies.clear()


async def test_code_page_without_a_pending_sign_in_goes_back_to_the_phone(b):
    r = await b.get("/signin/code")
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    assert "Кіру уақыты өтіп кетті" in (await b.get("/signin")).text


async def test_sign_out_forgets_the_voter(b):
    await sign_in(b, PHONE)
    assert (await b.get("/my-votes")).status_code == 200
    r = await post_form(b, "/signout", {}, page="/my-votes")
    assert r.status_code == 303 and r.headers["location"] == "/signout"
    assert 'faces_voter=""' in r.headers.get("set-cookie", "") or "faces_voter=;" in r.headers.get("set-cookie", "")
    assert "Сіз шықтыңыз" in (await b.get("/signout")).text
    r = await b.get("/my-votes")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/my-votes"


async def test_no_phone_number_is_stored_in_clear(b, settings, pool, redis):
    await sign_in(b, PHONE)
    await b.get("/my-votes")
    digits = PHONE[1:]
    outbox_keys = {k for k in await redis.keys("*") if "outbox" in k}  # the dev outbox is the SMS, by design
    dump = "\n".join(line for line in (await redis_dump(redis)).splitlines()
                     if line.split(" ", 1)[0] not in outbox_keys)
    assert digits[1:] not in dump and digits[-7:] not in dump
    assert PHONE not in await postgres_dump(pool)
    assert pseudonym(settings.secrets.pseudonym_key, "phone", PHONE) in dump  # only its pseudonym
    # and nothing readable in the browser either: the pending sign-in is sealed
    assert all(digits[-7:] not in v for v in b.cookies.values())


async def test_voter_cookie_expires_with_the_token(env, pool, voting_pool, voting_redis, redis):
    from voting_service.app import create_app
    short = settings_with(env, VOTER_TOKEN_TTL_S="2")
    async with citizen_browser(short, voting_pool, voting_redis, create_app(short)) as b:
        await sign_in(b, PHONE)
        assert (await b.get("/my-votes")).status_code == 200
        time.sleep(2.1)
        assert (await b.get("/my-votes")).status_code == 303


async def test_the_json_api_says_how_many_answers_the_code_still_takes(b):
    assert (await b.post("/api/v1/auth/otp", json={"phone": PHONE})).status_code == 202
    code = await outbox_code(b, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = await b.post("/api/v1/auth/otp/verify", json={"phone": PHONE, "code": wrong})
    assert r.status_code == 401 and r.json()["code"] == "invalid_code" and r.json()["attempts_left"] == 4
    r = await b.post("/api/v1/auth/otp/verify", json={"phone": "+77015559998", "code": wrong})
    assert r.status_code == 401 and r.json()["attempts_left"] == 0  # no code was sent to that number
