"""The verifiable result at finalisation: the RFC 9162 tree over the counted votes, stored for O(log n) proofs,
and its tree head signed with the admin service's Ed25519 key (``TREE_HEAD_SIGNING_KEY``, docs/keys.md).

``build_tree`` runs inside the finalisation's transaction: it makes the campaign's commitment secret (32 random
bytes, stored in ``campaign_commitment_keys``, which only the admin service may read), streams the counted votes
in byte order of the receipt from a server-side cursor, and writes the tiles and the upper levels
(shared/merkle.py) with COPY as it goes. Memory: one chunk of votes, a batch of tiles and one node per tile.

``check_result`` recomputes everything from the votes table and the stored rows (the admin service's own audit
of a finalised campaign: ``python -m admin_service verify-result --campaign ID``).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from admin_service.repos import tree as repo
from shared import merkle
from shared import tree_head as heads

TILE_BATCH = 1024  # tiles per COPY (64 Ki leaves, ~7 MB)


class TreeHeadSigner:
    """Signs tree heads (API.md). Holds the private key; ``public_key`` (raw) and ``key_id`` are public."""

    def __init__(self, private_key: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = heads.key_id(self.public_key)

    def __repr__(self) -> str:
        return f"TreeHeadSigner(key_id={self.key_id})"

    def sign(self, *, campaign_id: int | str, tree_size: int, root_hash: str, digest: str) -> dict[str, Any]:
        message = heads.signed_bytes(campaign_id=campaign_id, tree_size=tree_size, root_hash=root_hash,
                                     digest=digest)
        return {"campaign_id": str(campaign_id), "tree_size": tree_size, "root_hash": root_hash, "digest": digest,
                "signature": base64.b64encode(self._key.sign(message)).decode("ascii"), "key_id": self.key_id,
                "public_key": base64.b64encode(self.public_key).decode("ascii")}


@dataclass(frozen=True)
class BuiltTree:
    size: int
    root_hash: str
    tile_height: int


def _tile_row(campaign_id: int, tile: merkle.Tile) -> tuple[Any, ...]:
    return (campaign_id, tile.index, tile.receipts[0], "\n".join(tile.receipts), tile.commitments, tile.nodes)


async def build_tree(conn: asyncpg.Connection, *, campaign_id: int,
                     tile_height: int = merkle.TILE_HEIGHT) -> BuiltTree:
    secret = os.urandom(32)
    await repo.insert_secret(conn, campaign_id=campaign_id, secret=secret)
    commit = merkle.committer(secret)
    builder = merkle.TreeBuilder(campaign_id, height=tile_height)
    pending: list[tuple[Any, ...]] = []
    async for chunk in repo.iter_counted_votes(conn, campaign_id=campaign_id):
        receipts = [r[0] for r in chunk]
        tiles = builder.add_many(receipts, [commit(v, c) for v, c in chunk])
        pending.extend(_tile_row(campaign_id, t) for t in tiles)
        if len(pending) >= TILE_BATCH:
            await repo.copy_tiles(conn, pending)
            pending = []
    last, upper = builder.finish()
    if last is not None:
        pending.append(_tile_row(campaign_id, last))
    await repo.copy_tiles(conn, pending)
    await repo.copy_levels(conn, [(campaign_id, tile_height + k, b"".join(level))
                                  for k, level in enumerate(upper) if level])
    return BuiltTree(size=builder.size, root_hash=merkle.root_of(upper).hex(), tile_height=tile_height)


async def sign_and_store(conn: asyncpg.Connection, signer: TreeHeadSigner, *, campaign_id: int, tree: BuiltTree,
                         digest: str, invalidated_votes: int) -> dict[str, Any]:
    head = signer.sign(campaign_id=campaign_id, tree_size=tree.size, root_hash=tree.root_hash, digest=digest)
    await repo.insert_head(conn, campaign_id=campaign_id, tree_size=tree.size, root_hash=tree.root_hash,
                           digest=digest, signature=head["signature"], key_id=head["key_id"],
                           public_key=head["public_key"], invalidated_votes=invalidated_votes,
                           tile_height=tree.tile_height)
    return head


async def check_result(conn: asyncpg.Connection, *, campaign_id: int, digest: str) -> list[str]:
    """Every way the stored result disagrees with itself or with the votes table; ``[]`` when it holds. ``digest``
    is the snapshot's digest recomputed from its stored seats and counts (the caller's, who knows the policy)."""
    head = await repo.head(conn, campaign_id=campaign_id)
    if head is None:
        return [f"campaign {campaign_id} has no tree head"]
    problems = []
    if not heads.verify(dict(head), base64.b64decode(head["public_key"])):
        problems.append("the tree head's signature does not verify under its public key")
    if heads.key_id(base64.b64decode(head["public_key"])) != head["key_id"]:
        problems.append("the tree head's key id is not its public key's")
    if head["digest"] != digest:
        problems.append(f"the snapshot's digest {digest} is not the signed one {head['digest']}")
    secret = await repo.secret(conn, campaign_id=campaign_id)
    commit = merkle.committer(secret or b"")
    rebuilt = merkle.TreeBuilder(campaign_id, height=head["tile_height"])
    async for chunk in repo.iter_counted_votes(conn, campaign_id=campaign_id):
        rebuilt.add_many([r[0] for r in chunk], [commit(v, c) for v, c in chunk])
    _, upper = rebuilt.finish()
    if rebuilt.size != head["tree_size"] or merkle.root_of(upper).hex() != head["root_hash"]:
        problems.append(f"the counted votes give a tree of {rebuilt.size} leaves with root "
                        f"{merkle.root_of(upper).hex()}, not the signed {head['tree_size']} / {head['root_hash']}")
    stored = merkle.TreeBuilder(campaign_id, height=head["tile_height"])
    async for tile in repo.iter_tiles(conn, campaign_id=campaign_id):
        stored.add_many(tile["receipts"].split("\n"), merkle.split_hashes(tile["commitments"]))
    _, stored_upper = stored.finish()
    if stored.size != head["tree_size"] or merkle.root_of(stored_upper).hex() != head["root_hash"]:
        problems.append("the stored tiles do not give the signed root: proofs served from them would fail")
    levels = {r["level"]: r["hashes"] for r in await repo.levels(conn, campaign_id=campaign_id)}
    want = {head["tile_height"] + k: b"".join(level) for k, level in enumerate(stored_upper) if level}
    if levels != want:
        problems.append("the stored upper levels are not the tiles' levels")
    return problems
