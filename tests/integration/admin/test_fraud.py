"""Fraud review on real votes cast through the voting service from many client addresses: the flags point at a
bot farm's network and a SIM farm filling the cap, ordinary networks are not flagged, and invalidating by
cluster id marks exactly the farm's votes (results, receipts and audit show it; nothing after finalisation)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from admin_service.services import fraud
from shared.errors import InvalidRequest
from tests.factories import make_campaign
from tests.integration.admin.helpers import problem
from tests.integration.voting.conftest import cast, mint_token
from voting_service.app import create_app as create_voting_app
from voting_service.flusher import Flusher
from voting_service.state import Services

ORDINARY_NETS = 12
FARM_NET, CAP_NET = "100.64.7.0/24", "100.64.9.0/24"
FARM_VOTERS, CAP_VOTERS = 40, 6


BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
           "Accept-Language": "ru-KZ,ru;q=0.9", "X-Page-Token": "p"}
SCRIPT = {"User-Agent": "python-requests/2.32", "Accept-Language": "en"}


@asynccontextmanager
async def voting_from(settings, pool, redis) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """One voting app; ``client_at(ip, headers)`` -> a client whose requests come from ``ip`` (the ASGI peer)
    with ``headers`` (a browser on the portal's page unless told)."""
    app = create_voting_app(settings, pool=pool, redis=redis)
    app.state.services = Services.build(settings, pool, redis)
    clients: dict[tuple[str, str], httpx.AsyncClient] = {}

    def client_at(ip: str, headers: dict[str, str] = BROWSER) -> httpx.AsyncClient:
        key = (ip, headers["User-Agent"])
        if key not in clients:
            clients[key] = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
                                             base_url="http://vote.test", headers=headers)
        return clients[key]

    try:
        yield client_at
    finally:
        for c in clients.values():
            await c.aclose()
        await app.state.services.close()


async def vote(client: httpx.AsyncClient, camp, token: str, *candidates: int) -> list[str]:
    receipts = []
    for cand in candidates:
        r = await cast(client, camp.id, cand, token)
        assert r.status_code == 201, r.text
        receipts.append(r.json()["receipt"])
    return receipts


async def farmed_campaign(settings, pool, redis, client_at):
    """12 ordinary networks (one address each: one voter with 1 vote, one with 2, K = 3; browsers on the portal's
    page, signed in from 15 s to 8 minutes before); a bot farm rotating through 40 addresses of one /24, scripts
    each voting once for candidate 0 right after signing in; a SIM farm of 6 tokens behind one address, scripts
    filling their cap of 3 at once."""
    camp = await make_campaign(pool, redis, candidates=4, k=3)
    c = camp.candidate_ids
    now = time.time()
    ordinary: list[str] = []
    for n in range(ORDINARY_NETS):
        at = client_at(f"10.20.{n}.5")
        ordinary += await vote(at, camp, mint_token(settings, f"+7701{camp.id % 1000:03d}{n:02d}01",
                                                    now=now - 15 - 4 * n * n), c[n % 4])
        ordinary += await vote(at, camp, mint_token(settings, f"+7701{camp.id % 1000:03d}{n:02d}02",
                                                    now=now - 40 - 3 * n * n), c[(n + 1) % 4], c[(n + 2) % 4])
    farm: list[str] = []
    for n in range(FARM_VOTERS):
        farm += await vote(client_at(f"100.64.7.{10 + n}", SCRIPT), camp,
                           mint_token(settings, f"+7702{camp.id:04d}{n:03d}"), c[0])
    sim: list[str] = []
    for n in range(CAP_VOTERS):
        sim += await vote(client_at("100.64.9.77", SCRIPT), camp, mint_token(settings, f"+7703{camp.id:04d}{n:03d}"),
                          c[1], c[2], c[3])
    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    await f.drain_once()
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == (
        len(ordinary) + len(farm) + len(sim))
    return camp, ordinary, farm, sim


def signals(cluster: dict) -> dict[str, dict]:
    return {s["signal"]: s for s in cluster["signals"]}


