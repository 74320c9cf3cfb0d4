"""Staff sign-in, sessions, CSRF, throttling and the users API, on the real servers."""

from __future__ import annotations

import uuid

import httpx
import pytest

from admin_service.auth.passwords import check_policy
from admin_service.services.users import create_user
from tests.integration.admin.conftest import CHEAP, STAFF_PASSWORD


async def new_user(pool, *roles: str) -> str:
    email = f"u-{uuid.uuid4().hex[:8]}@100faces.kz"
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=list(roles) or ["auditor"], actor=None,
                      passwords=CHEAP)
    return email


async def test_login_sets_a_strict_httponly_cookie_and_returns_a_csrf_token(anon, pool):
    email = await new_user(pool, "secretariat")
    r = await anon.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["email"] == email and body["user"]["roles"] == ["secretariat"]
    assert len(body["csrf_token"]) >= 32
    cookie = r.headers["set-cookie"]
    assert "faces_admin_session=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # plain http in tests; https requests get Secure
    raw = cookie.split("faces_admin_session=")[1].split(";")[0]
    assert len(raw) >= 22  # 128 bits, urlsafe base64
    stored = await pool.fetchval("SELECT count(*) FROM sessions WHERE id_hash = encode(sha256($1::bytea), 'hex')",
                                 raw.encode())
    assert stored == 1  # only the hash is stored
    assert await pool.fetchval("SELECT count(*) FROM sessions WHERE id_hash = $1", raw) == 0


async def test_wrong_password_and_unknown_user_look_the_same(anon, pool):
    email = await new_user(pool)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@100faces.kz"  # other tests sign in as unknown users too
    for who in (email, nobody):
        r = await anon.post("/api/v1/session", json={"email": who, "password": "wrong-password-123"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    outcomes = await pool.fetch("SELECT email, outcome FROM login_attempts WHERE email = ANY($1)", [email, nobody])
    assert sorted(o["outcome"] for o in outcomes) == ["bad_credentials", "bad_credentials"]


async def test_every_login_attempt_is_logged(anon, pool):
    email = await new_user(pool)
    await anon.post("/api/v1/session", json={"email": email, "password": "nope-nope-nope"})
    await anon.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
    rows = await pool.fetch("SELECT outcome FROM login_attempts WHERE email = $1 ORDER BY id", email)
    assert [r["outcome"] for r in rows] == ["bad_credentials", "success"]


async def test_new_session_id_at_every_login_and_old_one_revoked(anon, pool):
    email = await new_user(pool)
    r1 = await anon.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
    first = anon.cookies.get("faces_admin_session")
    r2 = await anon.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
    second = anon.cookies.get("faces_admin_session")
    assert r1.status_code == r2.status_code == 200 and first != second
    anon.cookies.set("faces_admin_session", first)
    assert (await anon.get("/api/v1/session")).status_code == 401


async def test_logout_invalidates_on_the_server(staff):
    c = await staff("auditor")
    raw = c.cookies.get("faces_admin_session")
    assert (await c.get("/api/v1/session")).status_code == 200
    assert (await c.delete("/api/v1/session")).status_code == 204
    c.cookies.set("faces_admin_session", raw)  # a stolen copy of the cookie is dead too
    r = await c.get("/api/v1/session")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


async def test_idle_timeout(staff, pool):
    c = await staff("auditor")
    await pool.execute("UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1",
                       int(c.user["id"]))
    assert (await c.get("/api/v1/session")).status_code == 401


async def test_absolute_timeout(staff, pool):
    c = await staff("auditor")
    await pool.execute("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1",
                       int(c.user["id"]))
    assert (await c.get("/api/v1/session")).status_code == 401


async def test_state_change_needs_the_csrf_token(staff):
    admin = await staff("admin")
    token = admin.headers.pop("X-CSRF-Token")
    body = {"email": f"x-{uuid.uuid4().hex[:6]}@100faces.kz", "password": STAFF_PASSWORD, "roles": ["expert"]}
    r = await admin.post("/api/v1/users", json=body)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = await admin.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "wrong" + token})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = await admin.post("/api/v1/users", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201


async def test_cross_origin_post_is_refused(staff):
    admin = await staff("admin")
    body = {"email": f"x-{uuid.uuid4().hex[:6]}@100faces.kz", "password": STAFF_PASSWORD, "roles": ["expert"]}
    r = await admin.post("/api/v1/users", json=body, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = await admin.post("/api/v1/users", json=body, headers={"Origin": "http://127.0.0.1:8001"})
    assert r.status_code == 201


async def test_login_throttled_per_account_and_ip_but_the_real_user_gets_in_from_elsewhere(admin_app, pool):
    email = await new_user(pool)

    def client(ip: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=admin_app, client=(ip, 1)),
                                 base_url="http://127.0.0.1:8001")

    async with client("192.0.2.66") as attacker, client("192.0.2.10") as owner:
        codes = [(await attacker.post("/api/v1/session", json={"email": email, "password": f"guess-{i}-xxxxxx"}))
                 .status_code for i in range(7)]
        assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
        r = await attacker.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
        assert r.status_code == 429 and r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) > 0
        r = await owner.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
        assert r.status_code == 200
    assert await pool.fetchval("SELECT count(*) FROM login_attempts WHERE email = $1 AND outcome = 'throttled'",
                               email) == 3


