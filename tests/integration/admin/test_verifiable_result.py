"""The verifiable result end to end on real Postgres and Redis (issue 11): votes through the voting API, the
flusher, invalidations and finalisation through the admin API; then every receipt's proof from the public API is
checked against an independent RFC 9162 implementation (tests/rfc9162.py) over leaves rebuilt here from the
votes and the commitment secret, tools/verify_receipt.py verifies saved answers as a subprocess, the portal's
receipt page says the proof holds, and a tampered snapshot, a swapped leaf and a forged signature are caught."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from admin_service.services import finalise as finalise_service
from admin_service.services import tree_head
from shared import tree_head as heads
from tests import rfc9162
from tests.factories import make_campaign
from tests.integration.admin.test_finalise import cast_plan, flush
from tests.integration.voting.conftest import client, voting_app  # noqa: F401 (fixtures)
from voting_service.services import proofs

TOOL = Path(__file__).resolve().parents[3] / "tools" / "verify_receipt.py"
PLAN = [0, 1, 2, 0, 0, 1, 2, 2, 2, 0, 1, 0, 2, 1, 0, 0, 1, 2, 0, 1, 2, 0, 2]  # 23 votes, one voter each


@pytest.fixture(autouse=True)
def short_reconcile_wait(monkeypatch):
    monkeypatch.setattr(finalise_service, "RECONCILE_WAIT_S", 0.3)


async def _finalised(staff, pool, redis, settings, client, flusher_pool, flusher_redis):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    receipts = await cast_plan(settings, client, camp, PLAN)
    wg = await staff("working_group")
    assert (await wg.post(f"/api/v1/campaigns/{camp.id}/close")).status_code == 200
    await flush(settings, flusher_pool, flusher_redis)
    bad = [receipts[1][0], receipts[4][0], receipts[17][0]]
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/invalidations", json={"vote_ids": bad, "reason": "SIM farm"})
    assert r.status_code == 200, r.text
    r = await wg.post(f"/api/v1/campaigns/{camp.id}/finalise")
    assert r.status_code == 200, r.text
    return camp, receipts, set(bad), r.json()


def _save(tmp_path: Path, name: str, body: dict) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(body))
    return str(path)


def _tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=60)


async def test_every_receipt_is_proven_against_an_independent_rfc9162_tree(
        staff, pool, redis, settings, client, flusher_pool, flusher_redis, tmp_path):
    camp, receipts, bad, result = await _finalised(staff, pool, redis, settings, client, flusher_pool, flusher_redis)
    assert result["tree_size"] == len(PLAN) - len(bad) == result["counted_votes"]

    # The tree head: public, signed, 404 before finalisation is tested below.
    th = (await client.get(f"/api/v1/campaigns/{camp.id}/tree-head")).json()
    assert th["root_hash"] == result["merkle_root"] and th["tree_size"] == result["tree_size"]
    assert th["digest"] == result["digest"] and th["invalidated_votes"] == len(bad)
    assert th["signature"] == result["signature"] and th["key_id"] == result["key_id"]
    assert heads.verify(th, base64.b64decode(th["public_key"]))

    # Independent leaves: the votes as cast (receipt, candidate), the secret read as the owner role.
    secret = await pool.fetchval("SELECT secret FROM campaign_commitment_keys WHERE campaign_id = $1", camp.id)
    counted = sorted(((r, c) for r, c in receipts if r not in bad), key=lambda rc: rc[0].encode())
    commit = {r: hmac.new(secret, b"faces-commitment-v1\x00" + r.encode() + b"\x00" + str(c).encode(),
                          hashlib.sha256).digest() for r, c in counted}
    leaves = [rfc9162.leaf(str(camp.id), r, commit[r]) for r, _ in counted]
    assert rfc9162.mth(leaves).hex() == th["root_hash"]

    for receipt, _ in receipts:
        body = (await client.get(f"/api/v1/receipts/{receipt}")).json()
        assert "candidate_id" not in json.dumps(body)
        if receipt in bad:
            assert body["status"] == "invalidated" and "proof" not in body and "tree_head" not in body
            continue
        m = [r for r, _ in counted].index(receipt)
        proof = body["proof"]
        assert body["status"] == "recorded"
        assert (proof["leaf_index"], proof["tree_size"]) == (m, len(counted))
        assert proof["commitment"] == commit[receipt].hex()
        assert proof["leaf_hash"] == hashlib.sha256(b"\x00" + leaves[m]).hexdigest()
        assert proof["audit_path"] == [h.hex() for h in rfc9162.path(m, leaves)]
        assert {k: body["tree_head"][k] for k in body["tree_head"]} == {k: th[k] for k in body["tree_head"]}
        assert proofs.check(body).ok

    # The standalone verifier on saved answers (a subprocess, standard library only), key pinned.
    receipt = counted[5][0]
    body = (await client.get(f"/api/v1/receipts/{receipt}")).json()
    snapshot = (await client.get(f"/api/v1/campaigns/{camp.id}/snapshot")).json()
    files = ["--receipt-file", _save(tmp_path, "r", body), "--tree-head-file", _save(tmp_path, "th", th),
             "--snapshot-file", _save(tmp_path, "s", snapshot)]
    done = _tool(*files, "--public-key", th["public_key"])
    assert done.returncode == 0 and "VERIFIED" in done.stdout, done.stdout + done.stderr
    bad_body = (await client.get(f"/api/v1/receipts/{next(iter(bad))}")).json()
    done = _tool("--receipt-file", _save(tmp_path, "bad", bad_body))
    assert done.returncode == 1 and "INVALIDATED" in done.stdout

    # The public results carry the tree head; the portal's receipt page runs the check and says so.
    results = (await client.get(f"/api/v1/campaigns/{camp.id}/results")).json()
    assert results["tree_head"]["root_hash"] == th["root_hash"]
    assert results["tree_head"]["url"] == f"/api/v1/campaigns/{camp.id}/tree-head"
    page = await client.get(f"/receipts/{receipt}?lang=en")
    assert page.status_code == 200 and 'data-proof="verified"' in page.text
    assert th["root_hash"] in page.text and 'href="/rules#check"' in page.text
    page = await client.get(f"/receipts/{next(iter(bad))}?lang=en")
    assert 'data-proof=' not in page.text and "no proof" in page.text

    # The admin side's own recomputation from the votes table finds nothing wrong.
    async with pool.acquire() as conn, conn.transaction():
        assert await tree_head.check_result(conn, campaign_id=camp.id, digest=result["digest"]) == []


async def test_tampering_is_detected(staff, pool, redis, settings, client, flusher_pool, flusher_redis, tmp_path):
    camp, receipts, bad, result = await _finalised(staff, pool, redis, settings, client, flusher_pool, flusher_redis)
    th = (await client.get(f"/api/v1/campaigns/{camp.id}/tree-head")).json()
    counted = sorted((r for r, _ in receipts if r not in bad), key=str.encode)

    # A tampered snapshot (a count changed behind the triggers' back): the signed digest no longer matches.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE campaign_results DISABLE TRIGGER campaign_results_no_update")
        await conn.execute("UPDATE campaign_results SET counts = jsonb_set(counts, '{0,valid}', '999') "
                           "WHERE campaign_id = $1", camp.id)
        await conn.execute("ALTER TABLE campaign_results ENABLE TRIGGER campaign_results_no_update")
    snapshot = (await client.get(f"/api/v1/campaigns/{camp.id}/snapshot")).json()
    assert snapshot["counts"][0]["valid"] == 999
    body = (await client.get(f"/api/v1/receipts/{counted[0]}")).json()
    done = _tool("--receipt-file", _save(tmp_path, "r", body), "--tree-head-file", _save(tmp_path, "th", th),
                 "--snapshot-file", _save(tmp_path, "s", snapshot))
    assert done.returncode == 1 and "does not hash to the signed digest" in done.stdout, done.stdout

    # A swapped leaf: two commitments exchanged in the stored tiles. Both receipts' proofs now fail.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE merkle_tiles DISABLE TRIGGER merkle_tiles_no_update")
        await conn.execute("UPDATE merkle_tiles SET commitments = substr(commitments, 33, 32) "
                           "|| substr(commitments, 1, 32) || substr(commitments, 65) "
                           "WHERE campaign_id = $1 AND tile = 0", camp.id)
        await conn.execute("ALTER TABLE merkle_tiles ENABLE TRIGGER merkle_tiles_no_update")
    for receipt in counted[:2]:
        body = (await client.get(f"/api/v1/receipts/{receipt}")).json()
        check = proofs.check(body)
        assert check is not None and not check.ok and not check.path_leads_to_root
        done = _tool("--receipt-file", _save(tmp_path, "r", body), "--tree-head-file", _save(tmp_path, "th", th))
        assert done.returncode == 1 and "does not lead to the root" in done.stdout, done.stdout
        page = await client.get(f"/receipts/{receipt}?lang=en")
        assert 'data-proof="failed"' in page.text
    assert proofs.check((await client.get(f"/api/v1/receipts/{counted[2]}")).json()).ok  # the others still hold

    # A forged signature on the stored head; the admin's recomputation reports all three.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE campaign_tree_heads DISABLE TRIGGER campaign_tree_heads_no_update")
        forged = base64.b64encode(bytes(64)).decode()
        await conn.execute("UPDATE campaign_tree_heads SET signature = $2 WHERE campaign_id = $1", camp.id, forged)
        await conn.execute("ALTER TABLE campaign_tree_heads ENABLE TRIGGER campaign_tree_heads_no_update")
    fresh = (await client.get(f"/api/v1/campaigns/{camp.id}/tree-head")).json()  # cached head: the signed one
    assert heads.verify(fresh, base64.b64decode(fresh["public_key"]))
    th_forged = {**th, "signature": forged}
    assert not heads.verify(th_forged, base64.b64decode(th["public_key"]))
    body = (await client.get(f"/api/v1/receipts/{counted[3]}")).json()
    body["tree_head"]["signature"] = forged
    assert not proofs.check(body).signature_valid
    done = _tool("--receipt-file", _save(tmp_path, "r", body), "--tree-head-file", _save(tmp_path, "th", th_forged))
    assert done.returncode == 1 and "signature does NOT verify" in done.stdout, done.stdout
    snap = await pool.fetchrow("SELECT campaign_id, policy, seats, counts FROM campaign_results WHERE campaign_id = $1",
                               camp.id)
    digest = finalise_service.digest_of(campaign_id=str(camp.id), policy=snap["policy"], seats=snap["seats"],
                                        counts=snap["counts"])
    async with pool.acquire() as conn, conn.transaction():
        problems = await tree_head.check_result(conn, campaign_id=camp.id, digest=digest)
    assert any("signature does not verify" in p for p in problems)
    assert any("digest" in p for p in problems)
    assert any("stored tiles" in p for p in problems)


async def test_the_voting_and_flusher_roles_cannot_read_the_commitment_secret(
        staff, pool, redis, settings, client, flusher_pool, flusher_redis, voting_pool):
    camp, *_ = await _finalised(staff, pool, redis, settings, client, flusher_pool, flusher_redis)
    for role_pool in (voting_pool, flusher_pool):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await role_pool.fetchval("SELECT secret FROM campaign_commitment_keys WHERE campaign_id = $1", camp.id)
    assert await voting_pool.fetchval("SELECT count(*) FROM merkle_tiles WHERE campaign_id = $1", camp.id) == 1
    for table in ("merkle_tiles", "campaign_tree_heads"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await voting_pool.execute(f"DELETE FROM {table} WHERE campaign_id = $1", camp.id)


async def test_no_tree_head_before_finalisation(pool, redis, client):
    camp = await make_campaign(pool, redis, candidates=2, k=1)
    r = await client.get(f"/api/v1/campaigns/{camp.id}/tree-head")
    assert r.status_code == 404 and r.json()["code"] == "not_finalised"
    assert (await client.get("/api/v1/campaigns/999999999/tree-head")).json()["code"] == "campaign_not_found"
