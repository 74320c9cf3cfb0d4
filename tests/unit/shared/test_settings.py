import base64
import os

import pytest

from shared.crypto import new_contact_keypair
from shared.errors import ConfigError
from shared.settings import AdminSecrets, Settings, VotingSecrets


def _key(n=32):
    return base64.urlsafe_b64encode(os.urandom(n)).decode()


_PRIVATE, _PUBLIC = (base64.urlsafe_b64encode(k).decode() for k in new_contact_keypair())
VOTING_KEYS = {"VOTER_TOKEN_KEY": _key(), "PSEUDONYM_KEY": _key(), "CONTACT_PUBLIC_KEY": _PUBLIC}
ADMIN_KEYS = {"CONTACT_PRIVATE_KEY": _PRIVATE, "STAFF_KEY": _key(), "TREE_HEAD_SIGNING_KEY": _key()}
DEV = {"APP_ENV": "development", "SMS_BACKEND": "outbox"}
BASE = {**DEV, **VOTING_KEYS}


def test_reads_typed_values_from_the_environment():
    s = Settings.from_env({**BASE, "OTP_TTL_S": "120", "REDIS_TIMEOUT_S": "0.5", "TRUSTED_PROXIES": "10.0.0.0/8, ::1/128"},
                          service="voting")
    assert s.otp_ttl_s == 120 and s.redis_timeout_s == 0.5
    assert s.trusted_proxies == ("10.0.0.0/8", "::1/128")
    assert s.sms_outbox and not s.is_production


@pytest.mark.parametrize("missing", list(VOTING_KEYS))
def test_the_voting_service_needs_its_keys(missing):
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env, service="voting")


@pytest.mark.parametrize("missing", list(ADMIN_KEYS))
def test_the_admin_service_needs_its_keys(missing):
    env = {k: v for k, v in {**DEV, **ADMIN_KEYS}.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env, service="admin")


def test_each_process_holds_only_its_own_keys():
    """DESIGN.md invariant 8: even when every key is in the environment, each reads only its own."""
    everything = {**BASE, **ADMIN_KEYS}
    voting = Settings.from_env(everything, service="voting")
    admin = Settings.from_env(everything, service="admin")
    flusher = Settings.from_env(everything, service="flusher")
    assert isinstance(voting.secrets, VotingSecrets) and set(VotingSecrets.__struct_fields__) == {
        "token_keys", "pseudonym_key", "contact_public_key"}
    assert isinstance(admin.secrets, AdminSecrets) and set(AdminSecrets.__struct_fields__) == {
        "contact_private_keys", "staff_key", "tree_head_signing_key"}
    assert flusher.secrets is None and Settings.from_env(everything).secrets is None
    # ...and each starts with nothing else: no voter-token key for the admin service, no private key for voting.
    assert Settings.from_env({**DEV, **ADMIN_KEYS}, service="admin").secrets == admin.secrets
    assert Settings.from_env(BASE, service="voting").secrets == voting.secrets
    assert Settings.from_env({"APP_ENV": "test"}, service="flusher").secrets is None
    with pytest.raises(ConfigError):
        voting.require_service("admin")
    with pytest.raises(ConfigError):
        admin.require_service("voting")


def test_keys_carry_ids_and_a_previous_key_is_accepted_during_a_rotation():
    old, new = _key(), _key()
    s = Settings.from_env({**BASE, "VOTER_TOKEN_KEY": f"2026b:{new}", "VOTER_TOKEN_KEY_PREVIOUS": f"2026a:{old}"},
                          service="voting")
    assert [kid for kid, _ in s.secrets.token_keys.keys] == ["2026b", "2026a"]
    plain = Settings.from_env(BASE, service="voting").secrets.token_keys
    assert len(plain.keys) == 1 and len(plain.current[0]) == 4  # id derived from the key itself
    private2, _ = new_contact_keypair()
    a = Settings.from_env({**DEV, **ADMIN_KEYS, "CONTACT_PRIVATE_KEY_PREVIOUS": base64.urlsafe_b64encode(private2).decode()},
                          service="admin")
    assert len(a.secrets.contact_private_keys) == 2


def test_an_unset_app_env_is_production_never_development():
    stores = {"VOTING_DATABASE_URL": "postgresql://faces_voting:pw@db/faces", "VOTING_REDIS_URL": "redis://v:pw@r/0"}
    s = Settings.from_env({**VOTING_KEYS, **stores, "SMS_GATEWAY_URL": "https://sms.example.kz/send"},
                          service="voting")
    assert s.app_env == "production" and s.is_production and not s.sms_outbox
    with pytest.raises(ConfigError, match="outbox"):  # the outbox is not available without an explicit APP_ENV
        Settings.from_env({**VOTING_KEYS, **stores, "SMS_BACKEND": "outbox"}, service="voting")
    with pytest.raises(ConfigError, match="SMS_GATEWAY_URL"):  # nor is it the default any more
        Settings.from_env({**VOTING_KEYS, "APP_ENV": "development"}, service="voting")


@pytest.mark.parametrize("env", [
    {"CONTACT_PUBLIC_KEY": _key(16)},             # X25519 keys are 32 bytes
    {"STAFF_MFA": "sometimes"},
    {"VOTER_TOKEN_KEY": "short"},
    {"VOTER_TOKEN_KEY": f"bad.id:{_key()}"},       # a dot would break the token format
    {"VOTER_TOKEN_KEY": f"k1:{_key()}", "VOTER_TOKEN_KEY_PREVIOUS": f"k1:{_key()}"},  # two keys, one id
    {"OTP_TTL_S": "soon"},
    {"TRUSTED_PROXIES": "not-a-network"},
    {"APP_ENV": "prod"},
    {"APP_ENV": "Development"},
    {"SMS_BACKEND": "carrier-pigeon"},
    {"SMS_BACKEND": "http"},                      # no gateway URL
    {"APP_ENV": "production", "SMS_BACKEND": "outbox"},
    {"APP_ENV": "staging", "SMS_BACKEND": "outbox"},
])
def test_bad_configuration_is_refused(env):
    with pytest.raises(ConfigError):
        Settings.from_env({**BASE, **env}, service="voting")


def test_secrets_do_not_leak_in_repr():
    s = Settings.from_env({**BASE, **ADMIN_KEYS}, service="voting")
    a = Settings.from_env({**BASE, **ADMIN_KEYS}, service="admin")
    for value in (*VOTING_KEYS.values(), *ADMIN_KEYS.values()):
        assert value not in repr(s) and value not in repr(a)
    assert "hidden" in repr(s.secrets) and "hidden" in repr(a.secrets)


def test_staff_mfa_is_required_unless_set_to_optional():
    admin_env = {**DEV, **ADMIN_KEYS}
    assert Settings.from_env(admin_env, service="admin").staff_mfa == "required"
    assert Settings.from_env({**admin_env, "STAFF_MFA": "optional"}, service="admin").staff_mfa == "optional"
    with pytest.raises(ConfigError, match="STAFF_KEY"):
        Settings.from_env({**admin_env, "STAFF_KEY": _key(16)}, service="admin")