async def test_flags_point_at_the_farms_and_cluster_invalidation_marks_exactly_their_votes(
        staff, pool, redis, settings):
    async with voting_from(settings, pool, redis) as client_at:
        camp, ordinary, farm, sim = await farmed_campaign(settings, pool, redis, client_at)
        wg = await staff("working_group")
        url = f"/api/v1/campaigns/{camp.id}/fraud/flags"

        body = (await wg.get(url)).json()
        items = body["items"]
        ids = [i["cluster_id"] for i in items]
        assert ids.index(f"net:{FARM_NET}") < 4, ids
        assert f"net:{CAP_NET}" in ids and not any(i.startswith("net:10.20.") for i in ids), ids
        # the two farms' networks, the SIM farm's address, and the scripts' client signature
        assert body["total"] == len(items) == 4, ids
        sim_ip = next(i for i in items if i["kind"] == "ip")
        assert {"automated_clients", "fast_after_signin"} <= set(signals(sim_ip))
        assert "same_candidates" not in signals(sim_ip)  # 3 candidates alike: no focus
        assert "ua:script.n.x.en" in ids

        top = next(i for i in items if i["cluster_id"] == f"net:{FARM_NET}")
        assert (top["votes"], top["already_invalidated"], top["valid"]) == (40, 0, 40)
        # voters are estimated by linear counting over 1 024 bits: 40 random pseudonyms collide on a bit twice or
        # more in about one run in five (39, 38), six times or more (below 36) in about one run in 8 000
        assert 36 <= top["voters"] <= 40, top
        assert top["top_candidate"] == {"candidate_id": str(camp.candidate_ids[0]), "votes": 40, "share": 1.0}
        assert top["first_cast_at"] <= top["last_cast_at"]
        sig = signals(top)
        # (no same_candidates: the farm holds 40 % of this small campaign's votes, it is the crowd here)
        assert {"automated_clients", "fast_after_signin", "machine_regular_timing"} <= set(sig), sig
        assert sig["automated_clients"]["value"] == 1.0 and sig["fast_after_signin"]["value"] == 1.0
        assert all(s["score"] >= 1 and s["reason"] for s in sig.values())
        assert top["score"] == pytest.approx(sum(s["score"] for s in sig.values()), abs=0.05)
        cap = next(i for i in items if i["cluster_id"] == f"net:{CAP_NET}")
        assert "automated_clients" in signals(cap) and cap["votes"] == 18

        page = (await wg.get(url, params={"limit": 1, "offset": 1})).json()
        assert [i["cluster_id"] for i in page["items"]] == ids[1:2] and page["total"] == 4
        only_ip = (await wg.get(url, params={"kind": "ip"})).json()["items"]
        assert [i["cluster_id"] for i in only_ip] == [sim_ip["cluster_id"]]
        problem(await wg.get(url, params={"kind": "asn"}), (400, 422))
        problem(await wg.get(url, params={"limit": 0}), (400, 422))

        # Invalidate the bot farm's network: exactly its votes, nothing else.
        inv = f"/api/v1/campaigns/{camp.id}/invalidations"
        r = await wg.post(inv, json={"cluster_id": f"net:{FARM_NET}", "reason": "Bot farm, one /24"})
        assert r.status_code == 200, r.text
        assert (r.json()["invalidated"], r.json()["already_invalid"]) == (40, 0)
        bad = {x["vote_id"] for x in await pool.fetch(
            "SELECT vote_id FROM votes WHERE campaign_id = $1 AND invalidated_at IS NOT NULL", camp.id)}
        assert bad == set(farm)
        rows = await pool.fetch("SELECT DISTINCT invalidation_reason, invalidated_by FROM votes "
                                "WHERE campaign_id = $1 AND invalidated_at IS NOT NULL", camp.id)
        assert [(x["invalidation_reason"], x["invalidated_by"]) for x in rows] == [
            ("Bot farm, one /24", wg.user["email"])]
        assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == (
            len(ordinary) + len(farm) + len(sim))  # never deleted
        for receipt in (farm[0], farm[-1]):
            assert (await client_at("192.0.2.1").get(f"/api/v1/receipts/{receipt}")).json()["status"] == "invalidated"
        assert (await client_at("192.0.2.1").get(f"/api/v1/receipts/{ordinary[0]}")).json()["status"] == "recorded"

        res = (await wg.get(f"/api/v1/campaigns/{camp.id}/results")).json()
        first = next(x for x in res["candidates"] if x["candidate_id"] == str(camp.candidate_ids[0]))
        ordinary_for_first = first["raw"] - 40
        assert (first["invalidated"], first["valid"]) == (40, ordinary_for_first)

        again = await wg.post(inv, json={"cluster_id": f"net:{FARM_NET}", "reason": "again"})
        assert (again.json()["invalidated"], again.json()["already_invalid"]) == (0, 40)
        flagged = next(i for i in (await wg.get(url)).json()["items"] if i["cluster_id"] == f"net:{FARM_NET}")
        assert (flagged["already_invalidated"], flagged["valid"]) == (40, 0)  # still listed, now reviewed
        assert signals(flagged)["invalidated"]["value"] == 40

        entries = (await (await staff("auditor")).get("/api/v1/audit",
                                                      params={"action": "votes.invalidate"})).json()["items"]
        entry = next(e for e in entries if e["entity_id"] == str(camp.id) and e["reason"] == "Bot farm, one /24")
        assert entry["new"]["cluster_id"] == f"net:{FARM_NET}" and sorted(entry["new"]["vote_ids"]) == sorted(farm)

        # By address hash too: the SIM farm's one address.
        r = await wg.post(inv, json={"cluster_id": sim_ip["cluster_id"], "reason": "SIM farm"})
        assert r.json()["invalidated"] == 18, r.text
        assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1 AND invalidated_at IS NOT NULL",
                                   camp.id) == 58


