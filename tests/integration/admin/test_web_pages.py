"""The admin web UI on the real servers: pages per role, sign-in redirect, 403 pages, CSRF on form posts,
the language switch, escaping and the Content-Security-Policy, and the candidate -> ballot flow through forms."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from importlib import resources

import httpx
import msgspec
import pytest

from shared.crypto import NOMINATION_CONTACT
from shared.votestore import keys
from shared.crypto import ContactSealer
from tests.integration.admin.conftest import CHEAP, STAFF_PASSWORD
from tests.integration.admin.helpers import create_candidate, set_status, shortlisted, status_of

HTML = "text/html"
SCRIPT = "<script>alert(1)</script>"


def html(resp: httpx.Response, status: int = 200) -> str:
    assert resp.status_code == status, f"{resp.status_code} != {status}: {resp.text[:2000]}"
    assert resp.headers["content-type"].startswith(HTML), resp.headers["content-type"]
    return resp.text


def csrf_of(client: httpx.AsyncClient) -> str:
    return client.headers["X-CSRF-Token"]


def as_browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Form posts as a browser sends them: the token in the form, not in a header."""
    client.headers.pop("X-CSRF-Token", None)
    return client


async def new_campaign(client: httpx.AsyncClient) -> str:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    r = await client.post("/campaigns", data={
        "csrf_token": client.token, "slug": f"web-{uuid.uuid4().hex[:10]}", "title_ru": "100 новых лиц",
        "title_kk": "100 жаңа есім", "title_en": "100 New Faces",
        "opens_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "votes_per_voter": "3", "seats": "100", "live_results": "on"})
    assert r.status_code == 303, r.text
    return r.headers["location"].split("/campaigns/")[1].split("?")[0]


@pytest.fixture
def signed_in(staff):
    """Like ``staff`` but the client posts forms as a browser does (``client.token`` for the hidden field)."""
    async def make(*roles: str) -> httpx.AsyncClient:
        c = await staff(*roles)
        c.token = csrf_of(c)  # type: ignore[attr-defined]
        return as_browser(c)
    return make


# --- who sees what ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "role"), [
    ("/candidates", "auditor"), ("/candidates", "expert"), ("/candidates/new", "secretariat"),
    ("/nominations", "secretariat"), ("/nominations", "auditor"), ("/campaigns", "expert"),
    ("/campaigns/new", "working_group"), ("/audit", "admin"), ("/audit", "auditor"),
])
async def test_pages_render_for_their_roles(signed_in, path, role):
    c = await signed_in(role)
    body = html(await c.get(path))
    assert "<html lang=\"ru\">" in body and c.user["email"] in body


async def test_card_and_campaign_pages_render(signed_in):
    sec = await signed_in("secretariat")
    sec.headers["X-CSRF-Token"] = sec.token
    card = await create_candidate(sec)
    as_browser(sec)
    for role in ("expert", "working_group", "auditor", "secretariat"):
        c = sec if role == "secretariat" else await signed_in(role)
        assert card["full_name"] in html(await c.get(f"/candidates/{card['id']}"))
    wg = await signed_in("working_group")
    cid = await new_campaign(wg)
    assert "100 новых лиц" in html(await wg.get(f"/campaigns/{cid}"))
    assert "100 новых лиц" in html(await (await signed_in("auditor")).get(f"/campaigns/{cid}"))


@pytest.mark.parametrize("path", ["/", "/candidates", "/candidates/1", "/nominations", "/campaigns", "/audit"])
async def test_without_a_session_pages_redirect_to_the_sign_in_page(anon, path):
    r = await anon.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
    if path != "/":
        assert r.headers["location"] == f"/login?next={path.replace('/', '%2F')}"


