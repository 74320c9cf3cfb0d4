"""Both services served for real (granian, loopback, a free port each) on the test database, with a signed-in
staff member holding every role, for the contract tests (schemathesis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass


import httpx
import pytest

from admin_service.services.users import create_user
from devtools.ports import free_port
from shared.infra import create_pool
from tests.http import http
from tests.integration.admin.conftest import CHEAP, env_on_own_database

ALL_ROLES = ["admin", "secretariat", "expert", "working_group", "auditor"]
PASSWORD = "Contract-Fuzz-Steppe-2026!"


@dataclass
class Server:
    base: str
    proc: subprocess.Popen

    def stop(self) -> str:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, _ = self.proc.communicate()
        return out


def serve(module: str, env: dict[str, str]) -> Server:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", module, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1"],
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", proc)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{module} exited: {server.stop()}")
        try:
            if http().get(f"{server.base}/health/live", timeout=0.5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{module} did not answer: {server.stop()}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
async def contract_env(env: dict[str, str], server_url: str) -> AsyncIterator[dict[str, str]]:
    """The test settings on a database of their own: what the fuzzing creates (candidates with random
    stories, users, campaigns) must not show up in other tests' searches and counts."""
    async with env_on_own_database(env, server_url) as own:
        yield own


@pytest.fixture(scope="module")
def voting_server(contract_env: dict[str, str]) -> Iterator[Server]:
    server = serve("voting_service", contract_env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin_server(contract_env: dict[str, str]) -> Iterator[Server]:
    server = serve("admin_service", contract_env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def fuzz_staff_email(contract_env: dict[str, str]) -> AsyncIterator[str]:
    email = f"contract-{uuid.uuid4().hex[:8]}@100faces.kz"
    pool = await create_pool(contract_env["DATABASE_URL"], min_size=1, max_size=2)
    try:
        # An id no fuzzed PATCH /users/{id} or password reset will hit (they would end this very session).
        await pool.execute("ALTER TABLE users ALTER COLUMN id RESTART WITH 7302859164")
        # Hashed cheaply (argon2 verifies with the parameters stored in the hash): the sign-in costs nothing.
        await create_user(pool, email=email, password=PASSWORD, roles=ALL_ROLES, actor=None, passwords=CHEAP)
    finally:
        await pool.close()
    yield email
