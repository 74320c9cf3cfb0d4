"""Public results and receipt lookups.

Before finalisation (and only with ``live_results``): the live Redis tallies, every accepted vote counted.
After finalisation: the frozen snapshot the admin service wrote (``campaign_results``): each candidate's VALID
votes (invalidated ones are not counted), in the snapshot's rank order, and the final list (``final``) that
the portal's final-100 pages show: the selected candidates with their public cards and texts, by region and
sphere, and the list's composition next to the population by region and gender (shared/data).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis

from shared.composition import composition_of
from shared.errors import Forbidden, NotFound
from shared.repos.campaigns import public_status
from shared.texts import all_texts
from shared.votestore.receipts import in_stream, parse_receipt
from shared.votestore.tally import tallies
from voting_service.models import Receipt
from voting_service.repos import results as results_repo
from voting_service.services.directory import CampaignDirectory, TTLCache
from voting_service.services.proofs import ReceiptReads, TreeHeads, proof_in_tile


class ResultsHidden(Forbidden):
    code = "results_hidden"
    title = "Results are not public yet"


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    title = "Receipt not found"


class NotFinalised(NotFound):
    code = "not_finalised"
    title = "Not finalised yet"


class Results:
    def __init__(self, *, redis: aioredis.Redis, directory: CampaignDirectory, ttl_s: float,
                 pool: asyncpg.Pool, trees: TreeHeads) -> None:
        self._trees = trees
        self._redis = redis
        self._directory = directory
        self._pool = pool
        self._cache: TTLCache[dict[str, Any]] = TTLCache(ttl_s)
        self._final: TTLCache[dict[str, Any]] = TTLCache(ttl_s)

    async def live(self, campaign_id: int) -> dict[str, Any]:
        """``{campaign_id, status, total_votes, candidates: [{candidate_id, votes}], as_of}``: after
        finalisation the frozen valid counts (plus ``finalised``, ``invalidated_votes``, ``seats``), before it
        the live tallies when the campaign shows live results, else ``ResultsHidden``."""
        row = await self._directory.get(campaign_id)
        if row["state"] == "finalised":
            return await self._cache.get(campaign_id, lambda: self._frozen(campaign_id))
        if not row["live_results"]:
            raise ResultsHidden("Results of this campaign are published after it is finalised.")
        return await self._cache.get(campaign_id, lambda: self._compute(campaign_id, row))

    async def _snapshot(self, campaign_id: int) -> Any:
        async with self._pool.acquire() as conn:
            snap = await results_repo.snapshot(conn, campaign_id=campaign_id)
        if snap is None:
            raise NotFinalised(f"Campaign {campaign_id} has no final result yet.")
        return snap

    async def _frozen(self, campaign_id: int) -> dict[str, Any]:
        snap = await self._snapshot(campaign_id)
        counts = snap["counts"]  # every ballot candidate in rank order (admin_service/services/finalise.py)
        return {
            "campaign_id": str(campaign_id),
            "status": "finalised",
            "total_votes": sum(c["valid"] for c in counts),
            "candidates": [{"candidate_id": c["candidate_id"], "votes": c["valid"]} for c in counts],
            "as_of": snap["finalised_at"],
            "finalised": True,
            "invalidated_votes": sum(c["invalidated"] for c in counts),
            "seats": [s["candidate_id"] for s in snap["seats"]],
            "tree_head": await self._head_or_none(campaign_id),
        }

    async def _head_or_none(self, campaign_id: int) -> dict[str, Any] | None:
        tree = await self._trees.get(campaign_id)
        return None if tree is None else {**tree.head, "invalidated_votes": tree.invalidated_votes,
                                          "url": f"/api/v1/campaigns/{campaign_id}/tree-head"}

    async def tree_head(self, campaign_id: int) -> dict[str, Any]:
        """The signed tree head of a finalised campaign (API.md); ``NotFinalised`` before finalisation and for a
        campaign finalised before the RFC 9162 scheme (it has none)."""
        await self._directory.get(campaign_id)  # 404 campaign_not_found first
        tree = await self._trees.get(campaign_id)
        if tree is None:
            raise NotFinalised(f"Campaign {campaign_id} has no signed tree head: it is not finalised.")
        return {**tree.head, "invalidated_votes": tree.invalidated_votes}

    async def snapshot(self, campaign_id: int) -> dict[str, Any]:
        """The body whose SHA-256 is the signed ``digest``: ``{campaign_id, policy, seats, counts}`` exactly as
        frozen (the digest is SHA-256 of its canonical JSON: keys sorted, separators "," ":", ASCII)."""
        await self._directory.get(campaign_id)
        snap = await self._snapshot(campaign_id)
        return {"campaign_id": str(campaign_id), "policy": snap["policy"], "seats": snap["seats"],
                "counts": snap["counts"]}

    async def final(self, campaign_id: int) -> dict[str, Any]:
        """The final list of a finalised campaign, for the final-100 pages (``NotFinalised`` before):

        ``{campaign_id, finalised_at, policy, digest, merkle_root, counted_votes, seats_wanted,
        finalists: [{rank, candidate_id, votes, full_name, region, sphere, gender, photo_url, text_lang,
        summary, story, achievements, texts}], by_region: {code: [candidate_id]}, by_sphere: {code:
        [candidate_id]}, composition: {total, region: [...], gender: [...], sources}}``.

        Finalists are in rank order; ``votes`` are their valid votes; texts as stored (pick the visitor's
        language with shared/texts.py ``localized_texts(finalist, lang)``); ``by_region`` / ``by_sphere`` list
        every code of shared/data that has a finalist, in rank order; ``composition`` rows are
        ``{code, name, count, share, population_share, expected, difference}`` (names in kk, ru, en for
        regions; gender codes ``female``/``male``)."""
        campaign = await self._directory.get(campaign_id)
        if campaign["state"] != "finalised":
            raise NotFinalised(f"Campaign {campaign_id} is not finalised yet.")
        return await self._final.get(campaign_id, lambda: self._final_list(campaign_id, campaign["seats"]))

    async def _final_list(self, campaign_id: int, seats_wanted: int) -> dict[str, Any]:
        snap = await self._snapshot(campaign_id)
        seats = snap["seats"]
        async with self._pool.acquire() as conn:
            cards = {r["id"]: r for r in await results_repo.public_cards(
                conn, candidate_ids=[int(s["candidate_id"]) for s in seats])}
        finalists = []
        for s in seats:
            card = cards.get(int(s["candidate_id"]))
            if card is None:  # cannot happen (candidates are never deleted); skip rather than fail the page
                continue
            base = card["text_lang"]
            finalists.append({
                "rank": s["rank"], "candidate_id": s["candidate_id"], "votes": s["valid"],
                "full_name": card["full_name"], "region": card["region"], "sphere": card["sphere"],
                "gender": card["gender"], "photo_url": card["photo_url"], "text_lang": base,
                "summary": card["summary"], "story": card["story"], "achievements": card["achievements"] or [],
                "texts": {lang: entry for lang, entry in all_texts(card).items() if lang != base},
            })
        by_region: dict[str, list[str]] = {}
        by_sphere: dict[str, list[str]] = {}
        for f in finalists:
            by_region.setdefault(f["region"], []).append(f["candidate_id"])
            by_sphere.setdefault(f["sphere"], []).append(f["candidate_id"])
        composition = composition_of(finalists)
        return {
            "campaign_id": str(campaign_id), "finalised_at": snap["finalised_at"], "policy": snap["policy"],
            "digest": snap["digest"], "merkle_root": snap["merkle_root"], "counted_votes": snap["counted_votes"],
            "seats_wanted": seats_wanted, "finalists": finalists, "by_region": by_region, "by_sphere": by_sphere,
            "composition": {"total": composition["total"], "region": composition["region"],
                            "gender": composition["gender"],
                            "sources": {k: composition["sources"][k] for k in ("region", "gender")}},
        }

    async def _compute(self, campaign_id: int, row: Any) -> dict[str, Any]:
        counts = await tallies(self._redis, campaign_id, row["shards"])
        ballot = await self._directory.ballot(campaign_id)
        for cand in ballot:
            counts.setdefault(str(cand["id"]), 0)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], int(kv[0])))
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        return {
            "campaign_id": str(campaign_id),
            "status": public_status(row, now_ms),
            "total_votes": sum(counts.values()),
            "candidates": [{"candidate_id": c, "votes": n} for c, n in ordered],
            "as_of": datetime.now(UTC),
        }


class Receipts:
    """A receipt's status; once its campaign is finalised (RFC 9162 scheme) a counted vote's answer adds
    ``proof`` (``leaf_index, tree_size, leaf_hash, audit_path, commitment``) and ``tree_head`` (``tree_size,
    root_hash, digest, signature, key_id, public_key``): services/proofs.py, docs/verify.md.

    ``lookup`` gives the answer as the API's ``Receipt`` (encoded as it is by the route and by the fast path,
    voting_service/fastpath.py); ``status`` the same as plain data (the portal's receipt page)."""

    def __init__(self, *, redis: aioredis.Redis, pool: asyncpg.Pool, trees: TreeHeads) -> None:
        self._redis = redis
        self._pool = pool
        self._trees = trees
        self._reads = ReceiptReads(pool)

    async def _in_postgres(self, campaign_id: int, receipt: str) -> Receipt | None:
        row = await self._reads(campaign_id, receipt)
        if row is None:
            return None
        found = Receipt(receipt=receipt, campaign_id=str(campaign_id),
                        status="invalidated" if row["invalidated"] else "recorded")
        if row["tile"] is not None:
            tree = await self._trees.get(campaign_id)
            proof = proof_in_tile(tree, campaign_id, receipt, row) if tree is not None else None
            if proof is not None and tree is not None:
                found.proof = proof
                found.tree_head = tree.receipt_head
        return found

    async def lookup(self, receipt: str) -> Receipt:
        parsed = parse_receipt(receipt)
        if parsed is None:
            raise ReceiptNotFound("No vote has this receipt.")
        campaign_id, shard, stream_id, nonce = parsed
        found = await self._in_postgres(campaign_id, receipt)
        if found is None:
            if await in_stream(self._redis, campaign_id, shard, stream_id, nonce):
                found = Receipt(receipt=receipt, campaign_id=str(campaign_id), status="accepted")
            else:
                # The flusher may have committed and trimmed it between the two reads.
                found = await self._in_postgres(campaign_id, receipt)
        if found is None:
            raise ReceiptNotFound("No vote has this receipt.")
        return found

    async def status(self, receipt: str) -> dict[str, Any]:
        """``lookup``'s answer as plain data: ``{receipt, campaign_id, status}`` and, with a proof, ``proof`` and
        ``tree_head`` (dicts)."""
        answer: dict[str, Any] = msgspec.to_builtins(await self.lookup(receipt))
        return answer
