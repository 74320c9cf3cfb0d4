"""The TOTP second factor on the real servers: enrolment, sign-in with a code or a recovery code (each once),
what is stored, and STAFF_MFA=required (the production default) for admin and working_group."""

from __future__ import annotations

import base64
import uuid

import msgspec
import pyotp
import pytest

from admin_service.app import create_app
from admin_service.auth import totp as otp
from admin_service.services.users import create_user
from tests.integration.admin.conftest import (
    CHEAP,
    CHEAP_HASHER,
    STAFF_PASSWORD,
    enrol_totp,
    sign_in,
    staff_client,
    totp_code,
)
from tests.integration.admin.helpers import problem


async def test_enrolment_is_pending_until_a_current_code_confirms_it(staff, pool, admin_settings):
    me = await staff("expert")
    uid = int(me.user["id"])
    first = (await me.post("/api/v1/session/totp")).json()
    r = await me.post("/api/v1/session/totp")  # a second start replaces the pending secret
    assert r.status_code == 200 and r.json()["secret"] != first["secret"]
    secret, uri = r.json()["secret"], r.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and len(base64.b32decode(secret)) == 20
    other = "000000" if totp_code(secret) != "000000" else "111111"
    for bad in (totp_code(first["secret"]), other, "١٢٣٤٥٦", "x" * 64):
        problem(await me.post("/api/v1/session/totp/confirm", json={"code": bad}), 401, "invalid_code")
    problem(await me.post("/api/v1/session/totp/confirm", json={"code": "1" * 65}), (400, 422), "invalid_request")
    assert await pool.fetchval("SELECT confirmed_at FROM staff_totp WHERE user_id = $1", uid) is None
    r = await me.post("/api/v1/session/totp/confirm", json={"code": totp_code(secret)})
    assert r.status_code == 200
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    problem(await me.post("/api/v1/session/totp"), 409, "already_enrolled")
    problem(await me.post("/api/v1/session/totp/confirm", json={"code": totp_code(secret, 1)}), 409, "already_enrolled")
    # stored: the secret sealed under the staff key, the recovery codes as keyed hashes only
    row = await pool.fetchrow("SELECT secret_enc, confirmed_at FROM staff_totp WHERE user_id = $1", uid)
    assert secret.encode() not in row["secret_enc"] and row["confirmed_at"] is not None
    assert otp.unseal(admin_settings.secrets.staff_key, uid, row["secret_enc"]) == secret
    hashes = {r["code_hash"] for r in await pool.fetch("SELECT code_hash FROM staff_recovery_codes WHERE user_id = $1",
                                                        uid)}
    assert hashes == {otp.recovery_hash(admin_settings.secrets.staff_key, uid, c) for c in codes}
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in hashes)
    actions = [r["action"] for r in await pool.fetch(
        "SELECT action FROM audit_log WHERE entity_type = 'user' AND entity_id = $1 ORDER BY id", str(uid))]
    assert actions[-3:] == ["user.totp_enrolment_started", "user.totp_enrolment_started", "user.totp_enrolled"]


async def test_confirm_without_a_pending_enrolment_is_409(staff):
    me = await staff("auditor")
    problem(await me.post("/api/v1/session/totp/confirm", json={"code": "123456"}), 409, "no_pending_enrolment")


async def test_confirming_ends_the_other_sessions(admin_app, staff):
    me = await staff("secretariat")
    async with staff_client(admin_app, ip="198.51.100.60") as other:
        assert (await sign_in(other, me.email)).status_code == 200
        await enrol_totp(me)
        problem(await other.get("/api/v1/session"), 401, "not_authenticated")
    assert (await me.get("/api/v1/session")).status_code == 200


