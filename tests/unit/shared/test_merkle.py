"""shared/merkle.py against the recursive RFC 9162 reference of tests/rfc9162.py."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from shared import merkle
from tests import rfc9162


def _leaves(n: int) -> list[tuple[str, bytes]]:
    return [(f"7.0.{1000 + i}-0.nonce{i:04d}", hashlib.sha256(b"c%d" % i).digest()) for i in range(n)]


def _build(n: int, height: int) -> tuple[list[merkle.Tile], list[list[bytes]]]:
    b = merkle.TreeBuilder(7, height=height)
    tiles = [t for r, c in _leaves(n) if (t := b.add(r, c)) is not None]
    last, upper = b.finish()
    if last is not None:
        tiles.append(last)
    return tiles, upper


def _stored_proof(tiles: list[merkle.Tile], upper: list[list[bytes]], m: int, n: int, height: int) -> list[bytes]:
    tile = tiles[m >> height]
    local = m & ((1 << height) - 1)
    sib = local ^ 1
    hashes = [merkle.leaf_hash(merkle.leaf_bytes(7, r, tile.commitments[i * 32:i * 32 + 32]))
              for i, r in enumerate(tile.receipts)]
    return merkle.proof_from_stored(m, n, height=height, tile_size=len(tile.receipts),
                                    tile_leaf_hashes=(hashes[local], hashes[sib] if sib < len(hashes) else None),
                                    tile_nodes=tile.nodes, upper=upper)


def test_leaf_encoding_is_the_documented_one() -> None:
    c = bytes(range(32))
    assert merkle.leaf_bytes(12, "12.3.17-0.abcdefgh", c) == rfc9162.leaf("12", "12.3.17-0.abcdefgh", c)
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_commitment_is_hmac_sha256_of_the_documented_message() -> None:
    secret = os.urandom(32)
    want = hmac.new(secret, b"faces-commitment-v1\x0012.3.17-0.abcdefgh\x0042", hashlib.sha256).digest()
    assert merkle.commitment(secret, "12.3.17-0.abcdefgh", 42) == want
    assert merkle.committer(secret)("12.3.17-0.abcdefgh", "42") == want
    assert merkle.commitment(secret, "12.3.17-0.abcdefgh", 43) != want


@pytest.mark.parametrize("n", range(0, 71))
def test_root_and_every_path_match_the_rfc_for_sizes_0_to_70(n: int) -> None:
    leaves = [merkle.leaf_bytes(7, r, c) for r, c in _leaves(n)]
    levels = merkle.levels_of([merkle.leaf_hash(x) for x in leaves])
    root = merkle.root_of(levels)
    assert root == rfc9162.mth(leaves)
    for m in range(n):
        want = rfc9162.path(m, leaves)
        assert merkle.path_from_levels(levels, m) == want
        assert merkle.verify_inclusion(m, n, merkle.leaf_hash(leaves[m]), want, root)


@pytest.mark.parametrize("height", [0, 1, 2, 3, 6])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 9, 17, 31, 64, 65, 70])
def test_tiles_give_the_rfc_root_and_paths(n: int, height: int) -> None:
    leaves = [merkle.leaf_bytes(7, r, c) for r, c in _leaves(n)]
    tiles, upper = _build(n, height)
    assert merkle.root_of(upper) == rfc9162.mth(leaves)
    assert [len(t.receipts) for t in tiles[:-1]] == [1 << height] * (len(tiles) - 1)
    for m in range(n):
        assert _stored_proof(tiles, upper, m, n, height) == rfc9162.path(m, leaves), m


def test_empty_tree() -> None:
    b = merkle.TreeBuilder(7)
    last, upper = b.finish()
    assert last is None and merkle.root_of(upper) == hashlib.sha256(b"").digest() == rfc9162.mth([])


def test_leaves_out_of_order_are_refused() -> None:
    b = merkle.TreeBuilder(7)
    b.add("7.0.2-0.aaaaaaaa", bytes(32))
    with pytest.raises(ValueError):
        b.add("7.0.10-0.aaaaaaaa", bytes(32))  # "1" < "2" in byte order
    with pytest.raises(ValueError):
        b.add("7.0.2-0.aaaaaaaa", bytes(32))


@pytest.mark.parametrize("n", [1, 2, 7, 16, 33])
def test_a_wrong_proof_does_not_verify(n: int) -> None:
    leaves = [merkle.leaf_bytes(7, r, c) for r, c in _leaves(n)]
    root = rfc9162.mth(leaves)
    for m in range(n):
        lh, p = merkle.leaf_hash(leaves[m]), rfc9162.path(m, leaves)
        assert merkle.verify_inclusion(m, n, lh, p, root)
        assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"other"), p, root)
        assert not merkle.verify_inclusion(n, n, lh, p, root)  # index out of range
        if p:
            assert not merkle.verify_inclusion(m, n, lh, p[:-1], root)
            assert not merkle.verify_inclusion(m, n, lh, [*p[:-1], bytes(32)], root)
            assert not merkle.verify_inclusion(m, n, lh, [*p, bytes(32)], root)
        if n > 1:
            assert not merkle.verify_inclusion((m + 1) % n, n, lh, p, root)
