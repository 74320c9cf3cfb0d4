"""Fail closed, tried as a deployment would: each process started on its own with a production-like
environment holding only its own keys (DESIGN.md invariant 8, issue "secure by default").

- the voting service starts in production with its three keys and no other; the SMS outbox route is absent;
- asked for the outbox without an explicit development APP_ENV, it refuses to start, in one line;
- the admin service starts with its two keys and no voter-token key; the voting service's keys do not start it;
- the flusher starts with no key at all;
- ``create-user`` needs only the database, and ``--env-file .data/dev.env`` is all it needs after ``make run``.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.ports import free_port
from shared.crypto import new_contact_keypair
from tests.e2e.conftest import wait_for
from tests.http import http
from shared.store_access import database_var, redis_var

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Everything the project reads, so that the parent's environment (make test's) leaks nothing in.
PROJECT_PREFIXES = ("APP_ENV", "SMS_", "VOTER_TOKEN", "PSEUDONYM", "CONTACT_", "STAFF_", "DATA_KEY", "DATABASE_URL",
                    "REDIS_URL", "VOTING_", "ADMIN_", "FLUSHER_", "PROMETHEUS_MULTIPROC", "TRUSTED_PROXIES")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


_PRIVATE, _PUBLIC = new_contact_keypair()
VOTING_KEYS = {"VOTER_TOKEN_KEY": _b64(secrets.token_bytes(32)), "PSEUDONYM_KEY": _b64(secrets.token_bytes(32)),
               "CONTACT_PUBLIC_KEY": _b64(_PUBLIC)}
ADMIN_KEYS = {"CONTACT_PRIVATE_KEY": _b64(_PRIVATE), "STAFF_KEY": _b64(secrets.token_bytes(32)),
              "TREE_HEAD_SIGNING_KEY": _b64(secrets.token_bytes(32))}
GATEWAY = {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "http://127.0.0.1:9/unused"}


@pytest.fixture
def start(env: dict[str, str]) -> Iterator:
    """``start(args, environment, service=...)``: a project command with exactly ``environment``, PATH, and
    (when ``service`` is given) that service's own store credentials, as production hands them over."""
    procs: list[subprocess.Popen] = []
    base = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}

    def _start(args: list[str], environment: dict[str, str], *, service: str | None = None) -> subprocess.Popen:
        stores = {} if service is None else {var: env[var] for var in (database_var(service), redis_var(service))}
        full = {**base, **stores, **environment}
        p = subprocess.Popen([sys.executable, *args], env=full, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        procs.append(p)
        return p

    yield _start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, 15)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
        if p.stdout:
            p.stdout.close()


def _up(url: str) -> bool:
    try:
        return http().get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def _refused(p: subprocess.Popen) -> str:
    """The process exits by itself with code 2 and one line that says why."""
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in out, out
    return lines[0]


def test_voting_service_in_production_has_no_dev_route_and_needs_no_admin_key(start):
    port = free_port()
    p = start(["-m", "voting_service", "serve", "--port", str(port), "--workers", "1"],
              {"APP_ENV": "production", **GATEWAY, **VOTING_KEYS}, service="voting")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(f"{base}/health/live") or p.poll() is not None, 30, "the voting service")
    assert p.poll() is None, p.stdout.read() if p.stdout else ""
    r = http().get(f"{base}/api/v1/dev/sms-outbox", params={"phone": "+77011234567"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert "/api/v1/dev/sms-outbox" not in http().get(f"{base}/schema/openapi.json").json()["paths"]


@pytest.mark.parametrize(("environment", "reason"), [
    ({"SMS_BACKEND": "outbox", **VOTING_KEYS}, "APP_ENV"),                             # APP_ENV unset
    ({"APP_ENV": "production", "SMS_BACKEND": "outbox", **VOTING_KEYS}, "outbox"),
    ({"APP_ENV": "staging", "SMS_BACKEND": "outbox", **VOTING_KEYS}, "outbox"),
    ({**VOTING_KEYS}, "SMS_GATEWAY_URL"),                                              # nothing set: production
    ({"APP_ENV": "prod", "SMS_BACKEND": "outbox", **VOTING_KEYS}, "APP_ENV"),          # unknown: refused
    ({"APP_ENV": "production", **GATEWAY, **ADMIN_KEYS}, "VOTER_TOKEN_KEY"),           # the admin's keys
])
def test_voting_service_refuses_to_start_in_one_line(start, environment, reason):
    line = _refused(start(["-m", "voting_service", "serve", "--port", str(free_port()), "--workers", "1"],
                          environment, service="voting"))
    assert reason in line and line.startswith("voting_service: configuration error:")


def test_admin_service_starts_with_only_its_keys_and_not_with_the_voting_ones(start):
    port = free_port()
    p = start(["-m", "admin_service", "serve", "--port", str(port)], {"APP_ENV": "production", **ADMIN_KEYS},
              service="admin")
    wait_for(lambda: _up(f"http://127.0.0.1:{port}/health/live") or p.poll() is not None, 30, "the admin service")
    assert p.poll() is None
    r = http().get(f"http://127.0.0.1:{port}/login")
    assert r.status_code == 200
    assert all(c.startswith("__Host-") and "Secure" in c for c in r.headers.get_list("set-cookie")), r.headers
    line = _refused(start(["-m", "admin_service", "serve", "--port", str(free_port())],
                          {"APP_ENV": "production", **VOTING_KEYS}, service="admin"))
    assert "CONTACT_PRIVATE_KEY" in line


def test_flusher_starts_with_no_key_at_all(start):
    port = free_port()
    p = start(["-m", "voting_service", "flusher"],
              {"APP_ENV": "production", "FLUSHER_METRICS_PORT": str(port), "FLUSHER_CONSUMER": "fail-closed"},
              service="flusher")
    wait_for(lambda: _up(f"http://127.0.0.1:{port}/metrics") or p.poll() is not None, 30, "the flusher")
    assert p.poll() is None


def test_create_user_needs_only_the_database_and_reads_an_env_file(start, env, tmp_path):
    """The README's command after `make run`: `--env-file .data/dev.env` (APP_ENV and the store URLs, no key)."""
    dev_env = tmp_path / "dev.env"
    dev_env.write_text(f"APP_ENV=development\nDATABASE_URL={env['DATABASE_URL']}\nREDIS_URL={env['REDIS_URL']}\n")
    email = f"first-admin-{secrets.token_hex(4)}@example.kz"
    p = start(["-m", "admin_service", "--env-file", str(dev_env), "create-user", "--email", email, "--role", "admin"],
              {"ADMIN_PASSWORD": "Karaganda-Steppe-2026!"})
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0 and "created user" in out and email in out, out
    missing = start(["-m", "admin_service", "--env-file", str(tmp_path / "nope.env"), "create-user", "--email", email,
                     "--role", "admin"], {"ADMIN_PASSWORD": "Karaganda-Steppe-2026!"})
    assert "nope.env" in _refused(missing)