async def test_sign_in_with_a_factor_needs_a_fresh_code_or_an_unused_recovery_code(admin_app, staff, pool):
    me = await staff("secretariat")
    secret, codes = await enrol_totp(me)
    # (two addresses: more than five failures from one would be throttled)
    async with staff_client(admin_app, ip="198.51.100.61") as c, staff_client(admin_app, ip="198.51.100.63") as c2:
        problem(await sign_in(c, me.email), 401, "mfa_required")
        # a wrong password says nothing about the second factor, with or without a code
        problem(await sign_in(c2, me.email, "wrong-password-123"), 401, "invalid_credentials")
        problem(await sign_in(c2, me.email, "wrong-password-123", totp=totp_code(secret)), 401, "invalid_credentials")
        problem(await sign_in(c, me.email, totp="000000" if totp_code(secret) != "000000" else "111111"), 401,
                "invalid_credentials")
        problem(await sign_in(c, me.email, totp="ǅ" * 6), 401, "invalid_credentials")
        used = await pool.fetchval("SELECT last_step FROM staff_totp WHERE user_id = $1", int(me.user["id"]))
        problem(await sign_in(c, me.email, totp=pyotp.TOTP(secret).at(used * 30)), 401,
                "invalid_credentials")  # the step used at enrolment
        code = totp_code(secret)
        assert (await sign_in(c, me.email, totp=code)).status_code == 200
        problem(await sign_in(c, me.email, totp=code), 401, "invalid_credentials")  # a code works once
        nxt = totp_code(secret, 1)
        assert (await sign_in(c, me.email, totp=f" {nxt[:3]} {nxt[3:]}")).status_code == 200  # +1 step is fine
        r = await sign_in(c, me.email, totp=codes[3].upper().replace("-", ""))
        assert r.status_code == 200 and r.json()["user"]["email"] == me.email
        problem(await sign_in(c, me.email, totp=codes[3]), 401, "invalid_credentials")  # a recovery code works once
    outcomes = [r["outcome"] for r in await pool.fetch(
        "SELECT outcome FROM login_attempts WHERE email = $1 ORDER BY id", me.email)]
    assert outcomes[1:] == ["mfa_required", "bad_credentials", "bad_credentials", "bad_second_factor",
                            "bad_second_factor", "bad_second_factor", "success", "bad_second_factor", "success",
                            "success", "bad_second_factor"]
    left = await pool.fetchval("SELECT count(*) FROM staff_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                               int(me.user["id"]))
    assert left == 9


async def test_wrong_codes_count_against_the_sign_in_limit(admin_app, staff):
    me = await staff("auditor")
    secret, _ = await enrol_totp(me)
    wrong = "000000" if totp_code(secret) != "000000" and totp_code(secret, 1) != "000000" else "999999"
    async with staff_client(admin_app, ip="198.51.100.62") as c:
        answers = [(await sign_in(c, me.email, totp=wrong)).status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]
        problem(await sign_in(c, me.email, totp=totp_code(secret)), 429, "rate_limited")


@pytest.fixture
async def required_app(admin_settings, pool, redis):
    """The admin app with STAFF_MFA=required, the production default (the rest of the suite runs optional)."""
    return create_app(msgspec.structs.replace(admin_settings, staff_mfa="required"), pool=pool, redis=redis,
                      password_hasher=CHEAP_HASHER)


async def new_account(pool, *roles: str) -> str:
    email = f"mfa-{uuid.uuid4().hex[:8]}@100faces.kz"
    await create_user(pool, email=email, password=STAFF_PASSWORD, roles=list(roles), actor=None, passwords=CHEAP)
    return email


@pytest.mark.parametrize("role", ["admin", "working_group"])
async def test_required_mfa_role_without_a_factor_may_only_enrol(required_app, pool, role):
    email = await new_account(pool, role, "auditor")
    async with staff_client(required_app) as c:
        r = await sign_in(c, email)
        assert r.status_code == 200 and r.json()["required_action"] == "enrol_totp"
        assert (await c.get("/api/v1/session")).json()["required_action"] == "enrol_totp"
        for method, path in (("GET", "/api/v1/candidates"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/users"),
                             ("POST", "/api/v1/campaigns")):
            problem(await c.request(method, path, json={} if method == "POST" else None), 403, "mfa_enrolment_required")
        secret, _ = await enrol_totp(c)
        assert (await c.get("/api/v1/session")).json()["required_action"] is None
        assert (await c.get("/api/v1/audit")).status_code == 200
    async with staff_client(required_app) as c:
        problem(await sign_in(c, email), 401, "mfa_required")
        r = await sign_in(c, email, totp=totp_code(secret))
        assert r.status_code == 200 and r.json()["required_action"] is None


async def test_required_mfa_applies_to_a_role_given_later(required_app, pool):
    email = await new_account(pool, "expert")
    async with staff_client(required_app) as c:
        assert (await sign_in(c, email)).json()["required_action"] is None  # experts: a factor is optional
        await pool.execute("UPDATE users SET roles = '{expert,working_group}' WHERE email = $1", email)
        problem(await c.get("/api/v1/candidates"), 403, "mfa_enrolment_required")


async def test_optional_mfa_lets_admins_in_without_a_factor(admin_app, pool):
    email = await new_account(pool, "admin")
    async with staff_client(admin_app) as c:
        r = await sign_in(c, email)
        assert r.status_code == 200 and r.json()["required_action"] is None
        assert (await c.get("/api/v1/users")).status_code == 200


async def test_enrolment_is_not_open_to_a_session_that_must_change_its_password(required_app, pool, staff):
    admin = await staff("admin")
    email = await new_account(pool, "admin")
    uid = await pool.fetchval("SELECT id FROM users WHERE email = $1", email)
    temporary = (await admin.post(f"/api/v1/users/{uid}/password-reset")).json()["temporary_password"]
    async with staff_client(required_app) as c:
        assert (await sign_in(c, email, temporary)).json()["required_action"] == "change_password"
        problem(await c.post("/api/v1/session/totp"), 403, "password_change_required")
        r = await c.post("/api/v1/session/password", json={"current_password": temporary,
                                                           "new_password": "Baikonur-Orbit-2027?"})
        assert r.status_code == 200
        assert (await c.get("/api/v1/session")).json()["required_action"] == "enrol_totp"


def test_pyotp_agrees_with_the_codes_the_server_accepts():
    secret = otp.new_secret()
    assert otp.matching_step(secret, pyotp.TOTP(secret).now()) is not None


async def test_an_admin_removes_a_lost_factor_and_the_user_enrols_again(admin_app, staff, pool):
    admin, me = await staff("admin"), await staff("expert")
    uid = int(me.user["id"])
    await enrol_totp(me)
    listed = {u["id"]: u for u in (await admin.get("/api/v1/users")).json()}
    assert listed[str(uid)]["totp_enrolled"] is True and listed[admin.user["id"]]["totp_enrolled"] is False
    r = await admin.delete(f"/api/v1/users/{uid}/totp")
    assert r.status_code == 200 and r.json() == {"had_factor": True}
    problem(await me.get("/api/v1/session"), 401, "not_authenticated")  # its sessions ended
    assert await pool.fetchval("SELECT count(*) FROM staff_recovery_codes WHERE user_id = $1", uid) == 0
    async with staff_client(admin_app) as c:
        assert (await sign_in(c, me.email)).status_code == 200  # no factor asked for any more
        await enrol_totp(c)
    assert (await admin.delete(f"/api/v1/users/{uid}/totp")).json() == {"had_factor": True}
    assert (await admin.delete(f"/api/v1/users/{uid}/totp")).json() == {"had_factor": False}
    problem(await admin.delete("/api/v1/users/987654321/totp"), 404, "not_found")
    actions = [r["action"] for r in await pool.fetch(
        "SELECT action FROM audit_log WHERE entity_type = 'user' AND entity_id = $1 ORDER BY id", str(uid))]
    assert actions.count("user.totp_reset") == 3