async def test_without_a_session_form_posts_and_htmx_requests_go_to_sign_in(anon):
    r = await anon.post("/candidates", data={"full_name": "x"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = await anon.get("/candidates", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/login")
    # the JSON API keeps its problem document
    r = await anon.get("/api/v1/candidates")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("role", "method", "path"), [
    ("expert", "GET", "/candidates/new"), ("expert", "GET", "/audit"), ("secretariat", "GET", "/campaigns/new"),
    ("working_group", "GET", "/nominations"), ("auditor", "GET", "/candidates/new"),
    ("expert", "POST", "/candidates"), ("auditor", "POST", "/nominations/6980f6ca-729a-442c-a3e2-89bfe1cff194/reject"),
    ("secretariat", "POST", "/campaigns"), ("expert", "POST", "/verification-requests/1/outcome"),
    ("secretariat", "POST", "/candidates/1/reviews"), ("auditor", "POST", "/candidates/1/transitions"),
])
async def test_wrong_role_gets_the_403_page(signed_in, role, method, path):
    c = await signed_in(role)
    r = await c.request(method, path, data={"csrf_token": c.token} if method == "POST" else None)
    body = html(r, 403)
    assert "Доступ запрещён" in body and "У вашей роли нет доступа" in body


async def test_unknown_records_get_the_404_page(signed_in):
    c = await signed_in("auditor")
    for path in ("/candidates/999999999999", "/candidates/abc", "/campaigns/999999999999"):
        assert "Не найдено" in html(await c.get(path), 404)


# --- CSRF and Origin ----------------------------------------------------------------------------------------

async def test_form_posts_without_the_csrf_token_are_refused(signed_in, pool):
    sec = await signed_in("secretariat")
    before = await pool.fetchval("SELECT count(*) FROM candidates")
    form = {"full_name": "Без токена", "region": "KZ-75", "sphere": "social", "gender": "male",
            "birth_year": "1980", "source_kind": "ngo", "story": "История без токена, которая не сохранится.",
            "achievement_claim": "Что-то сделал"}
    for extra in ({}, {"csrf_token": ""}, {"csrf_token": "forged-" + sec.token[7:]}):
        body = html(await sec.post("/candidates", data={**form, **extra}), 403)
        assert "Форма устарела или отправлена с другого сайта" in body
    assert (await sec.post("/logout", data={})).status_code == 403
    assert await pool.fetchval("SELECT count(*) FROM candidates") == before
    r = await sec.post("/candidates", data={**form, "csrf_token": sec.token})
    assert r.status_code == 303 and r.headers["location"].startswith("/candidates/")


async def test_cross_origin_form_posts_are_refused(signed_in):
    sec = await signed_in("secretariat")
    r = await sec.post("/logout", data={"csrf_token": sec.token}, headers={"Origin": "https://evil.example"})
    html(r, 403)
    assert (await sec.get("/candidates")).status_code == 200  # still signed in


# --- sign-in and sign-out -------------------------------------------------------------------------------------

async def _login_form(client: httpx.AsyncClient, next_path: str | None = None) -> str:
    body = html(await client.get("/login" + (f"?next={next_path}" if next_path else "")))
    return re.search(r'name="login_token" value="([^"]+)"', body).group(1)


async def test_sign_in_and_out_through_the_form(anon, pool):
    email = f"web-{uuid.uuid4().hex[:8]}@100faces.kz"
    from admin_service.services.users import create_user
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=["auditor"], actor=None,
                      passwords=CHEAP)

    token = await _login_form(anon, "/audit")
    r = await anon.post("/login", data={"email": email, "password": "wrong-password-1", "login_token": token,
                                        "next": "/audit"})
    assert "Неверная почта или пароль" in html(r, 401)

    token = await _login_form(anon)
    r = await anon.post("/login", data={"email": email.upper(), "password": STAFF_PASSWORD, "login_token": token,
                                        "next": "/audit"})
    assert r.status_code == 303 and r.headers["location"] == "/audit"
    assert "HttpOnly" in r.headers["set-cookie"] and "faces_admin_session=" in r.headers["set-cookie"]
    page = html(await anon.get("/audit"))
    assert email in page and "session.login" in page
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert (await anon.get("/login")).status_code == 303  # signed in already

    raw = anon.cookies.get("faces_admin_session")
    r = await anon.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    anon.cookies.set("faces_admin_session", raw)
    assert (await anon.get("/audit")).status_code == 303  # the session is dead on the server


async def test_sign_in_form_needs_its_token_and_never_redirects_off_site(anon, pool):
    email = f"web-{uuid.uuid4().hex[:8]}@100faces.kz"
    from admin_service.services.users import create_user
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=["expert"], actor=None,
                      passwords=CHEAP)
    r = await anon.post("/login", data={"email": email, "password": STAFF_PASSWORD})
    assert "Форма устарела" in html(r, 403)
    assert anon.cookies.get("faces_admin_session") is None
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        anon.cookies.clear()
        token = await _login_form(anon)
        r = await anon.post("/login", data={"email": email, "password": STAFF_PASSWORD, "login_token": token,
                                            "next": evil})
        assert r.status_code == 303 and r.headers["location"] == "/candidates"


