"""Phone sign-in: POST /auth/otp, POST /auth/otp/verify and the development SMS outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from aiohttp import web

from devtools.ports import free_port
from shared.crypto import VoterTokens
from shared.errors import ConfigError, Unavailable
from shared.settings import Settings
from tests.integration.voting.conftest import app_client, assert_problem, outbox_code, settings_with
from voting_service.services.sms import HttpGatewaySender, NotSent

PHONE = "+77012223344"
OTP = "/api/v1/auth/otp"
VERIFY = "/api/v1/auth/otp/verify"
OUTBOX = "/api/v1/dev/sms-outbox"


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- request a code --------------------------------------------------------------------------------------

async def test_request_code(client, settings):
    r = await client.post(OTP, json={"phone": PHONE})
    assert r.status_code == 202, r.text
    assert r.json() == {"expires_in": settings.otp_ttl_s, "resend_after": settings.otp_resend_s}
    code = await outbox_code(client, PHONE)
    assert len(code) == 6 and code.isdigit()


@pytest.mark.parametrize("phone", [
    "+77172123456",        # Astana landline (717)
    "+77272123456",        # Almaty landline (727)
    "+79161234567",        # Russian mobile (+7 9xx)
    "89161234567",         # Russian mobile, domestic prefix
    "hello",               # garbage
    "+7701123",            # too short
    "+770112345678",       # too long
    "",                    # empty
    "+7 701 ١٢٣ 45 67",    # non-ASCII digits
    "+1 701 123 4567",     # another country
])
async def test_request_code_refuses_non_kz_mobiles(client, phone):
    assert_problem(await client.post(OTP, json={"phone": phone}), 422, "invalid_phone")


@pytest.mark.parametrize("phone", ["87012223344", "77012223344", "+7 (701) 222-33-44", "8 701 222 33 44"])
async def test_request_code_accepts_domestic_forms(client, phone):
    r = await client.post(OTP, json={"phone": phone})
    assert r.status_code == 202, r.text
    # The outbox is keyed by the normalised number: both spellings find the same message.
    by_e164 = (await client.get(OUTBOX, params={"phone": PHONE})).json()
    assert len(by_e164) == 1 and by_e164[0]["phone"] == PHONE


async def test_domestic_prefix_signs_in_the_same_voter(client):
    assert (await client.post(OTP, json={"phone": "87012223344"})).status_code == 202
    code = await outbox_code(client, "87012223344")
    r = await client.post(VERIFY, json={"phone": PHONE, "code": code})
    assert r.status_code == 200, r.text


async def test_resend_is_throttled(client, settings):
    assert (await client.post(OTP, json={"phone": PHONE})).status_code == 202
    r = await client.post(OTP, json={"phone": "8 701 222 33 44"})  # same phone, another spelling
    assert_problem(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= settings.otp_resend_s
    assert len((await client.get(OUTBOX, params={"phone": PHONE})).json()) == 1  # no second SMS


async def test_hourly_limit_per_phone(env, pool, redis):
    s = settings_with(env, OTP_RESEND_S="1", OTP_MAX_PER_PHONE_HOUR="1")
    async with app_client(s, pool, redis) as c:
        assert (await c.post(OTP, json={"phone": PHONE})).status_code == 202
        await asyncio.sleep(1.1)
        r = await c.post(OTP, json={"phone": PHONE})
        assert_problem(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) > 1


async def test_hourly_limit_per_ip(env, pool, redis):
    s = settings_with(env, LIMIT_HARD_FACTOR="1", OTP_MAX_PER_IP_HOUR="3")
    async with app_client(s, pool, redis) as c:
        for n in range(3):
            assert (await c.post(OTP, json={"phone": f"+7701000000{n}"})).status_code == 202
        r = await c.post(OTP, json={"phone": "+77010000009"})
        assert_problem(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 3600
        assert (await c.get(OUTBOX, params={"phone": "+77010000009"})).json() == []
    # Another address is not affected.
    async with app_client(s, pool, redis, ip="198.51.100.20") as c:
        assert (await c.post(OTP, json={"phone": "+77010000009"})).status_code == 202


async def test_forwarded_for_cannot_dodge_the_ip_limit(env, pool, redis):
    """Without trusted proxies a client's own X-Forwarded-For is ignored: rotating it changes nothing."""
    s = settings_with(env, LIMIT_HARD_FACTOR="1", OTP_MAX_PER_IP_HOUR="2")
    async with app_client(s, pool, redis) as c:
        codes = [(await c.post(OTP, json={"phone": f"+7701000000{n}"},
                               headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(3)]
    assert codes == [202, 202, 429]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(env, pool, redis):
    s = settings_with(env, LIMIT_HARD_FACTOR="1", OTP_MAX_PER_IP_HOUR="1", TRUSTED_PROXIES="203.0.113.0/24")
    async with app_client(s, pool, redis) as c:
        for n in range(3):  # three clients behind the proxy: each has its own allowance
            r = await c.post(OTP, json={"phone": f"+7701000000{n}"}, headers={"X-Forwarded-For": f"198.51.100.{n}"})
            assert r.status_code == 202, r.text
        r = await c.post(OTP, json={"phone": "+77010000009"}, headers={"X-Forwarded-For": "198.51.100.0"})
        assert_problem(r, 429, "rate_limited")


async def test_a_forwarded_for_line_of_the_clients_own_picks_no_address(env, pool, redis):
    """The client sends its own X-Forwarded-For line ahead of the one the proxy appends: both lines are read,
    from the right, so every request still counts against the address the proxy saw."""
    s = settings_with(env, LIMIT_HARD_FACTOR="1", OTP_MAX_PER_IP_HOUR="2", TRUSTED_PROXIES="203.0.113.0/24")
    async with app_client(s, pool, redis) as c:
        codes = []
        for n in range(3):
            headers = [("X-Forwarded-For", f"192.0.2.{n}"), ("X-Forwarded-For", "198.51.100.44")]
            codes.append((await c.post(OTP, json={"phone": f"+7701000001{n}"}, headers=headers)).status_code)
    assert codes == [202, 202, 429]


# --- verify ----------------------------------------------------------------------------------------------

async def test_verify_issues_a_voter_token(client, settings):
    await client.post(OTP, json={"phone": PHONE})
    code = await outbox_code(client, PHONE)
    r = await client.post(VERIFY, json={"phone": PHONE, "code": code})
    assert r.status_code == 200, r.text
    body = r.json()
    assert VoterTokens(settings.secrets.token_keys, settings.voter_token_ttl_s).verify(body["token"])
    expires_at = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires_at.utcoffset() == dt.timedelta(0)
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.voter_token_ttl_s)
    assert abs(expires_at - expected) < dt.timedelta(seconds=30)
    assert PHONE[2:] not in body["token"]


async def test_verify_wrong_code(client):
    await client.post(OTP, json={"phone": PHONE})
    code = await outbox_code(client, PHONE)
    r = await client.post(VERIFY, json={"phone": PHONE, "code": other_code(code)})
    assert_problem(r, 401, "invalid_code")
    # A wrong answer does not kill the code.
    assert (await client.post(VERIFY, json={"phone": PHONE, "code": code})).status_code == 200


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "", "١٢٣٤٥٦"])
async def test_verify_malformed_code_is_a_wrong_code(client, code):
    await client.post(OTP, json={"phone": PHONE})
    assert_problem(await client.post(VERIFY, json={"phone": PHONE, "code": code}), 401, "invalid_code")