async def test_cluster_ids_that_are_malformed_or_unknown_change_nothing(staff, pool, redis, settings):
    async with voting_from(settings, pool, redis) as client_at:
        camp, *_ = await farmed_campaign(settings, pool, redis, client_at)
    wg = await staff("working_group")
    inv = f"/api/v1/campaigns/{camp.id}/invalidations"
    for bad in ("c1", "net:", "net:100.64.7.5/24", "net:not-an-ip/24", "net:100.64.7.0", "ip:", "ip:a b",
                "asn:1234"):
        problem(await wg.post(inv, json={"cluster_id": bad, "reason": "x"}), 422, "invalid_request")
    problem(await wg.post(inv, json={"cluster_id": "net:192.0.2.0/24", "reason": "x"}), 404)
    problem(await wg.post(inv, json={"cluster_id": "ip:AAAAAAAAAAAA", "reason": "x"}), 404)
    problem(await wg.post(inv, json={"cluster_id": f"net:{FARM_NET}", "reason": "  "}), 422, "invalid_request")
    problem(await wg.post(inv, json={"cluster_id": f"net:{FARM_NET}", "vote_ids": ["x"], "reason": "x"}), 422,
            "invalid_request")
    problem(await wg.post("/api/v1/campaigns/987654321098/invalidations",
                          json={"cluster_id": f"net:{FARM_NET}", "reason": "x"}), 404)
    problem(await wg.get("/api/v1/campaigns/987654321098/fraud/flags"), 404)
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1 AND invalidated_at IS NOT NULL",
                               camp.id) == 0


async def test_who_may_see_flags_and_invalidate_clusters(staff, pool, redis, settings):
    async with voting_from(settings, pool, redis) as client_at:
        camp, *_ = await farmed_campaign(settings, pool, redis, client_at)
    url = f"/api/v1/campaigns/{camp.id}/fraud/flags"
    for role in ("secretariat", "working_group", "auditor"):
        r = await (await staff(role)).get(url)
        assert r.status_code == 200 and f"net:{FARM_NET}" in [i["cluster_id"] for i in r.json()["items"]], r.text
    for role in ("expert", "admin"):
        problem(await (await staff(role)).get(url), 403, "forbidden")
    for role in ("secretariat", "auditor", "expert", "admin"):
        problem(await (await staff(role)).post(f"/api/v1/campaigns/{camp.id}/invalidations",
                                                json={"cluster_id": f"net:{FARM_NET}", "reason": "x"}),
                403, "forbidden")


async def test_a_campaign_with_only_ordinary_traffic_has_no_flags(staff, pool, redis, settings):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    async with voting_from(settings, pool, redis) as client_at:
        for n in range(8):
            await vote(client_at(f"10.30.{n}.9"), camp, mint_token(settings, f"+7704{camp.id:04d}{n:03d}"),
                       camp.candidate_ids[n % 3])
    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    await f.drain_once()
    body = (await (await staff("auditor")).get(f"/api/v1/campaigns/{camp.id}/fraud/flags")).json()
    assert (body["items"], body["total"]) == ([], 0)


async def test_no_cluster_invalidation_after_finalisation(staff, pool, redis, settings, monkeypatch):
    from admin_service.services import finalise

    monkeypatch.setattr(finalise, "RECONCILE_WAIT_S", 0.3)
    async with voting_from(settings, pool, redis) as client_at:
        camp, *_ = await farmed_campaign(settings, pool, redis, client_at)
    await pool.execute("UPDATE campaigns SET closes_at = now() - interval '1 minute' WHERE id = $1", camp.id)
    wg = await staff("working_group")
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/finalise", json={})
    assert r.status_code == 200, r.text
    problem(await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations",
                          json={"cluster_id": f"net:{FARM_NET}", "reason": "too late"}), 409)
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1 AND invalidated_at IS NOT NULL",
                               camp.id) == 0
    # The flags stay readable for the record.
    assert f"net:{FARM_NET}" in [i["cluster_id"] for i in (
        await wg.get(f"/api/v1/campaigns/{camp.id}/fraud/flags")).json()["items"]]


def test_cluster_ids_parse_to_their_normal_form():
    assert fraud.parse_cluster_id("net:2001:DB8:1:2::/64").cluster_id == "net:2001:db8:1:2::/64"
    assert fraud.parse_cluster_id("ip:Ab-_09xyzQ12").args == ("Ab-_09xyzQ12",)
    assert fraud.parse_cluster_id("ua:script.n.x.en").args == ("script", False, None, "en")
    assert fraud.parse_cluster_id("ua:browser.t.f.kk").args == ("browser", True, True, "kk")
    assert fraud.parse_cluster_id("ua:browser.t.s.").args == ("browser", True, False, "")
    assert fraud.parse_cluster_id("blk:Ab-_09xyzQ12").kind == "blk"
    assert fraud.parse_cluster_id("burst:12:1700000000-1700000120").args == (12, 1700000000.0, 1700000120.0)
    for bad in ("net:10.0.0.1/24", "ua:robot.n.f.en", "ua:script.n.f.en", "ua:browser.t.x.ru", "ua:script.x.f.en",
                "burst:12:20-10", "burst:0:1-2", "blk:a b", "burst:12:1-"):
        with pytest.raises(InvalidRequest):
            fraud.parse_cluster_id(bad)