# --- languages ---------------------------------------------------------------------------------------------------

def _catalogue(lang: str) -> dict[str, str]:
    return json.loads(resources.files("admin_service.web.i18n").joinpath(f"{lang}.json").read_text("utf-8"))


def test_the_three_catalogues_have_the_same_keys_and_kazakh_is_cyrillic():
    ru, kk, en = (_catalogue(x) for x in ("ru", "kk", "en"))
    assert ru.keys() == kk.keys() == en.keys()
    assert all(v.strip() for cat in (ru, kk, en) for v in cat.values())
    assert re.search("[әғқңөұүһі]", " ".join(kk.values()), re.IGNORECASE)  # Kazakh letters, Cyrillic script
    assert not re.search("[a-z]{4,}", kk["candidates.title"] + kk["nav.campaigns"])


async def test_language_switch_by_query_and_cookie(signed_in, anon):
    c = await signed_in("working_group")
    assert "Кандидаты" in html(await c.get("/candidates"))  # Russian by default
    r = await c.get("/candidates?lang=kk")
    body = html(r)
    assert '<html lang="kk">' in body and "Кандидаттар" in body and "Науқандар" in body
    assert "faces_admin_lang=kk" in r.headers["set-cookie"]
    body = html(await c.get("/campaigns"))  # remembered
    assert "Дауыс беру науқандары" in body and "Жаңа науқан" in body
    body = html(await c.get("/campaigns?lang=en"))
    assert '<html lang="en">' in body and "Voting campaigns" in body and "New campaign" in body
    body = html(await anon.get("/login?lang=en"))
    assert "Staff sign-in" in body and "Password" in body
    body = html(await c.get("/candidates?lang=xx"))  # unknown: the remembered one
    assert '<html lang="en">' in body


async def test_region_and_sphere_names_follow_the_language(signed_in):
    c = await signed_in("auditor")
    assert "Туркестанская область" in html(await c.get("/candidates?lang=ru"))
    assert "Түркістан облысы" in html(await c.get("/candidates?lang=kk"))
    assert "Turkistan Region" in html(await c.get("/candidates?lang=en"))


# --- escaping and CSP ----------------------------------------------------------------------------------------------

async def test_data_is_escaped_and_pages_forbid_inline_scripts(signed_in):
    sec = await signed_in("secretariat")
    r = await sec.post("/candidates", data={
        "csrf_token": sec.token, "full_name": SCRIPT, "region": "KZ-75", "sphere": "social", "gender": "female",
        "birth_year": "1985", "source_kind": "ngo", "source_name": '"><img src=x onerror=alert(2)>',
        "story": f"История {SCRIPT} с попыткой внедрить скрипт в страницу.",
        "achievement_claim": f"{SCRIPT} claim", "achievement_evidence": "https://example.kz/ok"})
    assert r.status_code == 303, r.text
    card_url = r.headers["location"].split("?")[0]
    for url in (card_url, "/candidates?q=alert", f"/audit?entity=candidate:{card_url.rsplit('/', 1)[1]}"):
        c = sec if "audit" not in url else await signed_in("auditor")
        resp = await c.get(url)
        body = html(resp)
        assert SCRIPT not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body or "\\u003cscript\\u003e" in body
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        for tag in re.findall(r"<script[^>]*>", body):
            assert re.search(r'src="/static/[a-z.]+\.js"', tag), tag  # no inline scripts at all


