"""Finalisation of the 100: preconditions (closed, drained, reconciled), the deterministic ranking and its
tie-break, the frozen snapshot (digest and Merkle root recomputed here from what the API exports), the
candidates' final statuses, and that nothing can change afterwards (invariant 7)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from admin_service.repos import finalise as finalise_repo
from admin_service.services import finalise as service
from tests.factories import make_campaign
from tests.integration.admin.helpers import problem
from tests.integration.voting.conftest import cast, client, mint_token, voting_app  # noqa: F401 (fixtures)
from voting_service.flusher import Flusher


@pytest.fixture(autouse=True)
def short_reconcile_wait(monkeypatch):
    monkeypatch.setattr(service, "RECONCILE_WAIT_S", 0.3)


# --- recomputation from the exports alone (no import of the service's helpers) ------------------------


def recompute_digest(body: dict) -> str:
    canonical = json.dumps({"campaign_id": body["campaign_id"], "policy": body["policy"], "seats": body["seats"],
                            "counts": body["counts"]}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify_head(result: dict) -> None:
    """The finalisation's signed tree head: Ed25519 over the canonical JSON of API.md, the key id the key's."""
    message = json.dumps({"campaign_id": result["campaign_id"], "tree_size": result["tree_size"],
                          "root_hash": result["merkle_root"], "digest": result["digest"]},
                         sort_keys=True, separators=(",", ":")).encode()
    public = base64.b64decode(result["public_key"])
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(result["signature"]), message)
    assert result["key_id"] == hashlib.sha256(public).hexdigest()[:16]
    assert result["tree_size"] == result["counted_votes"] and result["merkle_scheme"] == "rfc9162-v1"


# --- set-up -------------------------------------------------------------------------------------------


async def flush(settings, pool, redis) -> None:
    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    await f.drain_once()


async def cast_plan(settings, voting_client, camp, plan: list[int]) -> list[tuple[str, int]]:
    """One voter per entry of ``plan`` (an index into the ballot); returns (receipt, candidate id)."""
    receipts = []
    for n, idx in enumerate(plan):
        cand = camp.candidate_ids[idx]
        r = await cast(voting_client, camp.id, cand, mint_token(settings, f"fin-{camp.id}-{n}"))
        assert r.status_code == 201, r.text
        receipts.append((r.json()["receipt"], cand))
        await asyncio.sleep(0.01)  # distinct cast_at (milliseconds) for the first-vote tie-break
    return receipts


# Ballot A, B, C, D, E (ids ascending). E's vote comes before D's: they tie on valid and raw votes and E wins
# on the earlier first valid vote although its id is higher. B ties A on valid votes (one of B's three is
# invalidated below) and wins on raw votes.
A, B, C, D, E = range(5)
PLAN = [E, D, C, C, C, B, B, B, A, A]


async def test_finalise_ranks_freezes_and_exports_a_verifiable_result(staff, pool, redis, settings, client,
                                                                      flusher_pool, flusher_redis):
    camp = await make_campaign(pool, redis, candidates=5, k=3)
    await pool.execute("UPDATE campaigns SET seats = 4 WHERE id = $1", camp.id)
    wg = await staff("working_group")
    url = f"/api/v1/campaigns/{camp.id}/finalise"

    body = problem(await wg.post(url), 409, "not_ready")
    assert "open" in body["detail"]

    receipts = await cast_plan(settings, client, camp, PLAN)
    assert (await wg.post(f"/api/v1/campaigns/{camp.id}/close")).status_code == 200
    body = problem(await wg.post(url), 409, "not_ready")  # votes still in the stream
    assert "drained" in body["detail"].lower()
    assert await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id) == "closed"

    await flush(settings, flusher_pool, flusher_redis)
    bad = next(rc for rc, cand in receipts if cand == camp.candidate_ids[B])
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations", json={"vote_ids": [bad], "reason": "SIM farm"})
    assert r.status_code == 200, r.text

    problem(await (await staff("auditor")).post(url), 403, "forbidden")
    problem(await wg.post(url, json={"policy": "diversity"}), 422, "invalid_request")
    problem(await wg.post(url, json={"policy": "top_votes", "extra": 1}), (400, 422), "invalid_request")

    r = await wg.post(url, json={"policy": "top_votes"})
    assert r.status_code == 200, r.text
    result = r.json()
    ids = camp.candidate_ids
    assert [s["candidate_id"] for s in result["seats"]] == [str(ids[i]) for i in (C, B, A, E)]
    assert [s["rank"] for s in result["seats"]] == [1, 2, 3, 4]
    assert [(c["candidate_id"], c["raw"], c["invalidated"], c["valid"], c["selected"]) for c in result["counts"]] == [
        (str(ids[C]), 3, 0, 3, True), (str(ids[B]), 3, 1, 2, True), (str(ids[A]), 2, 0, 2, True),
        (str(ids[E]), 1, 0, 1, True), (str(ids[D]), 1, 0, 1, False)]
    assert result["projected"] is True

    # The digest and the Merkle root, recomputed from the exports only.
    assert result["digest"] == recompute_digest(result)
    auditor = await staff("auditor")
    txt = await auditor.get(f"/api/v1/campaigns/{camp.id}/counted-votes.txt")
    assert txt.status_code == 200 and txt.headers["content-type"].startswith("text/plain")
    lines = txt.text.splitlines()
    assert lines == sorted(lines) and len(lines) == len(PLAN) - 1 == result["counted_votes"]
    assert bad not in lines and set(lines) == {rc for rc, _ in receipts} - {bad}
    verify_head(result)

    snap = (await auditor.get(f"/api/v1/campaigns/{camp.id}/finalisation")).json()
    signed = ("seats", "counts", "digest", "merkle_root", "policy", "tree_size", "signature", "key_id", "public_key")
    assert {k: snap[k] for k in signed} == {k: result[k] for k in signed}
    assert recompute_digest(snap) == snap["digest"]

    # Representation vs the population is always reported.
    report = result["report"]
    assert report["representation"]["total"] == 4
    assert sum(row["count"] for row in report["representation"]["region"]) == 4
    assert all("population_share" in row for row in report["representation"]["gender"])
    assert report["ballot_representation"]["total"] == 5
    assert [t["candidate_id"] for t in report["ties_at_cut"]] == [str(ids[E]), str(ids[D])]
    assert report["tie_break"][0] == "more valid votes"

    # Campaign and candidates.
    camp_row = await pool.fetchrow("SELECT state, finalised_at FROM campaigns WHERE id = $1", camp.id)
    assert camp_row["state"] == "finalised" and camp_row["finalised_at"] is not None
    for i, status in ((A, "finalist"), (B, "finalist"), (C, "finalist"), (E, "finalist"), (D, "not_selected")):
        card = (await auditor.get(f"/api/v1/candidates/{ids[i]}")).json()
        assert card["status"] == status
        assert (card["history"][-1]["from"], card["history"][-1]["to"]) == ("on_ballot", status)
        assert "finalisation" in card["history"][-1]["reason"]
    entries = (await auditor.get("/api/v1/audit", params={"action": "campaign.finalise"})).json()["items"]
    entry = next(e for e in entries if e["entity_id"] == str(camp.id))
    assert entry["new"]["digest"] == result["digest"]
    assert entry["new"]["merkle_root"] == result["merkle_root"]

    # Frozen: no second finalisation, no invalidation, no vote.
    problem(await wg.post(url), 409, "conflict")
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations",
                      json={"vote_ids": [receipts[0][0]], "reason": "too late"})
    problem(r, 409)
    r = await cast(client, camp.id, ids[D], mint_token(settings, f"fin-{camp.id}-late"))
    assert r.status_code == 403 and r.json()["code"] == "campaign_closed", r.text


async def test_the_snapshot_and_the_counted_votes_cannot_be_changed(staff, pool, redis, settings, client,
                                                                    flusher_pool, flusher_redis):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    receipts = await cast_plan(settings, client, camp, [0, 1, 1])
    wg = await staff("working_group")
    assert (await wg.post(f"/api/v1/campaigns/{camp.id}/close")).status_code == 200
    await flush(settings, flusher_pool, flusher_redis)
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/finalise")  # no body: the default policy
    assert r.status_code == 200, r.text
    assert r.json()["policy"] == "top_votes"

    async with pool.acquire() as conn:
        for sql in ("UPDATE campaign_results SET digest = repeat('0', 64) WHERE campaign_id = $1",
                    "DELETE FROM campaign_results WHERE campaign_id = $1",
                    "UPDATE votes SET invalidated_at = now(), invalidation_reason = 'x', invalidated_by = 'x' "
                    "WHERE campaign_id = $1",
                    "DELETE FROM votes WHERE campaign_id = $1",
                    "UPDATE campaigns SET state = 'closed' WHERE id = $1",
                    "UPDATE campaign_tree_heads SET tree_size = 0 WHERE campaign_id = $1",
                    "DELETE FROM merkle_tiles WHERE campaign_id = $1",
                    "UPDATE merkle_levels SET hashes = '' WHERE campaign_id = $1",
                    "DELETE FROM campaign_commitment_keys WHERE campaign_id = $1"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql, camp.id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("TRUNCATE campaign_results")
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1 AND invalidated_at IS NULL",
                               camp.id) == len(receipts)
    assert (await wg.get(f"/api/v1/campaigns/{camp.id}/finalisation")).json()["digest"] == r.json()["digest"]
    async with pool.acquire() as conn, conn.transaction():  # the cursor, one id per chunk
        chunks = [c async for c in finalise_repo.iter_counted_ids(conn, campaign_id=camp.id, chunk=1)]
    lines = (await wg.get(f"/api/v1/campaigns/{camp.id}/counted-votes.txt")).text.splitlines()
    assert [c[0] for c in chunks] == lines and len(lines) == len(receipts) == r.json()["tree_size"]
    verify_head(r.json())


async def test_a_campaign_past_its_window_is_closed_and_finalised_in_one_step(staff, pool, redis, settings,
                                                                               client, flusher_pool, flusher_redis):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    await cast_plan(settings, client, camp, [2, 2, 0])
    await flush(settings, flusher_pool, flusher_redis)
    await pool.execute("UPDATE campaigns SET closes_at = now() - interval '1 minute' WHERE id = $1", camp.id)
    wg = await staff("working_group")
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/finalise", json={})
    assert r.status_code == 200, r.text
    assert [s["candidate_id"] for s in r.json()["seats"]] == [str(camp.candidate_ids[i]) for i in (2, 0, 1)]
    row = await pool.fetchrow("SELECT state, closed_at FROM campaigns WHERE id = $1", camp.id)
    assert row["state"] == "finalised" and row["closed_at"] is not None
    actions = {r["action"] for r in await pool.fetch(
        "SELECT action FROM audit_log WHERE entity_type = 'campaign' AND entity_id = $1", str(camp.id))}
    assert {"campaign.close", "campaign.finalise"} <= actions


async def test_undrained_votes_after_the_window_leave_the_campaign_as_it_was(staff, pool, redis, settings, client,
                                                                             flusher_pool, flusher_redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    await cast_plan(settings, client, camp, [0])
    await pool.execute("UPDATE campaigns SET closes_at = now() - interval '1 minute' WHERE id = $1", camp.id)
    wg = await staff("working_group")
    problem(await wg.post(f"/api/v1/campaigns/{camp.id}/finalise"), 409, "not_ready")
    assert await pool.fetchval("SELECT state FROM campaigns WHERE id = $1", camp.id) == "published"
    assert await pool.fetchval("SELECT count(*) FROM campaign_results WHERE campaign_id = $1", camp.id) == 0
    assert await pool.fetchval("SELECT status FROM candidates WHERE id = $1", camp.candidate_ids[0]) == "on_ballot"
    await flush(settings, flusher_pool, flusher_redis)
    assert (await wg.post(f"/api/v1/campaigns/{camp.id}/finalise")).status_code == 200


async def test_the_wait_for_the_drain_holds_no_lock_on_the_campaign(staff, pool, redis, settings, client,
                                                                    flusher_pool, flusher_redis, monkeypatch):
    """While finalisation waits for the flusher, another transaction can lock the campaign row (an
    invalidation, say); once the flusher has written the vote, the same request finalises."""
    monkeypatch.setattr(service, "RECONCILE_WAIT_S", 20.0)
    waiting = asyncio.Event()
    wait_drained = service.drain.wait_drained

    async def observed(*args, **kwargs):
        waiting.set()
        return await wait_drained(*args, **kwargs)

    monkeypatch.setattr(service.drain, "wait_drained", observed)
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    await cast_plan(settings, client, camp, [1])  # in the stream, not yet in Postgres
    await pool.execute("UPDATE campaigns SET closes_at = now() - interval '1 minute' WHERE id = $1", camp.id)
    wg = await staff("working_group")
    request = asyncio.create_task(wg.post(f"/api/v1/campaigns/{camp.id}/finalise", json={}))
    await asyncio.wait_for(waiting.wait(), 10)
    await asyncio.sleep(0.3)  # well into the wait (it polls every 0.2 s)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL lock_timeout = '1s'")
        locked = await conn.fetchval("SELECT id FROM campaigns WHERE id = $1 FOR UPDATE NOWAIT", camp.id)
    assert locked == camp.id and not request.done()
    await flush(settings, flusher_pool, flusher_redis)
    r = await asyncio.wait_for(request, 30)
    assert r.status_code == 200, r.text
    assert [s["candidate_id"] for s in r.json()["seats"]][0] == str(camp.candidate_ids[1])


async def test_a_draft_is_not_ready_and_unknown_or_unfinalised_campaigns_have_no_snapshot(staff, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, publish=False)
    wg = await staff("working_group")
    body = problem(await wg.post(f"/api/v1/campaigns/{camp.id}/finalise"), 409, "not_ready")
    assert "draft" in body["detail"]
    problem(await wg.post("/api/v1/campaigns/987654321098/finalise"), 404)
    problem(await wg.get(f"/api/v1/campaigns/{camp.id}/finalisation"), 404)
    problem(await wg.get(f"/api/v1/campaigns/{camp.id}/counted-votes.txt"), 404)


# --- the pure parts ------------------------------------------------------------------------------------


def test_the_last_tie_break_is_the_lower_candidate_id():
    at = None
    rows = [{"candidate_id": cid, "raw": 2, "invalidated": 0, "first_valid_at": at, "region": "KZ-75",
             "sphere": "social", "gender": "male"} for cid in (30, 10, 20)]
    seats, counts = service.rank(rows, 2)
    assert [s["candidate_id"] for s in seats] == ["10", "20"]
    assert [c["candidate_id"] for c in counts] == ["10", "20", "30"]
