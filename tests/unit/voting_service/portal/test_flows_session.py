"""The portal's sealed cookies and CSRF tokens, without I/O: what one browser holds cannot be read, forged,
moved to another cookie or replayed after its time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from types import SimpleNamespace

from shared.crypto import b64u, unb64u
from shared.settings import Settings
from voting_service.portal import csrf, session
from voting_service.portal.forms import next_path
from voting_service.portal.controllers.signin import mask_phone


def services(pseudonym_key: bytes | None = None) -> SimpleNamespace:
    key = lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    env = {"APP_ENV": "test", "SMS_BACKEND": "outbox", "VOTER_TOKEN_KEY": key(),
           "PSEUDONYM_KEY": base64.urlsafe_b64encode(pseudonym_key or secrets.token_bytes(32)).decode(),
           "CONTACT_PUBLIC_KEY": key()}
    return SimpleNamespace(settings=Settings.from_env(env, service="voting"))


def test_sealed_values_open_only_under_their_name_key_and_time():
    s = services()
    sealed = session.seal(s, session.SIGNIN, {"phone": "+77011234567"}, now=1000)
    assert "7011234567" not in sealed and "7011234567" not in unb64u(sealed).decode("latin-1")
    assert session.unseal(s, session.SIGNIN, sealed, max_age_s=300, now=1200) == {"phone": "+77011234567"}
    assert session.unseal(s, session.SIGNIN, sealed, max_age_s=300, now=1301) is None      # too old
    assert session.unseal(s, session.NOTICE, sealed, max_age_s=300, now=1200) is None      # another cookie
    assert session.unseal(services(), session.SIGNIN, sealed, max_age_s=300, now=1200) is None  # another key
    raw = bytearray(unb64u(sealed))
    raw[-1] ^= 1
    assert session.unseal(s, session.SIGNIN, b64u(bytes(raw)), max_age_s=300, now=1200) is None  # tampered
    assert session.unseal(s, session.SIGNIN, "not base64!", max_age_s=300) is None


def test_csrf_tokens_are_bound_to_the_browser_and_the_key():
    key = secrets.token_bytes(32)
    a, b = "A" * 24, "B" * 24
    assert csrf._token_for(services(key), a) == csrf._token_for(services(key), a)
    assert csrf._token_for(services(key), a) != csrf._token_for(services(key), b)
    assert csrf._token_for(services(key), a) != csrf._token_for(services(), a)
    # a sub-key: the token is not the pseudonym key's own HMAC of the value
    assert csrf._token_for(services(key), a) != b64u(hmac.new(key, a.encode(), hashlib.sha256).digest()[:18])


def test_next_is_a_path_of_this_site_and_never_the_sign_in():
    assert next_path("/campaigns/x?region=KZ-75") == "/campaigns/x?region=KZ-75"
    for bad in ("//evil.example", "https://evil.example", "/\\evil", "", None, "/signin/code", "/signout",
                "/" + "a" * 600):
        assert next_path(bad) == "/", bad


def test_masked_phone_shows_operator_and_last_two_digits():
    assert mask_phone("+77011234567") == "+7 701 ••• •• 67"
