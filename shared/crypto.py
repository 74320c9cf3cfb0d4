"""Pseudonyms (keyed HMAC), encryption at rest (AES-GCM) and voter tokens (HMAC-signed, verified without I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """A stable, non-reversible identifier for a personal identifier (phone, IIN).

    96 bits of HMAC-SHA256: collisions are negligible for tens of millions of voters and the
    16-character form keeps per-voter state in Redis small.
    """
    mac = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return b64u(mac[:12])


class Sealer:
    """AES-256-GCM for contact details staff must read back. Output: 12-byte nonce || ciphertext+tag."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, *, context: bytes = b"") -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)


class VoterClaims(msgspec.Struct, frozen=True, array_like=True):
    voter: str
    exp: int


_claims_encoder = msgspec.msgpack.Encoder()
_claims_decoder = msgspec.msgpack.Decoder(VoterClaims)


class VoterTokens:
    """``<payload>.<mac>``: payload is msgpack [voter, exp], MAC is HMAC-SHA256 truncated to 128 bits."""

    def __init__(self, key: bytes, ttl_s: int) -> None:
        self._key = key
        self.ttl_s = ttl_s

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def issue(self, voter: str, *, now: float | None = None) -> tuple[str, int]:
        exp = int(now if now is not None else time.time()) + self.ttl_s
        payload = _claims_encoder.encode(VoterClaims(voter, exp))
        return f"{b64u(payload)}.{b64u(self._mac(payload))}", exp

    def verify(self, token: str, *, now: float | None = None) -> str | None:
        """The voter pseudonym, or None for anything forged, malformed or expired."""
        if not token or len(token) > 256 or token.count(".") != 1:
            return None
        p64, m64 = token.split(".")
        try:
            payload, mac = unb64u(p64), unb64u(m64)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        # One token, one spelling: base64 decoding ignores the unused low bits of the last character (and
        # stray characters), so other strings can decode to the same bytes. Only the canonical form passes.
        if b64u(payload) != p64 or b64u(mac) != m64:
            return None
        try:
            claims = _claims_decoder.decode(payload)
        except msgspec.DecodeError:
            return None
        if claims.exp <= (now if now is not None else time.time()):
            return None
        return claims.voter
