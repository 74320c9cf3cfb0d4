"""The staff accounts page (admin only): create an account through the form with the API's rules, refusals
back on the form with what was typed (never the password), end a user's sessions."""

from __future__ import annotations

import uuid

from tests.integration.admin.conftest import STAFF_PASSWORD
from tests.integration.admin.test_web_pages import html, signed_in  # noqa: F401 (signed_in is a fixture)


async def test_admin_creates_accounts_through_the_form_and_ends_sessions(signed_in, pool):
    admin = await signed_in("admin")
    body = html(await admin.get("/users"))
    assert 'href="/users"' in body and admin.user["email"] in body

    email = f"new-{uuid.uuid4().hex[:8]}@100faces.kz"
    form = {"csrf_token": admin.token, "email": email, "password": "Qyzylorda-Aral-1997", "role": ["expert", "auditor"]}
    r = await admin.post("/users", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/users?ok=user_created", r.text
    row = await pool.fetchrow("SELECT roles, password_hash FROM users WHERE email = $1", email)
    assert sorted(row["roles"]) == ["auditor", "expert"] and row["password_hash"].startswith("$argon2id$")
    assert f'data-user="{email}"' in html(await admin.get("/users?ok=user_created"))
    entry = await pool.fetchrow("SELECT actor_email, new_value FROM audit_log WHERE action = 'user.create' "
                                "AND new_value->>'email' = $1", email)
    assert entry["actor_email"] == admin.user["email"]

    # Refusals: the form again with the e-mail and roles typed, never the password.
    weak = {**form, "email": f"w-{email}", "password": "password1234"}
    body = html(await admin.post("/users", data=weak), 422)
    assert f'value="w-{email}"' in body and "password1234" not in body and 'value="expert" checked' in body
    html(await admin.post("/users", data={**form, "password": "Another-Strong-Pass-9"}), 409)
    html(await admin.post("/users", data={**form, "email": f"n-{email}", "role": []}), 422)
    html(await admin.post("/users", data={**form, "email": f"x-{email}", "role": ["superuser"]}), 422)
    html(await admin.post("/users", data={**form, "email": "not-an-email"}), 422)
    assert await pool.fetchval("SELECT count(*) FROM users WHERE email LIKE $1", f"%{email}") == 1

    # End another user's sessions: their next page is the sign-in page.
    other = await signed_in("secretariat")
    assert (await other.get("/candidates")).status_code == 200
    other_id = await pool.fetchval("SELECT id FROM users WHERE email = $1", other.user["email"])
    r = await admin.post(f"/users/{other_id}/end-sessions", data={"csrf_token": admin.token})
    assert r.status_code == 303 and r.headers["location"] == "/users?ok=sessions_ended"
    r = await other.get("/candidates")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    html(await admin.post("/users/987654321/end-sessions", data={"csrf_token": admin.token}), 404)


async def test_only_admins_see_and_use_the_accounts_page(signed_in, pool):
    for role in ("secretariat", "auditor", "working_group"):
        c = await signed_in(role)
        assert 'href="/users"' not in html(await c.get("/candidates"))
        html(await c.get("/users"), 403)
        html(await c.post("/users", data={"csrf_token": c.token, "email": f"{role}-x@100faces.kz",
                                          "password": STAFF_PASSWORD, "role": "admin"}), 403)
    admin = await signed_in("admin")
    assert (await admin.post("/users", data={"email": "nocsrf@100faces.kz", "password": STAFF_PASSWORD,
                                             "role": "admin"})).status_code == 403
    assert await pool.fetchval("SELECT count(*) FROM users WHERE email LIKE '%-x@100faces.kz' "
                               "OR email = 'nocsrf@100faces.kz'") == 0
