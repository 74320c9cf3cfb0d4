"""The voting service as production runs it: granian with two worker processes. Metrics written by
both workers add up on /metrics (Prometheus multiprocess mode), and the OTP-to-receipt flow works over
real HTTP."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from devtools.ports import free_port
from tests.e2e.conftest import wait_for
from tests.factories import make_campaign
from tests.http import http, ssl_context

pytestmark = pytest.mark.e2e


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_two_workers_sign_in_vote_and_sum_their_metrics(env, pool, redis, spawn, tmp_path):
    camp = await make_campaign(pool, redis, candidates=5, k=3)
    port = free_port()
    proc = spawn("-m", "voting_service", "serve", "--port", str(port), "--workers", "2",
                 extra_env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0",
                            "OTP_MAX_PER_IP_HOUR": "1000"})
    base = f"http://127.0.0.1:{port}"

    def live() -> bool:
        try:
            return http().get(f"{base}/health/live", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(live, 30, "granian to answer")
    accepted = 0
    async with httpx.AsyncClient(verify=ssl_context(), base_url=base, timeout=5) as c:
        assert (await c.get("/health/ready")).status_code == 200
        for i in range(12):  # new connections each time: spread over both workers
            phone = f"+77015{i:02d}5500"  # another block of 100 each: not a walked range (signin_risk.py)
            assert (await c.post("/api/v1/auth/otp", json={"phone": phone})).status_code == 202
            code = (await c.get("/api/v1/dev/sms-outbox", params={"phone": phone})).json()[0]["code"]
            token = (await c.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": code})).json()["token"]
            for cand in camp.candidate_ids[: 1 + i % 3]:
                async with httpx.AsyncClient(verify=ssl_context(), base_url=base, timeout=5) as fresh:
                    r = await fresh.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(cand)},
                                         headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 201, r.text
                accepted += 1
            receipt = r.json()["receipt"]
            assert (await c.get(f"/api/v1/receipts/{receipt}")).json()["status"] in ("accepted", "recorded")

        async def browse() -> int:
            async with httpx.AsyncClient(verify=ssl_context(), base_url=base, timeout=5) as fresh:
                return (await fresh.get(f"/api/v1/campaigns/{camp.id}")).status_code

        # Concurrent fresh connections: the kernel hands them to both workers' accept loops.
        assert set(await asyncio.gather(*(browse() for _ in range(200)))) == {200}
        text = (await c.get("/metrics")).text
    pids = {m.group(1) for p in tmp_path.iterdir() if (m := re.search(r"_(\d+)\.db$", p.name))}
    assert len(pids) >= 2, "both workers should have written metrics"
    assert metric(text, "votes_total", result="accepted") == accepted
    assert metric(text, "litestar_requests_total", path="/api/v1/campaigns/{campaign_id}/votes") >= accepted
    assert proc.poll() is None