async def test_static_assets_are_served_without_a_session(anon):
    for name, kind in (("htmx.min.js", "javascript"), ("app.js", "javascript"), ("app.css", "css")):
        r = await anon.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    assert "htmx" in (await anon.get("/static/htmx.min.js")).text[:200]


# --- the forms do what the API does --------------------------------------------------------------------------------

async def test_card_offers_only_the_transitions_of_the_viewers_roles(signed_in):
    sec = await signed_in("secretariat")
    sec.headers["X-CSRF-Token"] = sec.token
    card = await create_candidate(sec)
    as_browser(sec)
    body = html(await sec.get(f"/candidates/{card['id']}"))
    options = re.findall(r'<option value="([a-z_]+)">', body.split('data-testid="transition-form"')[1].split("</form>")[0])
    assert options == ["under_verification"]
    expert = await signed_in("expert")
    body = html(await expert.get(f"/candidates/{card['id']}"))
    assert 'data-testid="transition-form"' not in body and "С вашей ролью статус сейчас изменить нельзя" in body
    # a target the role may not reach is refused even if posted by hand
    r = await expert.post(f"/candidates/{card['id']}/transitions", data={"csrf_token": expert.token,
                                                                         "to": "shortlisted"})
    assert "У вашей роли нет доступа" in html(r, 403)
    r = await expert.post(f"/candidates/{card['id']}/transitions", data={"csrf_token": expert.token,
                                                                         "to": "recommended", "reason": "x" * 30})
    assert "Такой переход статуса сейчас невозможен" in html(r, 409)


