"""Inclusion proofs of receipts and the signed tree heads of finalised campaigns (issue 11; docs/verify.md).

The voting service only READS what the admin service wrote at finalisation (it holds no signing key and cannot
read the commitment secret): a tree head and the tree's upper levels are read once per campaign and kept (they
never change); a receipt's proof then costs the one row read that also gives its status (repos/proofs.py) and
a few slices: the leaf's hash and its sibling's (two SHA-256), the tile's inner nodes, the cached levels.
``check`` verifies a proof and the head's signature with shared/merkle.py and shared/tree_head.py: what the
standalone tools/verify_receipt.py does, here for the portal's receipt page.
"""

from __future__ import annotations

import asyncio
import base64
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared import merkle
from shared import tree_head as heads
from voting_service.models import InclusionProof, ReceiptTreeHead
from voting_service.repos import proofs as repo

HEAD_FIELDS = ("campaign_id", "tree_size", "root_hash", "digest", "signature", "key_id", "public_key")


@dataclass(frozen=True)
class SignedTree:
    head: dict[str, Any]  # HEAD_FIELDS, as GET /api/v1/campaigns/{id}/tree-head answers them
    invalidated_votes: int
    tile_height: int
    upper: list[list[bytes]]  # levels tile_height, tile_height + 1, ... of the tree
    receipt_head: ReceiptTreeHead  # what a receipt's answer carries (the head without the campaign id), built once


class TreeHeads:
    """Signed trees by campaign, loaded at first use and kept (at most ``keep`` campaigns: a 5 M-vote campaign's
    upper levels are ~5 MB). A campaign without a head (not finalised, or finalised before the RFC 9162 scheme)
    is read again next time: it may be finalised meanwhile."""

    def __init__(self, pool: asyncpg.Pool, *, keep: int = 8) -> None:
        self._pool = pool
        self._keep = keep
        self._trees: OrderedDict[int, SignedTree] = OrderedDict()
        self._loading: dict[int, asyncio.Future[SignedTree | None]] = {}

    async def get(self, campaign_id: int) -> SignedTree | None:
        tree = self._trees.get(campaign_id)
        if tree is not None:
            self._trees.move_to_end(campaign_id)
            return tree
        pending = self._loading.get(campaign_id)
        if pending is not None:  # one read of the levels however many lookups arrive at once
            return await asyncio.shield(pending)
        future: asyncio.Future[SignedTree | None] = asyncio.get_running_loop().create_future()
        self._loading[campaign_id] = future
        try:
            tree = await self._load(campaign_id)
            future.set_result(tree)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs "never retrieved"
            raise
        finally:
            del self._loading[campaign_id]
        if tree is not None:
            self._trees[campaign_id] = tree
            while len(self._trees) > self._keep:
                self._trees.popitem(last=False)
        return tree

    async def _load(self, campaign_id: int) -> SignedTree | None:
        async with self._pool.acquire() as conn:
            row = await repo.tree_head(conn, campaign_id=campaign_id)
            if row is None:
                return None
            stored = await repo.levels(conn, campaign_id=campaign_id)
        upper = [merkle.split_hashes(r["hashes"]) for r in stored] or [[]]
        head = {k: row[k] for k in HEAD_FIELDS}
        head["campaign_id"] = str(row["campaign_id"])
        return SignedTree(head=head, invalidated_votes=row["invalidated_votes"], tile_height=row["tile_height"],
                          upper=upper, receipt_head=ReceiptTreeHead(**{k: head[k] for k in HEAD_FIELDS
                                                                       if k != "campaign_id"}))