async def test_verify_without_a_requested_code(client):
    assert_problem(await client.post(VERIFY, json={"phone": PHONE, "code": "123456"}), 401, "invalid_code")


async def test_verify_code_of_another_phone(client):
    await client.post(OTP, json={"phone": PHONE})
    code = await outbox_code(client, PHONE)
    r = await client.post(VERIFY, json={"phone": "+77019998877", "code": code})
    assert_problem(r, 401, "invalid_code")


async def test_verify_expired_code(env, pool, redis):
    s = settings_with(env, OTP_TTL_S="1")
    async with app_client(s, pool, redis) as c:
        r = await c.post(OTP, json={"phone": PHONE})
        assert r.json()["expires_in"] == 1
        code = await outbox_code(c, PHONE)
        await asyncio.sleep(1.2)
        assert_problem(await c.post(VERIFY, json={"phone": PHONE, "code": code}), 401, "invalid_code")


async def test_five_wrong_codes_block_the_right_one(client, settings):
    await client.post(OTP, json={"phone": PHONE})
    code = await outbox_code(client, PHONE)
    for _ in range(settings.otp_max_attempts):
        assert_problem(await client.post(VERIFY, json={"phone": PHONE, "code": other_code(code)}),
                       401, "invalid_code")
    r = await client.post(VERIFY, json={"phone": PHONE, "code": code})
    assert_problem(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) >= 1


