"""Account lifecycle on the real servers: deactivate / reactivate, roles, temporary passwords, the user's own
password change; each ends sessions and is audited; the last active admin stays; errors change nothing."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from admin_service.app import create_app
from admin_service.auth.context import Staff
from admin_service.services.users import create_user, update_account
from shared.infra import create_pool
from tests.integration.admin.conftest import CHEAP, CHEAP_HASHER, STAFF_PASSWORD, sign_in, staff_client
from tests.integration.admin.helpers import problem

NEW_PASSWORD = "Baikonur-Orbit-2027?"


async def audit_actions(pool: asyncpg.Pool, user_id: int | str) -> list[str]:
    rows = await pool.fetch("SELECT action FROM audit_log WHERE entity_type = 'user' AND entity_id = $1 ORDER BY id",
                            str(user_id))
    return [r["action"] for r in rows]


async def live_sessions(pool: asyncpg.Pool, user_id: int | str) -> int:
    return await pool.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                               int(user_id))


async def test_deactivation_ends_sessions_and_refuses_sign_in_until_reactivated(staff, anon, pool):
    admin, target = await staff("admin"), await staff("expert")
    uid = target.user["id"]
    r = await admin.patch(f"/api/v1/users/{uid}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["roles"] == ["expert"]
    problem(await target.get("/api/v1/session"), 401, "not_authenticated")
    problem(await sign_in(anon, target.email), 401, "invalid_credentials")
    assert await live_sessions(pool, uid) == 0
    r = await admin.patch(f"/api/v1/users/{uid}", json={"active": True})
    assert r.status_code == 200 and r.json()["active"] is True
    assert (await sign_in(anon, target.email)).status_code == 200
    assert (await audit_actions(pool, uid))[-2:] == ["user.update", "session.login"]
    entry = await pool.fetchrow("SELECT old_value, new_value, actor_email FROM audit_log WHERE action = 'user.update' "
                                "AND entity_id = $1 ORDER BY id LIMIT 1", str(uid))
    assert entry["actor_email"] == admin.email
    assert entry["old_value"]["active"] is True and entry["new_value"]["active"] is False
    assert entry["new_value"]["sessions_ended"] == 1


async def test_role_change_ends_the_sessions_and_takes_effect(staff, anon, pool):
    admin, target = await staff("admin"), await staff("expert")
    uid = target.user["id"]
    r = await admin.patch(f"/api/v1/users/{uid}", json={"roles": ["auditor", "expert", "auditor"]})
    assert r.status_code == 200 and r.json()["roles"] == ["auditor", "expert"]
    problem(await target.get("/api/v1/session"), 401, "not_authenticated")
    assert (await sign_in(target, target.email)).json()["user"]["roles"] == ["auditor", "expert"]
    assert (await target.get("/api/v1/audit")).status_code == 200
    # the same roles again: nothing to change, the new session lives, no audit entry
    n = len(await audit_actions(pool, uid))
    assert (await admin.patch(f"/api/v1/users/{uid}", json={"roles": ["expert", "auditor"]})).status_code == 200
    assert (await target.get("/api/v1/session")).status_code == 200 and len(await audit_actions(pool, uid)) == n


async def test_bad_patches_are_4xx_and_change_nothing(staff, pool):
    admin, target = await staff("admin"), await staff("expert")
    uid = target.user["id"]
    before = (len(await audit_actions(pool, uid)), await live_sessions(pool, uid))
    problem(await admin.patch("/api/v1/users/987654321", json={"active": False}), 404, "not_found")
    for body in ({}, {"roles": []}, {"roles": ["king"]}, {"active": "no"}, {"active": False, "email": "x@y.kz"},
                 {"roles": ["expert"] * 6}):
        problem(await admin.patch(f"/api/v1/users/{uid}", json=body), (400, 422), "invalid_request")
    assert (len(await audit_actions(pool, uid)), await live_sessions(pool, uid)) == before
    assert (await target.get("/api/v1/session")).status_code == 200


@pytest.fixture
async def lone_admin_app(fresh_database_url, admin_settings, redis):
    """An app on a database of its own, where the one admin created here is the only one."""
    pool = await create_pool(fresh_database_url, min_size=1, max_size=4)
    try:
        yield pool, create_app(admin_settings, pool=pool, redis=redis, password_hasher=CHEAP_HASHER)
    finally:
        await pool.close()


async def test_the_last_active_admin_can_neither_go_nor_lose_the_role(lone_admin_app):
    pool, app = lone_admin_app
    email = f"only-{uuid.uuid4().hex[:6]}@100faces.kz"
    row = await create_user(pool, email=email, password=STAFF_PASSWORD, roles=["admin"], actor=None, passwords=CHEAP)
    async with staff_client(app) as c:
        assert (await sign_in(c, email)).status_code == 200
        for body in ({"active": False}, {"roles": ["auditor"]}, {"active": False, "roles": ["admin"]}):
            problem(await c.patch(f"/api/v1/users/{row['id']}", json=body), 409, "last_admin")
        assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'user.update'") == 0
        assert (await c.get("/api/v1/session")).status_code == 200
        # with a second admin the first may step down (and is signed out by it)
        other = await create_user(pool, email=f"second-{uuid.uuid4().hex[:6]}@100faces.kz", password=STAFF_PASSWORD,
                                  roles=["admin"], actor=None, passwords=CHEAP)
        r = await c.patch(f"/api/v1/users/{row['id']}", json={"roles": ["auditor"]})
        assert r.status_code == 200 and r.json()["roles"] == ["auditor"]
        assert (await c.get("/api/v1/session")).status_code == 401
        # an inactive admin does not count
        await pool.execute("UPDATE users SET roles = '{admin}' WHERE id = $1", row["id"])
        await pool.execute("UPDATE users SET active = false WHERE id = $1", row["id"])
    async with staff_client(app) as c:
        assert (await sign_in(c, other["email"])).status_code == 200
        problem(await c.patch(f"/api/v1/users/{other['id']}", json={"active": False}), 409, "last_admin")


async def test_two_admins_demoting_each_other_at_once_leave_one(lone_admin_app):
    pool, app = lone_admin_app
    rows = [await create_user(pool, email=f"a{i}-{uuid.uuid4().hex[:6]}@100faces.kz", password=STAFF_PASSWORD,
                              roles=["admin"], actor=None, passwords=CHEAP) for i in range(2)]
    actors = [Staff(r["id"], r["email"], frozenset({"admin"})) for r in rows]
    # Through the service, so that neither request is stopped earlier by its actor's session ending.
    results = await asyncio.gather(
        update_account(pool, user_id=rows[1]["id"], active=False, roles=None, actor=actors[0]),
        update_account(pool, user_id=rows[0]["id"], active=None, roles=["expert"], actor=actors[1]),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["LastAdmin", "Record"]
    assert await pool.fetchval("SELECT count(*) FROM users WHERE active AND 'admin' = ANY (roles)") == 1
    async with staff_client(app) as a, staff_client(app) as b:  # over HTTP: the loser is 409 or signed out
        survivor = await pool.fetchval("SELECT email FROM users WHERE active AND 'admin' = ANY (roles)")
        third = await create_user(pool, email=f"a2-{uuid.uuid4().hex[:6]}@100faces.kz", password=STAFF_PASSWORD,
                                  roles=["admin"], actor=None, passwords=CHEAP)
        assert (await sign_in(a, survivor)).status_code == (await sign_in(b, third["email"])).status_code == 200
        sid = await pool.fetchval("SELECT id FROM users WHERE email = $1", survivor)
        ra, rb = await asyncio.gather(a.patch(f"/api/v1/users/{third['id']}", json={"active": False}),
                                      b.patch(f"/api/v1/users/{sid}", json={"active": False}))
    assert sorted([ra.status_code, rb.status_code]) in ([200, 401], [200, 409])
    assert await pool.fetchval("SELECT count(*) FROM users WHERE active AND 'admin' = ANY (roles)") == 1


async def test_temporary_password_signs_in_once_and_must_be_changed(staff, anon, pool):
    admin, target = await staff("admin"), await staff("secretariat")
    uid = target.user["id"]
    r = await admin.post(f"/api/v1/users/{uid}/password-reset")
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    assert len(temporary) >= 16
    problem(await target.get("/api/v1/session"), 401, "not_authenticated")  # the reset ended its sessions
    problem(await sign_in(anon, target.email), 401, "invalid_credentials")  # the old password is gone
    stored = await pool.fetchval("SELECT password_hash FROM users WHERE id = $1", int(uid))
    assert temporary not in stored and stored.startswith("$argon2id$")
    async with staff_client(anon._transport.app) as c:  # type: ignore[attr-defined]
        r = await sign_in(c, target.email, temporary)
        assert r.status_code == 200 and r.json()["required_action"] == "change_password"
        assert (await c.get("/api/v1/session")).json()["required_action"] == "change_password"
        problem(await c.get("/api/v1/candidates"), 403, "password_change_required")
        problem(await c.post("/api/v1/candidates", json={}), 403, "password_change_required")
        problem(await c.post("/api/v1/session/totp"), 403, "password_change_required")
        problem(await sign_in(anon, target.email, temporary), 401, "invalid_credentials")  # one use only
        problem(await c.post("/api/v1/session/password", json={"current_password": temporary,
                                                               "new_password": "password1234"}), 422, "weak_password")
        r = await c.post("/api/v1/session/password", json={"current_password": temporary, "new_password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
        assert (await c.get("/api/v1/session")).json()["required_action"] is None
        assert (await c.get("/api/v1/candidates")).status_code == 200
    assert (await sign_in(anon, target.email, NEW_PASSWORD)).status_code == 200
    assert (await audit_actions(pool, uid))[-4:] == ["user.password_reset", "session.login", "user.password_change",
                                                     "session.login"]
    problem(await admin.post("/api/v1/users/987654321/password-reset"), 404, "not_found")


async def test_an_expired_temporary_password_does_not_sign_in(staff, anon, pool):
    admin, target = await staff("admin"), await staff("expert")
    temporary = (await admin.post(f"/api/v1/users/{target.user['id']}/password-reset")).json()["temporary_password"]
    await pool.execute("UPDATE users SET password_expires_at = now() - interval '1 second' WHERE id = $1",
                       int(target.user["id"]))
    problem(await sign_in(anon, target.email, temporary), 401, "invalid_credentials")


async def test_two_sign_ins_with_one_temporary_password_at_once_get_one_session(admin_app, staff, pool):
    admin, target = await staff("admin"), await staff("expert")
    temporary = (await admin.post(f"/api/v1/users/{target.user['id']}/password-reset")).json()["temporary_password"]
    clients = [staff_client(admin_app, ip=f"198.51.100.{40 + i}") for i in range(4)]
    try:
        answers = await asyncio.gather(*(sign_in(c, target.email, temporary) for c in clients))
    finally:
        for c in clients:
            await c.aclose()
    assert sorted(r.status_code for r in answers) == [200, 401, 401, 401]
    assert await live_sessions(pool, target.user["id"]) == 1


async def test_own_password_change_needs_the_current_one_and_ends_the_other_sessions(admin_app, staff, anon, pool):
    me = await staff("expert")
    async with staff_client(admin_app, ip="198.51.100.50") as other:
        assert (await sign_in(other, me.email)).status_code == 200
        before = await pool.fetchval("SELECT password_hash FROM users WHERE id = $1", int(me.user["id"]))
        for current, new, status, code in (
                ("wrong-password-123", NEW_PASSWORD, 401, "invalid_credentials"),
                ("пароль-неверный-ǅ", NEW_PASSWORD, 401, "invalid_credentials"),
                (STAFF_PASSWORD, "short", 422, "weak_password"),
                (STAFF_PASSWORD, STAFF_PASSWORD, 422, "weak_password"),
                (STAFF_PASSWORD, me.email.split("@")[0] + "-Secret-9", 422, "weak_password")):
            r = await me.post("/api/v1/session/password", json={"current_password": current, "new_password": new})
            problem(r, status, code)
        problem(await me.post("/api/v1/session/password", json={"new_password": NEW_PASSWORD}), (400, 422),
                "invalid_request")
        assert await pool.fetchval("SELECT password_hash FROM users WHERE id = $1", int(me.user["id"])) == before
        assert (await other.get("/api/v1/session")).status_code == 200
        r = await me.post("/api/v1/session/password", json={"current_password": STAFF_PASSWORD,
                                                            "new_password": NEW_PASSWORD})
        assert r.status_code == 200 and r.json() == {"other_sessions_ended": 1}
        problem(await other.get("/api/v1/session"), 401, "not_authenticated")
        assert (await me.get("/api/v1/session")).status_code == 200
    problem(await sign_in(anon, me.email), 401, "invalid_credentials")
    assert (await sign_in(anon, me.email, NEW_PASSWORD)).status_code == 200


async def test_guessing_the_current_password_from_a_session_is_throttled(staff):
    me = await staff("auditor")
    codes = [(await me.post("/api/v1/session/password", json={"current_password": f"guess-{i}-xxxxxxxx",
                                                              "new_password": NEW_PASSWORD})).status_code
             for i in range(7)]
    assert codes == [401] * 5 + [429] * 2