async def test_users_api_creates_with_argon2id_and_refuses_weak_or_duplicate(staff, pool):
    admin = await staff("admin")
    email = f"new-{uuid.uuid4().hex[:6]}@100faces.kz"
    r = await admin.post("/api/v1/users", json={"email": email, "password": STAFF_PASSWORD, "roles": ["expert"]})
    assert r.status_code == 201 and r.json()["roles"] == ["expert"]
    h = await pool.fetchval("SELECT password_hash FROM users WHERE email = $1", email)
    # argon2id with the app's hasher (the tests' cheap one; test_passwords.py asserts production's)
    assert h.startswith("$argon2id$v=19$m=8,t=1,p=1$") and await CHEAP.verify(h, STAFF_PASSWORD)
    r = await admin.post("/api/v1/users", json={"email": email, "password": STAFF_PASSWORD, "roles": ["expert"]})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    for weak in ("short-pw", "password1234", "qwertyuiopasdf", "aaaaaaaaaaaaaaaa"):
        r = await admin.post("/api/v1/users", json={"email": f"w-{uuid.uuid4().hex[:6]}@x.kz", "password": weak,
                                                    "roles": ["expert"]})
        assert r.status_code == 422, weak
    r = await admin.post("/api/v1/users", json={"email": "bad", "password": STAFF_PASSWORD, "roles": ["expert"]})
    assert r.status_code in (400, 422) and r.json()["code"] == "invalid_request"
    r = await admin.post("/api/v1/users", json={"email": "a@b.kz", "password": STAFF_PASSWORD, "roles": ["king"]})
    assert r.status_code in (400, 422) and r.json()["code"] == "invalid_request"


async def test_admin_ends_a_users_sessions(staff):
    admin = await staff("admin")
    victim = await staff("expert")
    r = await admin.delete(f"/api/v1/users/{victim.user['id']}/sessions")
    assert r.status_code == 200 and r.json()["revoked"] == 1
    assert (await victim.get("/api/v1/session")).status_code == 401


@pytest.mark.parametrize("pw", ["Zhetisu-Steppe-2026!", "correct horse battery staple 9"])
def test_policy_accepts_strong_passwords(pw):
    check_policy(pw, email="someone@100faces.kz")


async def test_audit_log_is_append_only_for_the_application(staff, pool):
    admin = await staff("admin")  # the login itself is audited
    entry = await pool.fetchval("SELECT id FROM audit_log ORDER BY id DESC LIMIT 1")
    import asyncpg

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("UPDATE audit_log SET reason = 'rewritten' WHERE id = $1", entry)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("DELETE FROM audit_log WHERE id = $1", entry)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("TRUNCATE audit_log")
    r = await admin.get("/api/v1/audit", params={"actor": admin.user["email"]})
    assert r.status_code == 200
    assert any(i["action"] == "session.login" for i in r.json()["items"])


async def test_audit_is_for_admin_and_auditor_only(staff):
    for role, status in (("auditor", 200), ("admin", 200), ("secretariat", 403), ("expert", 403)):
        c = await staff(role)
        r = await c.get("/api/v1/audit")
        assert r.status_code == status, role


