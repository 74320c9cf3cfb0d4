"""Pseudonyms (keyed HMAC), voter tokens (HMAC-signed, verified without I/O) and sealed contact details
(HPKE, RFC 9180: X25519, HKDF-SHA256, AES-256-GCM).

Keys that rotate carry an id, and a ring holds the current key and the previous one: new tokens and sealed
values use the current key, and both are accepted while the old ones are still about (docs/keys.md).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Iterable

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# What a sealed value is bound to: one written for a nomination never opens as a candidate's, and back.
NOMINATION_CONTACT = b"nomination-contact"   # sealed by the voting service, opened by the admin service
CANDIDATE_CONTACT = b"candidate-contact"     # sealed and opened by the admin service

KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derived_key_id(key: bytes) -> str:
    """The id of a key given without one: a fingerprint (not secret, 24 bits: ids only tell keys apart)."""
    return b64u(hashlib.sha256(b"key-id:" + key).digest()[:3])


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """A stable, non-reversible identifier for a personal identifier (phone, IIN).

    96 bits of HMAC-SHA256: collisions are negligible for tens of millions of voters and the
    16-character form keeps per-voter state in Redis small.
    """
    mac = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return b64u(mac[:12])


@functools.cache
def subkey(key: bytes, label: str) -> bytes:
    """A 32-byte key for one purpose (``label``) derived from ``key`` with HKDF-SHA256: a key is never used raw
    for a second job, and what one sub-key signs or seals means nothing under another."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(key)


class KeyRing(msgspec.Struct, frozen=True):
    """Symmetric keys by id: the first is current (signs), every one verifies (two during a rotation)."""

    keys: tuple[tuple[str, bytes], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a key ring needs at least one key")
        ids = [kid for kid, _ in self.keys]
        if len(set(ids)) != len(ids) or not all(KEY_ID.match(kid) for kid in ids):
            raise ValueError("key ids must be distinct and 1-16 characters of [A-Za-z0-9_-]")

    @classmethod
    def of(cls, *keys: bytes) -> KeyRing:
        return cls(tuple((derived_key_id(k), k) for k in keys))

    @property
    def current(self) -> tuple[str, bytes]:
        return self.keys[0]

    def get(self, kid: str) -> bytes | None:
        for k, key in self.keys:
            if k == kid:
                return key
        return None

    def __repr__(self) -> str:
        return f"KeyRing(ids={[kid for kid, _ in self.keys]})"


# ------------------------------------------------------------------------------------------- voter tokens

class VoterClaims(msgspec.Struct, frozen=True, array_like=True):
    voter: str
    exp: int
    iat: int  # when the voter signed in: a recent sign-in is needed to list one's choices
    # Fraud signals fixed at sign-in (shared/fraud_signals.py), carried so the vote never needs the phone: the
    # operator code ('701'), the keyed hash of the number's block of 100, the longest run of sequential numbers
    # signed in from that block in the sliding window. Tokens issued without them decode with the defaults.
    op: str = ""
    blk: str = ""
    seq: int = 0


_claims_encoder = msgspec.msgpack.Encoder()
_claims_decoder = msgspec.msgpack.Decoder(VoterClaims)


class VoterTokens:
    """``<kid>.<payload>.<mac>``: payload is msgpack [voter, exp, iat, op, blk, seq]; the MAC is HMAC-SHA256, truncated to
    128 bits, of ``<kid>.`` and the payload under the key ``kid`` names."""

    def __init__(self, keys: KeyRing | bytes, ttl_s: int) -> None:
        self._ring = keys if isinstance(keys, KeyRing) else KeyRing.of(keys)
        self._keys = dict(self._ring.keys)
        self.ttl_s = ttl_s

    def _mac(self, key: bytes, kid: str, payload: bytes) -> bytes:
        return hmac.new(key, kid.encode() + b"." + payload, hashlib.sha256).digest()[:16]

    def issue(self, voter: str, *, now: float | None = None, op: str = "", blk: str = "",
              seq: int = 0) -> tuple[str, int]:
        iat = int(now if now is not None else time.time())
        exp = iat + self.ttl_s
        kid, key = self._ring.current
        payload = _claims_encoder.encode(VoterClaims(voter, exp, iat, op, blk, seq))
        return f"{kid}.{b64u(payload)}.{b64u(self._mac(key, kid, payload))}", exp

    def claims(self, token: str, *, now: float | None = None) -> VoterClaims | None:
        """The token's claims, or None for anything forged, malformed, expired or under an unknown key."""
        if not token or len(token) > 256 or token.count(".") != 2:
            return None
        kid, p64, m64 = token.split(".")
        key = self._keys.get(kid)
        if key is None:
            return None
        try:
            payload, mac = unb64u(p64), unb64u(m64)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(key, kid, payload)):
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
        return claims

    def verify(self, token: str, *, now: float | None = None) -> str | None:
        """The voter pseudonym, or None for anything forged, malformed or expired."""
        claims = self.claims(token, now=now)
        return claims.voter if claims is not None else None


# ------------------------------------------------------------------------------------- sealed contacts

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_FORMAT = b"\x01"  # version byte, then the 4-byte id of the recipient key, then the HPKE ciphertext


class SealedDataError(ValueError):
    """A sealed value that cannot be opened: no key with its id, or tampered, or sealed for another use."""


def public_key_bytes(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def contact_key_id(public_raw: bytes) -> bytes:
    return hashlib.sha256(b"contact-key:" + public_raw).digest()[:4]


def new_contact_keypair() -> tuple[bytes, bytes]:
    """(private, public), raw 32 bytes each: CONTACT_PRIVATE_KEY for the admin service, CONTACT_PUBLIC_KEY
    for the voting service."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return raw, public_key_bytes(private.public_key())


class ContactSealer:
    """Seals with a public key: whoever holds only this (the public service) cannot open what it wrote."""

    def __init__(self, public_key: bytes) -> None:
        self._public = X25519PublicKey.from_public_bytes(public_key)
        self.key_id = contact_key_id(public_key)

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        return _FORMAT + self.key_id + _SUITE.encrypt(plaintext, self._public, info=context)


class ContactOpener(ContactSealer):
    """The private keys (current first, then any previous one during a rotation): opens what was sealed to
    either, and seals to the current one."""

    def __init__(self, private_keys: Iterable[bytes]) -> None:
        self._private: dict[bytes, X25519PrivateKey] = {}
        current: bytes | None = None
        for raw in private_keys:
            key = X25519PrivateKey.from_private_bytes(raw)
            public = public_key_bytes(key.public_key())
            self._private[contact_key_id(public)] = key
            current = current or public
        if current is None:
            raise ValueError("no contact private key")
        super().__init__(current)

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        if len(sealed) < 5 or sealed[:1] != _FORMAT:
            raise SealedDataError("not a sealed value of a known format")
        key = self._private.get(bytes(sealed[1:5]))
        if key is None:
            raise SealedDataError("sealed to a key this service does not hold (rotated out?)")
        try:
            return _SUITE.decrypt(bytes(sealed[5:]), key, info=context)
        except InvalidTag as exc:
            raise SealedDataError("tampered, or sealed for another use") from exc


def contact_public_key(private_key: bytes) -> bytes:
    """The public half (CONTACT_PUBLIC_KEY) of a raw X25519 private key (CONTACT_PRIVATE_KEY)."""
    return public_key_bytes(X25519PrivateKey.from_private_bytes(private_key).public_key())