async def test_candidate_to_published_ballot_through_the_forms(signed_in, pool, redis):
    sec = await signed_in("secretariat")
    r = await sec.post("/candidates", data={
        "csrf_token": sec.token, "full_name": "Гульнара Абенова", "region": "KZ-61", "sphere": "healthcare",
        "gender": "female", "birth_year": "1979", "ethnicity": "kazakh", "source_kind": "akimat",
        "source_name": "Акимат Туркестанской области", "summary": "Сельский врач",
        "story": "Открыла первый в районе центр телемедицины и спасла сотни пациентов.",
        "achievement_claim": ["Центр телемедицины", ""], "achievement_evidence": ["https://example.kz/tm", ""],
        "contact_phone": "+77011112233"})
    assert r.status_code == 303, r.text
    cid = r.headers["location"].split("/candidates/")[1].split("?")[0]
    body = html(await sec.get(r.headers["location"]))
    assert "Карточка создана" in body and "+77011112233" in body  # the secretariat reads the contact

    async def move(client, to, reason=""):
        resp = await client.post(f"/candidates/{cid}/transitions",
                                 data={"csrf_token": client.token, "to": to, "reason": reason})
        assert resp.status_code == 303, resp.text
        assert await status_of(pool, cid) == to

    await move(sec, "under_verification")
    # verified before any confirmed answer: 409 page, nothing changes
    r = await sec.post(f"/candidates/{cid}/transitions", data={"csrf_token": sec.token, "to": "verified"})
    assert "Такой переход статуса сейчас невозможен" in html(r, 409)
    r = await sec.post(f"/candidates/{cid}/verification-requests", data={
        "csrf_token": sec.token, "authority": "УВП Туркестанской области", "question": "Подтвердите место работы"})
    assert r.status_code == 303
    vid = await pool.fetchval("SELECT id FROM verification_requests WHERE candidate_id = $1", int(cid))
    r = await sec.post(f"/verification-requests/{vid}/outcome",
                       data={"csrf_token": sec.token, "outcome": "confirmed", "notes": "Подтверждено письмом"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/candidates/{cid}")
    await move(sec, "verified")
    await move(sec, "under_review")

    expert = await signed_in("expert")
    assert 'data-testid="review-form"' in html(await expert.get(f"/candidates/{cid}"))
    r = await expert.post(f"/candidates/{cid}/reviews", data={"csrf_token": expert.token, "recommend": "yes",
                                                              "motivation": "Яркая история, подтверждённые факты."})
    assert r.status_code == 303
    body = html(await expert.get(f"/candidates/{cid}"))
    assert 'data-testid="review-form"' not in body and "За: 1 · против: 0" in body
    await move(expert, "recommended", "Рекомендую по итогам экспертизы.")

    wg = await signed_in("working_group")
    await move(wg, "shortlisted")
    others = await shortlisted(pool, 2)
    camp = await new_campaign(wg)
    page = html(await wg.get(f"/campaigns/{camp}"))
    assert f'value="{cid}"' in page and all(f'value="{o}"' in page for o in others)
    # the htmx preview: composition of the ticked boxes, nothing saved
    wg.headers["HX-Request"] = "true"
    r = await wg.post(f"/campaigns/{camp}/ballot/preview", data={"csrf_token": wg.token, "candidate_id": [cid, others[0]]},
                      headers={"X-CSRF-Token": wg.token})
    del wg.headers["HX-Request"]
    frag = html(r)
    assert 'data-total="2"' in frag and "<html" not in frag and "Кандидатов в бюллетене: 2" in frag
    assert await pool.fetchval("SELECT count(*) FROM ballot_entries WHERE campaign_id = $1", int(camp)) == 0
    r = await wg.post(f"/campaigns/{camp}/ballot", data={"csrf_token": wg.token, "candidate_id": [cid, others[1]]})
    assert r.status_code == 303
    page = html(await wg.get(f"/campaigns/{camp}"))
    assert 'data-total="2"' in page and 'data-testid="publish"' in page
    r = await wg.post(f"/campaigns/{camp}/publish", data={"csrf_token": wg.token})
    assert r.status_code == 303
    assert await status_of(pool, cid) == "on_ballot"
    page = html(await wg.get(f"/campaigns/{camp}"))
    assert 'data-state="published"' in page and 'data-testid="close"' in page and "Гульнара Абенова" in page
    assert await redis.hget(keys.campaign_meta(int(camp)), "state") == b"published" or \
        await redis.hget(keys.campaign_meta(int(camp)), "state") == "published"
    r = await wg.post(f"/campaigns/{camp}/close", data={"csrf_token": wg.token})
    assert r.status_code == 303 and 'data-state="closed"' in html(await wg.get(f"/campaigns/{camp}"))
    # a second publish is a 409 page, not an error document
    assert "Действие сейчас невозможно" in html(await wg.post(f"/campaigns/{camp}/publish",
                                                              data={"csrf_token": wg.token}), 409)


async def test_candidate_form_errors_come_back_with_what_was_typed(signed_in):
    sec = await signed_in("secretariat")
    r = await sec.post("/candidates", data={
        "csrf_token": sec.token, "full_name": "Ерлан Жаксылыков", "region": "KZ-99", "sphere": "social",
        "gender": "male", "birth_year": "1980", "source_kind": "ngo", "story": "Достаточно длинная история успеха.",
        "achievement_claim": "Построил школу"})
    body = html(r, 422)
    assert "Проверьте форму" in body and 'value="Ерлан Жаксылыков"' in body and "Построил школу" in body


async def test_campaign_form_errors_come_back_with_what_was_typed(signed_in):
    wg = await signed_in("working_group")
    r = await wg.post("/campaigns", data={
        "csrf_token": wg.token, "slug": "bad slug!", "title_ru": "Сезон", "title_kk": "Маусым", "title_en": "Season",
        "opens_at": "2030-01-01T10:00", "closes_at": "2030-01-10T10:00", "votes_per_voter": "3", "seats": "100"})
    body = html(r, 422)
    assert "Проверьте форму" in body and 'value="Маусым"' in body


async def test_nomination_triage_queue(signed_in, pool, settings):
    sealer = ContactSealer(settings.secrets.contact_public_key)  # as the voting service seals it

    async def nomination(name: str) -> str:
        contact = msgspec.json.encode({"full_name": "Асель Нурланова", "phone": "+77015550011"})
        return str(await pool.fetchval(
            "INSERT INTO nominations (nominee, story, achievements, nominator_kind, nominator_sealed, "
            "nominator_pseudonym) VALUES ($1, $2, $3, 'third_party', $4, 'p') RETURNING id",
            {"full_name": name, "region": "KZ-71", "sphere": "social", "gender": "female", "birth_year": 1988},
            "Создала фонд помощи детям с особыми потребностями в столице.",
            [{"claim": "Фонд помог 300 семьям", "evidence_url": "https://example.kz/fund"}],
            sealer.seal(contact, context=NOMINATION_CONTACT)))

    names = [f"{SCRIPT} {uuid.uuid4().hex[:6]}", f"Жанар {uuid.uuid4().hex[:6]}", f"Динара {uuid.uuid4().hex[:6]}"]
    ids = [await nomination(n) for n in names]
    sec = await signed_in("secretariat")
    # The queue is oldest first and the session's database holds earlier tests' nominations: these three, the
    # newest, are on the last page ("Страница 1 из N").
    pages = re.search(r"Страница \d+ из (\d+)", html(await sec.get("/nominations?page=1")))
    last = int(pages.group(1)) if pages else 1
    body = html(await sec.get(f"/nominations?page={last}"))
    assert SCRIPT not in body and "+77015550011" in body  # the secretariat reads the nominator's contact
    auditor = await signed_in("auditor")
    body = html(await auditor.get(f"/nominations?page={last}"))
    assert "+77015550011" not in body and 'data-testid="accept"' not in body

    r = await sec.post(f"/nominations/{ids[0]}/reject", data={"csrf_token": sec.token, "reason": "Нет фактов"})
    assert r.status_code == 303 and r.headers["location"] == "/nominations?ok=rejected"
    r = await sec.post(f"/nominations/{ids[1]}/accept", data={"csrf_token": sec.token})
    assert r.status_code == 303
    new_card = r.headers["location"].split("/candidates/")[1].split("?")[0]
    assert await status_of(pool, new_card) == "nominated"
    r = await sec.post(f"/nominations/{ids[2]}/merge",
                       data={"csrf_token": sec.token, "candidate_id": new_card, "reason": "Та же семья"})
    assert r.status_code == 303
    rows = await pool.fetch("SELECT id::text, status FROM nominations WHERE id = ANY($1::uuid[])", ids)
    assert {r["id"]: r["status"] for r in rows} == dict(zip(ids, ["rejected", "accepted", "merged"], strict=True))
    assert "Действие сейчас невозможно" in html(
        await sec.post(f"/nominations/{ids[0]}/accept", data={"csrf_token": sec.token}), 409)
    body = html(await sec.get("/nominations?status=rejected"))
    assert "Нет фактов" in body


async def test_audit_page_filters_by_entity_and_actor(signed_in, pool):
    sec = await signed_in("secretariat")
    sec.headers["X-CSRF-Token"] = sec.token
    card = await create_candidate(sec)
    await set_status(pool, card["id"], "nominated")
    auditor = await signed_in("auditor")
    body = html(await auditor.get(f"/audit?entity=candidate:{card['id']}"))
    assert "candidate.create" in body and sec.user["email"] in body and "session.login" not in body
    body = html(await auditor.get(f"/audit?actor={sec.user['email']}"))
    assert "candidate.create" in body and "session.login" in body
    assert "карточка создана" in body and "вход" in body  # each action named in the reader's language
    assert "карточка құрылды" in html(await auditor.get(f"/audit?actor={sec.user['email']}&lang=kk"))