async def test_cookie_is_secure_in_production(env, pool, redis):
    from admin_service.app import create_app
    from shared.settings import Settings

    settings = Settings.from_env({**env, "APP_ENV": "production", "SMS_BACKEND": "http",
                                  "SMS_GATEWAY_URL": "https://sms.example.kz/send"}, service="admin")
    app = create_app(settings, pool=pool, redis=redis)
    email = await new_user(pool, "auditor")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("198.51.100.30", 1)),
                                 base_url="http://127.0.0.1:8001") as c:
        r = await c.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD})
    assert r.status_code == 200 and "Secure" in r.headers["set-cookie"]
    assert r.headers["set-cookie"].startswith("__Host-faces_admin_session=")


async def test_staff_throttling_sees_the_address_behind_the_trusted_proxy(env, pool, redis):
    """The admin service resolves the client as the voting service does (shared/client_ip.py): behind a
    trusted proxy, the throttle and the login log see the staff member's address, from every XFF line."""
    from admin_service.app import create_app
    from shared.settings import Settings

    settings = Settings.from_env({**env, "TRUSTED_PROXIES": "10.0.0.0/8"}, service="admin")
    app = create_app(settings, pool=pool, redis=redis)
    email = await new_user(pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.0.0.5", 1)),
                                 base_url="http://127.0.0.1:8001") as proxy:
        # The guesser writes a line of its own in front; the proxy's line names it: 192.0.2.66.
        guesser = [("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "192.0.2.66")]
        codes = [(await proxy.post("/api/v1/session", json={"email": email, "password": f"guess-{i}-xxxxxx"},
                                   headers=guesser)).status_code for i in range(6)]
        assert codes == [401] * 5 + [429]
        # The owner, behind the same proxy, from their own address, is not locked out.
        r = await proxy.post("/api/v1/session", json={"email": email, "password": STAFF_PASSWORD},
                             headers={"X-Forwarded-For": "::ffff:192.0.2.10"})
        assert r.status_code == 200, r.text
    hashes = await pool.fetch("SELECT DISTINCT ip_hash FROM login_attempts WHERE email = $1", email)
    assert len(hashes) == 2  # two people, neither of them the proxy


async def test_the_audit_log_records_the_address_behind_the_trusted_proxy(env, pool, redis):
    """Item 4: the audit log sees the staff member's real address (as a keyed hash), not the proxy's."""
    from admin_service.app import create_app
    from shared.client_ip import ip_hash
    from shared.settings import Settings
    from tests.integration.admin.conftest import CHEAP_HASHER

    settings = Settings.from_env({**env, "TRUSTED_PROXIES": "10.0.0.0/8"}, service="admin")
    app = create_app(settings, pool=pool, redis=redis, password_hasher=CHEAP_HASHER)
    admin_email = f"a-{uuid.uuid4().hex[:8]}@100faces.kz"
    await create_user(pool, email=admin_email, password=STAFF_PASSWORD, roles=["admin"], actor=None, passwords=CHEAP)
    staff_address = "::ffff:192.0.2.77"  # written by the proxy as an IPv4-mapped address
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.0.0.5", 1)),
                                 base_url="http://127.0.0.1:8001",
                                 headers={"X-Forwarded-For": f"198.51.100.9, {staff_address}"}) as c:
        r = await c.post("/api/v1/session", json={"email": admin_email, "password": STAFF_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        r = await c.post("/api/v1/users", json={"email": f"n-{uuid.uuid4().hex[:8]}@100faces.kz",
                                                "password": STAFF_PASSWORD, "roles": ["auditor"]})
        assert r.status_code == 201, r.text
        entries = (await c.get("/api/v1/audit", params={"actor": admin_email})).json()["items"]
    from ipaddress import ip_address

    expected = ip_hash(settings.secrets.staff_key, ip_address("192.0.2.77"))
    assert {e["action"] for e in entries} >= {"session.login", "user.create"}
    assert all(e["client_ip_hash"] == expected for e in entries), entries
    stored = await pool.fetch("SELECT client_ip_hash FROM audit_log WHERE actor_email = $1", admin_email)
    assert stored and all(row["client_ip_hash"] == expected for row in stored)
