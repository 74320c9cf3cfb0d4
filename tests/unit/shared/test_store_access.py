"""Which credentials each service connects with (shared/store_access.py, Settings.from_env(service=...))."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys

import pytest

from shared.crypto import new_contact_keypair
from shared.errors import ConfigError
from shared.settings import Settings
from shared.store_access import (
    REDIS_COMMANDS, SERVICES, redis_acl_file, redis_acl_rules, service_urls, url_credentials, with_credentials,
)

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
_PRIVATE, _PUBLIC = (base64.urlsafe_b64encode(k).decode() for k in new_contact_keypair())
BASE = {"VOTER_TOKEN_KEY": KEY, "PSEUDONYM_KEY": KEY, "CONTACT_PUBLIC_KEY": _PUBLIC, "CONTACT_PRIVATE_KEY": _PRIVATE,
        "STAFF_KEY": KEY, "TREE_HEAD_SIGNING_KEY": KEY, "SMS_BACKEND": "http", "SMS_GATEWAY_URL": "https://sms.example.kz/send"}
OWN = {f"{s.upper()}_{store}_URL": f"{'postgresql' if store == 'DATABASE' else 'redis'}://{s}:pw@db/{s}"
       for s in SERVICES for store in ("DATABASE", "REDIS")}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("store", ["DATABASE", "REDIS"])
@pytest.mark.parametrize("app_env", ["production", "staging", None])
def test_outside_development_a_missing_own_url_is_named(service, store, app_env):
    env = {**OWN, "DATABASE_URL": "postgresql://owner@db/x", "REDIS_URL": "redis://db/0"}
    if app_env:
        env["APP_ENV"] = app_env
    missing = f"{service.upper()}_{store}_URL"
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        service_urls(env, service)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_gets_its_own_urls(service):
    env = {**OWN, "APP_ENV": "production", "DATABASE_URL": "postgresql://owner@db/x", "REDIS_URL": "redis://db/0"}
    assert service_urls(env, service) == (OWN[f"{service.upper()}_DATABASE_URL"], OWN[f"{service.upper()}_REDIS_URL"])
    s = Settings.from_env({**BASE, **env}, service=service)
    assert (s.database_url, s.redis_url) == service_urls(env, service)


@pytest.mark.parametrize("app_env", ["development", "test"])
def test_development_falls_back_to_the_given_urls(app_env):
    env = {"APP_ENV": app_env, "DATABASE_URL": "postgresql://owner@db/x", "REDIS_URL": "redis://db/3"}
    assert service_urls(env, "voting") == ("postgresql://owner@db/x", "redis://db/3")
    assert service_urls({**env, "VOTING_REDIS_URL": "redis://v:p@db/3"}, "voting")[1] == "redis://v:p@db/3"


def test_without_a_service_settings_keep_the_owner_urls():
    env = {**BASE, **OWN, "APP_ENV": "production", "DATABASE_URL": "postgresql://owner@db/x"}
    assert Settings.from_env(env).database_url == "postgresql://owner@db/x"
    with pytest.raises(ValueError):
        service_urls(env, "reporting")


def test_credentials_are_replaced_in_tcp_and_unix_socket_urls():
    assert with_credentials("postgresql://postgres@127.0.0.1:5432/faces", "faces_voting", "p@ss/w:rd") == \
        "postgresql://faces_voting:p%40ss%2Fw%3Ard@127.0.0.1:5432/faces"
    assert url_credentials(with_credentials("postgresql://x@127.0.0.1/f", "u", "p@ss/w:rd")) == ("u", "p@ss/w:rd")
    assert with_credentials("postgresql://postgres@/postgres?host=/tmp/pg", "faces_admin", "pw") == \
        "postgresql://faces_admin:pw@/postgres?host=/tmp/pg"
    assert with_credentials("redis://127.0.0.1:6379/12", "faces-voting", "pw") == \
        "redis://faces-voting:pw@127.0.0.1:6379/12"


def test_acl_rules_start_from_nothing_and_need_a_password():
    rules = redis_acl_rules("flusher", password="secret")
    assert rules[:3] == ["reset", "on", ">secret"] and "-@all" in rules and "nopass" not in rules
    assert rules.index("-@all") < min(i for i, r in enumerate(rules) if r.startswith("+"))
    assert {r[1:] for r in rules if r.startswith("+")} == set(REDIS_COMMANDS["flusher"])


def test_the_acl_file_holds_hashed_passwords_only():
    env = {"REDIS_URL": "redis://:owner-pw@redis:6379/0",
           **{f"{s.upper()}_REDIS_URL": f"redis://faces-{s}:{s}-pw@redis:6379/0" for s in SERVICES}}
    text = redis_acl_file(env)
    lines = text.splitlines()
    assert lines[0] == f"user default on #{hashlib.sha256(b'owner-pw').hexdigest()} ~* &* +@all"
    assert "pw" not in text.replace("faces-", "")  # no clear password
    for s in SERVICES:
        (line,) = [ln for ln in lines if ln.startswith(f"user faces-{s} ")]
        assert f"#{hashlib.sha256(f'{s}-pw'.encode()).hexdigest()}" in line and "-@all" in line
    with pytest.raises(ConfigError, match="VOTING_REDIS_URL"):
        redis_acl_file({**env, "VOTING_REDIS_URL": "redis://redis:6379/0"})


@pytest.mark.parametrize("argv, missing", [
    (["voting_service", "flusher"], "FLUSHER_DATABASE_URL"),
    (["voting_service", "serve"], "VOTING_DATABASE_URL"),
    (["admin_service", "serve"], "ADMIN_DATABASE_URL"),
])
def test_a_production_service_without_its_own_credentials_refuses_to_start(argv, missing):
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_REDIS_URL"))}
    env.update({**BASE, "APP_ENV": "production", "DATABASE_URL": "postgresql://owner@127.0.0.1:1/x",
                "REDIS_URL": "redis://127.0.0.1:1/0"})
    proc = subprocess.run([sys.executable, "-m", *argv], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and missing in lines[0], proc.stderr
