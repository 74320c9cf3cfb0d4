"""The processes as deployed log in with their own credentials: the voting service (granian) and the flusher,
started from the environment like production, connect to Postgres and Redis as their restricted role and ACL
user, and a vote still travels voter -> Redis -> flusher -> Postgres -> reconcile."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from devtools.ports import free_port
from tests.e2e.conftest import wait_for
from tests.e2e.test_flusher_crash import wait_until
from tests.factories import make_campaign
from tests.http import http, ssl_context
from tests.integration.voting.conftest import mint_token
from tests.stores import acl_user, role_name

pytestmark = pytest.mark.e2e


async def test_served_voting_service_and_flusher_use_their_own_role_and_user(env, settings, pool, redis, spawn):
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    port = free_port()
    spawn("-m", "voting_service", "serve", "--port", str(port), "--workers", "1")
    spawn("-m", "voting_service", "flusher", extra_env={"FLUSHER_METRICS_PORT": "0", "FLUSHER_CONSUMER": "lp"})
    base = f"http://127.0.0.1:{port}"

    def live() -> bool:
        try:
            return http().get(f"{base}/health/ready", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    await asyncio.to_thread(wait_for, live, 30, "the voting service to be ready")
    async with httpx.AsyncClient(verify=ssl_context(), base_url=base, timeout=5) as c:
        assert (await c.get(f"/api/v1/campaigns/{camp.id}/candidates")).status_code == 200  # from Postgres
        r = await c.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(camp.candidate_ids[1])},
                         headers={"Authorization": f"Bearer {mint_token(settings, '+77017000001')}"})
        assert r.status_code == 201, r.text

    async def recorded() -> bool:
        return await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == 1

    await wait_until(recorded, 30, "the flusher to write the vote")
    users = {r["usename"] for r in await pool.fetch(
        "SELECT usename FROM pg_stat_activity WHERE datname = current_database()")}
    assert {role_name("voting"), role_name("flusher")} <= users, users
    clients = await redis.execute_command("CLIENT", "LIST")
    assert f"user={acl_user('voting')} " in clients and f"user={acl_user('flusher')} " in clients

    rec = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "voting_service", "reconcile", "--campaign", str(camp.id),
                         "--wait", "5"], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert rec.returncode == 0, rec.stdout + rec.stderr
