import base64
import os

import pytest

from shared.errors import ConfigError
from shared.settings import Settings


def _key(n=32):
    return base64.urlsafe_b64encode(os.urandom(n)).decode()


BASE = {"VOTER_TOKEN_KEY": _key(), "PSEUDONYM_KEY": _key(), "DATA_KEY": _key(), "STAFF_KEY": _key()}


def test_reads_typed_values_from_the_environment():
    s = Settings.from_env({**BASE, "OTP_TTL_S": "120", "REDIS_TIMEOUT_S": "0.5", "TRUSTED_PROXIES": "10.0.0.0/8, ::1/128"})
    assert s.otp_ttl_s == 120 and s.redis_timeout_s == 0.5
    assert s.trusted_proxies == ("10.0.0.0/8", "::1/128")
    assert s.sms_backend == "outbox" and not s.is_production


@pytest.mark.parametrize("missing", ["VOTER_TOKEN_KEY", "PSEUDONYM_KEY", "DATA_KEY", "STAFF_KEY"])
def test_secrets_are_required(missing):
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize("env", [
    {"DATA_KEY": _key(16)},                       # AES-256 needs 32 bytes
    {"STAFF_KEY": _key(16)},
    {"STAFF_MFA": "sometimes"},
    {"VOTER_TOKEN_KEY": "short"},
    {"OTP_TTL_S": "soon"},
    {"TRUSTED_PROXIES": "not-a-network"},
    {"APP_ENV": "prod"},
    {"SMS_BACKEND": "carrier-pigeon"},
    {"SMS_BACKEND": "http"},                      # no gateway URL
    {"APP_ENV": "production", "SMS_BACKEND": "outbox"},
])
def test_bad_configuration_is_refused(env):
    with pytest.raises(ConfigError):
        Settings.from_env({**BASE, **env})


def test_secrets_do_not_leak_in_repr():
    s = Settings.from_env(BASE)
    assert BASE["DATA_KEY"] not in repr(s)
    assert "hidden" in repr(s.secrets)


def test_staff_mfa_is_required_unless_set_to_optional():
    assert Settings.from_env(BASE).staff_mfa == "required"
    assert Settings.from_env({**BASE, "STAFF_MFA": "optional"}).staff_mfa == "optional"
