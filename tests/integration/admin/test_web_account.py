"""Staff account pages in the browser's way (forms with the CSRF field): "My account" (password change, TOTP
enrolment with recovery codes shown once), the sign-in form's code field, the forced password change after
a temporary password, and the Staff page's deactivate / roles / temporary password."""

from __future__ import annotations

import re
import uuid

import msgspec
import pytest

from admin_service.app import create_app
from admin_service.services.users import create_user
from tests.integration.admin.conftest import CHEAP, CHEAP_HASHER, STAFF_PASSWORD, staff_client, totp_code
from tests.integration.admin.test_web_pages import _login_form, html, signed_in  # noqa: F401 (fixture)

NEW_PASSWORD = "Baikonur-Orbit-2027?"


def csrf_in(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


async def web_sign_in(c, email: str, password: str = STAFF_PASSWORD, totp: str = "", next_path: str = "/audit"):
    token = await _login_form(c)
    return await c.post("/login", data={"email": email, "password": password, "totp": totp, "login_token": token,
                                        "next": next_path})


async def test_account_page_changes_the_password(signed_in, pool):
    me = await signed_in("expert")
    body = html(await me.get("/account"))
    assert 'action="/account/password"' in body and f'value="{me.token}"' in body and 'href="/account"' in body
    before = await pool.fetchval("SELECT password_hash FROM users WHERE email = $1", me.user["email"])
    form = {"csrf_token": me.token, "current_password": STAFF_PASSWORD, "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD}
    assert "не совпадают" in html(await me.post("/account/password", data={**form, "new_password2": "x"}), 422)
    assert "Текущий пароль неверен" in html(await me.post("/account/password",
                                                          data={**form, "current_password": "nope-nope-nope"}), 401)
    html(await me.post("/account/password", data={**form, "new_password": "password1234",
                                                   "new_password2": "password1234"}), 422)
    assert (await me.post("/account/password", data={k: v for k, v in form.items() if k != "csrf_token"})
            ).status_code == 403
    assert await pool.fetchval("SELECT password_hash FROM users WHERE email = $1", me.user["email"]) == before
    r = await me.post("/account/password", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/account?ok=password_changed"
    assert "Пароль изменён" in html(await me.get("/account?ok=password_changed"))
    assert await pool.fetchval("SELECT password_hash FROM users WHERE email = $1", me.user["email"]) != before


async def test_totp_enrolment_through_the_page_and_sign_in_with_the_code(signed_in, anon, pool):
    me = await signed_in("secretariat")
    r = await me.post("/account/totp", data={"csrf_token": me.token})
    assert r.status_code == 303
    body = html(await me.get("/account"))
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', body).group(1)
    assert "otpauth://totp/" in body and 'src="data:image/svg+xml' in body  # the QR code, no inline script
    assert "<script>" not in body and "style=" not in body
    assert "Код неверен" in html(await me.post("/account/totp/confirm", data={"csrf_token": me.token,
                                                                             "code": "12345"}), 401)
    body = html(await me.post("/account/totp/confirm", data={"csrf_token": me.token, "code": totp_code(secret, -1)}))
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", body)
    assert len(codes) == 10
    page = html(await me.get("/account"))
    assert codes[0] not in page and 'data-testid="totp-enrolled"' in page and "10" in page  # shown once only
    # the sign-in form: the code is asked for after a right password, and then works
    r = await web_sign_in(anon, me.user["email"])
    body = html(r, 401)
    assert "Введите код из приложения" in body and 'name="totp"' in body and "required autofocus" in body
    r = await web_sign_in(anon, me.user["email"], totp=totp_code(secret))
    assert r.status_code == 303 and r.headers["location"] == "/audit"
    anon.cookies.clear()
    r = await web_sign_in(anon, me.user["email"], totp=codes[0])
    assert r.status_code == 303 and r.headers["location"] == "/audit"


async def test_temporary_password_leads_to_the_forced_change(signed_in, anon, pool):
    admin = await signed_in("admin")
    target = await signed_in("auditor")
    uid = await pool.fetchval("SELECT id FROM users WHERE email = $1", target.user["email"])
    body = html(await admin.post(f"/users/{uid}/password-reset", data={"csrf_token": admin.token}))
    temporary = re.search(r'data-testid="temporary-password">.*?<code>([^<]+)</code>', body, re.S).group(1)
    assert target.user["email"] in body
    assert temporary not in html(await admin.get("/users"))  # shown once
    r = await web_sign_in(anon, target.user["email"], temporary)
    assert r.status_code == 303 and r.headers["location"] == "/account"
    r = await anon.get("/audit")
    assert r.status_code == 303 and r.headers["location"] == "/account"  # every other page sends it back
    page = html(await anon.get("/account"))
    assert 'data-testid="required"' in page and "временным паролем" in page and 'action="/account/totp"' not in page
    csrf = csrf_in(page)
    r = await anon.post("/account/password", data={"csrf_token": csrf, "current_password": temporary,
                                                   "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert r.status_code == 303
    assert html(await anon.get("/audit"))
    html(await anon.get("/logout"))


async def test_required_mfa_sends_an_admin_to_enrol_first(admin_settings, pool, redis):
    app = create_app(msgspec.structs.replace(admin_settings, staff_mfa="required"), pool=pool, redis=redis,
                     password_hasher=CHEAP_HASHER)
    email = f"wg-{uuid.uuid4().hex[:8]}@100faces.kz"
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=["working_group"], actor=None,
                      passwords=CHEAP)
    async with staff_client(app) as c:
        r = await web_sign_in(c, email, next_path="/campaigns")
        assert r.status_code == 303 and r.headers["location"] == "/account"
        assert (await c.get("/campaigns")).headers["location"] == "/account"
        page = html(await c.get("/account"))
        assert "нужен второй фактор" in page and page.index('id="totp"') < page.index('id="password"')
        assert 'href="/campaigns"' not in page  # no navigation it could not use
        csrf = csrf_in(page)
        assert (await c.post("/account/totp", data={"csrf_token": csrf})).status_code == 303
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html(await c.get("/account"))).group(1)
        body = html(await c.post("/account/totp/confirm", data={"csrf_token": csrf, "code": totp_code(secret)}))
        assert 'data-testid="recovery-codes"' in body and 'data-testid="required"' not in body
        assert 'href="/campaigns"' in body  # the session is a full one now
        assert html(await c.get("/campaigns"))


async def test_staff_page_deactivates_reactivates_and_edits_roles(signed_in, pool):
    admin = await signed_in("admin")
    other = await signed_in("expert")
    uid = await pool.fetchval("SELECT id FROM users WHERE email = $1", other.user["email"])
    body = html(await admin.get("/users"))
    assert f'action="/users/{uid}/active"' in body and f'action="/users/{uid}/roles"' in body
    r = await admin.post(f"/users/{uid}/active", data={"csrf_token": admin.token, "active": "false"})
    assert r.status_code == 303 and r.headers["location"] == "/users?ok=user_deactivated"
    assert (await other.get("/candidates")).status_code == 303  # signed out
    assert not await pool.fetchval("SELECT active FROM users WHERE id = $1", uid)
    r = await admin.post(f"/users/{uid}/active", data={"csrf_token": admin.token, "active": "true"})
    assert r.headers["location"] == "/users?ok=user_activated"
    r = await admin.post(f"/users/{uid}/roles", data={"csrf_token": admin.token, "role": ["auditor", "expert"]})
    assert r.headers["location"] == "/users?ok=roles_changed"
    assert sorted(await pool.fetchval("SELECT roles FROM users WHERE id = $1", uid)) == ["auditor", "expert"]
    html(await admin.post(f"/users/{uid}/roles", data={"csrf_token": admin.token, "role": []}), 422)
    html(await admin.post(f"/users/{uid}/roles", data={"csrf_token": admin.token, "role": ["king"]}), 422)
    html(await admin.post(f"/users/{uid}/active", data={"csrf_token": admin.token, "active": "maybe"}), 422)
    html(await admin.post("/users/987654321/active", data={"csrf_token": admin.token, "active": "false"}), 404)
    html(await admin.post("/users/987654321/password-reset", data={"csrf_token": admin.token}), 404)
    html(await admin.post("/users/987654321/totp-reset", data={"csrf_token": admin.token}), 404)
    r = await admin.post(f"/users/{uid}/totp-reset", data={"csrf_token": admin.token})
    assert r.status_code == 303 and r.headers["location"] == "/users?ok=totp_reset"
    assert "второй фактор пользователя удалён" in html(await admin.get("/users?ok=totp_reset")).lower()
    assert (await admin.post(f"/users/{uid}/active", data={"active": "false"})).status_code == 403  # no CSRF
    assert await pool.fetchval("SELECT active FROM users WHERE id = $1", uid)


@pytest.mark.parametrize("path", ["/users/1/active", "/users/1/roles", "/users/1/password-reset",
                                  "/users/1/totp-reset"])
async def test_staff_actions_are_for_admins_only(signed_in, path):
    c = await signed_in("secretariat")
    html(await c.post(path, data={"csrf_token": c.token, "active": "false", "role": "admin"}), 403)