async def test_used_code_cannot_be_reused(client):
    await client.post(OTP, json={"phone": PHONE})
    code = await outbox_code(client, PHONE)
    assert (await client.post(VERIFY, json={"phone": PHONE, "code": code})).status_code == 200
    assert_problem(await client.post(VERIFY, json={"phone": PHONE, "code": code}), 401, "invalid_code")


async def test_concurrent_verifies_issue_one_token(client):
    await client.post(OTP, json={"phone": PHONE})
    code = await outbox_code(client, PHONE)
    answers = await asyncio.gather(*[client.post(VERIFY, json={"phone": PHONE, "code": code}) for _ in range(8)])
    assert sorted(r.status_code for r in answers) == [200] + [401] * 7


async def test_verify_refuses_a_non_mobile_phone(client):
    assert_problem(await client.post(VERIFY, json={"phone": "+77172123456", "code": "123456"}), 422,
                   "invalid_phone")


# --- development outbox ----------------------------------------------------------------------------------

async def test_outbox_newest_first(env, pool, redis):
    s = settings_with(env, OTP_RESEND_S="1")
    async with app_client(s, pool, redis) as c:
        assert (await c.post(OTP, json={"phone": PHONE})).status_code == 202
        await asyncio.sleep(1.1)
        assert (await c.post(OTP, json={"phone": PHONE})).status_code == 202
        r = await c.get(OUTBOX, params={"phone": PHONE})
        assert r.status_code == 200, r.text
        newest, oldest = r.json()
        for m in (newest, oldest):
            assert set(m) >= {"phone", "text", "code", "sent_at"}
            assert m["phone"] == PHONE
            assert m["code"] in m["text"]
            assert dt.datetime.fromisoformat(m["sent_at"].replace("Z", "+00:00")).utcoffset() == dt.timedelta(0)
        assert newest["sent_at"] >= oldest["sent_at"]
        # Only the newest code is alive: a new code replaces the old one.
        if oldest["code"] != newest["code"]:
            assert_problem(await c.post(VERIFY, json={"phone": PHONE, "code": oldest["code"]}), 401, "invalid_code")
        assert (await c.post(VERIFY, json={"phone": PHONE, "code": newest["code"]})).status_code == 200


async def test_outbox_is_per_phone(client):
    await client.post(OTP, json={"phone": PHONE})
    assert (await client.get(OUTBOX, params={"phone": "+77019998877"})).json() == []


async def test_outbox_bad_queries(client):
    assert_problem(await client.get(OUTBOX, params={"phone": "hello"}), 422, "invalid_phone")
    assert_problem(await client.get(OUTBOX), (400, 422), "invalid_request")


async def test_outbox_route_absent_with_http_backend(env, pool, redis):
    s = settings_with(env, SMS_BACKEND="http", SMS_GATEWAY_URL="http://127.0.0.1:9/")
    async with app_client(s, pool, redis) as c:
        assert_problem(await c.get(OUTBOX, params={"phone": PHONE}), 404)
        # Nothing listens on port 9: the gateway is down, which is an outage, not a crash.
        assert_problem(await c.post(OTP, json={"phone": PHONE}), 503, "unavailable")


async def test_outbox_route_absent_in_production(env, pool, redis):
    s = settings_with(env, APP_ENV="production", SMS_BACKEND="http", SMS_GATEWAY_URL="http://127.0.0.1:9/")
    async with app_client(s, pool, redis) as c:
        assert_problem(await c.get(OUTBOX, params={"phone": PHONE}), 404)


def test_outbox_backend_refused_in_production(env):
    with pytest.raises(ConfigError):
        Settings.from_env({**env, "APP_ENV": "production", "SMS_BACKEND": "outbox"}, service="voting")
    with pytest.raises(ConfigError):  # outbox is also the default backend
        Settings.from_env({k: v for k, v in env.items() if k != "SMS_BACKEND"} | {"APP_ENV": "production"}, service="voting")


