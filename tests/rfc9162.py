"""An independent RFC 9162 reference for the tests, written from the RFC's text (section 2.1.1 MTH, 2.1.3.1 PATH),
straightforward and recursive, sharing nothing with shared/merkle.py but hashlib."""

from __future__ import annotations

import hashlib


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = largest_power_of_two_below(n)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def leaf(campaign_id: str, receipt: str, commitment: bytes) -> bytes:
    """The leaf encoding as docs/verify.md writes it."""
    return b"faces-leaf-v1\x00" + campaign_id.encode() + b"\x00" + receipt.encode() + b"\x00" + commitment