def proof_in_tile(tree: SignedTree, campaign_id: int, receipt: str, tile: Any) -> InclusionProof | None:
    """``{leaf_index, tree_size, leaf_hash, audit_path, commitment}`` of ``receipt`` from its tile row, or None
    when the tile does not hold it (no leaf: the vote is not counted)."""
    receipts = tile["receipts"].split("\n")
    try:
        local = receipts.index(receipt)
    except ValueError:
        return None
    commitments: bytes = tile["commitments"]

    def leaf_hash(i: int) -> bytes:
        return merkle.leaf_hash(merkle.leaf_bytes(campaign_id, receipts[i], commitments[32 * i:32 * i + 32]))

    own, sibling = leaf_hash(local), (leaf_hash(local ^ 1) if local ^ 1 < len(receipts) else None)
    size = tree.head["tree_size"]
    index = (tile["tile"] << tree.tile_height) + local
    path = merkle.proof_from_stored(index, size, height=tree.tile_height, tile_size=len(receipts),
                                    tile_leaf_hashes=(own, sibling), tile_nodes=tile["nodes"], upper=tree.upper)
    return InclusionProof(leaf_index=index, tree_size=size, leaf_hash=own.hex(), audit_path=[p.hex() for p in path],
                          commitment=commitments[32 * local:32 * local + 32].hex())


@dataclass(frozen=True)
class Check:
    """What the portal shows: each step of the check and whether it held."""
    leaf_matches: bool      # the leaf hash is SHA-256(0x00 || leaf(campaign, receipt, commitment))
    path_leads_to_root: bool
    signature_valid: bool   # Ed25519 over the head, under the head's public key
    key_id_matches: bool    # the key id is the public key's fingerprint

    @property
    def ok(self) -> bool:
        return self.leaf_matches and self.path_leads_to_root and self.signature_valid and self.key_id_matches


def check(receipt: dict[str, Any]) -> Check | None:
    """Verify a receipt answer (``GET /api/v1/receipts/{r}``) that carries a proof; None when it has none."""
    proof, head = receipt.get("proof"), receipt.get("tree_head")
    if not proof or not head:
        return None
    try:
        leaf = merkle.leaf_bytes(receipt["campaign_id"], receipt["receipt"], bytes.fromhex(proof["commitment"]))
        leaf_hash = merkle.leaf_hash(leaf)
        path = [bytes.fromhex(p) for p in proof["audit_path"]]
        public = base64.b64decode(head["public_key"], validate=True)
        signed = {**head, "campaign_id": receipt["campaign_id"]}
        return Check(
            leaf_matches=leaf_hash.hex() == proof["leaf_hash"],
            path_leads_to_root=(proof["tree_size"] == head["tree_size"] and merkle.verify_inclusion(
                proof["leaf_index"], proof["tree_size"], leaf_hash, path, bytes.fromhex(head["root_hash"]))),
            signature_valid=heads.verify(signed, public),
            key_id_matches=heads.key_id(public) == head["key_id"])
    except (KeyError, TypeError, ValueError):
        return Check(False, False, False, False)


class ReceiptReads:
    """The receipt rows (status and leaf tile, ``repos/proofs.py``) of the concurrent lookups of a process, read
    together: whatever has queued since the last query goes out in one query (up to ``max_batch`` receipts,
    at most ``max_inflight`` queries at once). Under load the batches grow, and the per-query costs (a pooled
    connection, a round trip, Postgres' executor start) are paid once per batch, not once per lookup; a lone
    lookup is a batch of one. An error of the query (Postgres down, a timeout) is every caller's error."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 64, max_inflight: int = 2) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._queue: list[tuple[int, str, asyncio.Future[Any]]] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, campaign_id: int, receipt: str) -> Any:
        """The row of ``receipt`` (``invalidated, tile, receipts, commitments, nodes``), None when no vote has it."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((campaign_id, receipt, fut))
        if self._inflight < self._max_inflight:
            self._kick()
        return await fut

    def _kick(self) -> None:
        while self._queue and self._inflight < self._max_inflight:
            batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
            self._inflight += 1
            task = asyncio.get_running_loop().create_task(self._read(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _read(self, batch: list[tuple[int, str, asyncio.Future[Any]]]) -> None:
        try:
            async with self._pool.acquire() as conn:
                rows = await repo.receipts(conn, campaign_ids=[c for c, _, _ in batch],
                                           vote_ids=[r for _, r, _ in batch])
        except BaseException as exc:  # every caller gets the error (a 503 by the app's handlers), none hangs
            for _, _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            found = {(r["campaign_id"], r["vote_id"]): r for r in rows}
            for campaign_id, receipt, fut in batch:
                if not fut.done():
                    fut.set_result(found.get((campaign_id, receipt)))
        finally:
            self._inflight -= 1
            self._kick()