class Gateway:
    """An SMS gateway on loopback (aiohttp's server): records what it is sent and answers ``status``."""

    def __init__(self, status: int = 202, delay_s: float = 0.0) -> None:
        self.status, self.delay_s = status, delay_s
        self.seen: list[tuple[str, str | None, dict]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.content_type, request.headers.get("Authorization"), await request.json()))
        await asyncio.sleep(self.delay_s)
        return web.json_response({"id": len(self.seen)}, status=self.status)

    async def __aenter__(self) -> Gateway:
        app = web.Application()
        app.router.add_post("/send", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/send"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def test_codes_go_to_the_sms_gateway_with_its_token(env, voting_pool, voting_redis):
    async with Gateway() as gw:
        s = settings_with(env, SMS_BACKEND="http", SMS_GATEWAY_URL=gw.url, SMS_GATEWAY_TOKEN="gw-secret")
        async with app_client(s, voting_pool, voting_redis) as c:
            assert (await c.post(OTP, json={"phone": "+7 701 222 33 44"})).status_code == 202
            assert (await c.post(OTP, json={"phone": "+77015556677"})).status_code == 202
    assert [(ctype, auth, sorted(body)) for ctype, auth, body in gw.seen] == \
        [("application/json", "Bearer gw-secret", ["text", "to"])] * 2
    assert [body["to"] for _, _, body in gw.seen] == [PHONE, "+77015556677"]  # normalised
    assert all(re.search(r"\b\d{6}\b", body["text"]) for _, _, body in gw.seen)  # the code in the message


@pytest.mark.parametrize("status", [301, 400, 429, 500, 503])
async def test_a_gateway_that_refuses_the_message_is_an_outage(env, voting_pool, voting_redis, status):
    async with Gateway(status) as gw:
        s = settings_with(env, SMS_BACKEND="http", SMS_GATEWAY_URL=gw.url)
        async with app_client(s, voting_pool, voting_redis) as c:
            assert_problem(await c.post(OTP, json={"phone": PHONE}), 503, "unavailable")
    assert len(gw.seen) == 1


async def test_a_code_the_gateway_did_not_take_can_be_asked_again_at_once_and_costs_no_quota(env, voting_pool,
                                                                                            voting_redis):
    """A 503 says "try again shortly": the code, its resend wait, its count in the phone's hour and its share of the
    national SMS budget are taken back (as the voting service's own Redis user: its ACL allows the script)."""
    async with Gateway(503) as gw:
        s = settings_with(env, SMS_BACKEND="http", SMS_GATEWAY_URL=gw.url, OTP_MAX_PER_PHONE_HOUR="2",
                          SMS_BUDGET_PER_MINUTE="3")
        async with app_client(s, voting_pool, voting_redis) as c:
            for _ in range(4):  # more failures than the hour allows codes
                assert_problem(await c.post(OTP, json={"phone": PHONE}), 503, "unavailable")
            gw.status = 202
            assert (await c.post(OTP, json={"phone": PHONE})).status_code == 202
            assert_problem(await c.post(OTP, json={"phone": PHONE}), 429, "rate_limited")  # now the wait holds
    assert len(gw.seen) == 5


async def test_the_sender_says_not_sent_only_when_the_message_surely_did_not_go():
    """Refused or unreachable: NotSent (the code is taken back); no answer in time or a 5xx from behind a proxy: it
    may have gone out, so only Unavailable (the code stays counted: a slow gateway must not send without limit)."""
    async with Gateway(429) as refusing, Gateway(502) as proxy_error, Gateway(202, delay_s=2.0) as slow:
        for url, surely in ((refusing.url, True), (f"http://127.0.0.1:{free_port()}/send", True),
                            (proxy_error.url, False), (slow.url, False)):
            sender = HttpGatewaySender(url, "", timeout_s=0.3)
            try:
                with pytest.raises(Unavailable) as caught:
                    await sender.send(phone=PHONE, phone_pseudonym="p", text="code 123456", code="123456")
            finally:
                await sender.close()
            assert isinstance(caught.value, NotSent) == surely, url
        assert len(refusing.seen) == len(proxy_error.seen) == len(slow.seen) == 1
