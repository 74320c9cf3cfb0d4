"""The staff second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s; what every authenticator app speaks) and
one-use recovery codes.

The shared secret is stored encrypted (AES-256-GCM under ``settings.secrets.staff_key``, the user id as
associated data so that a ciphertext copied to another account does not open). A code is accepted within one
time step either side of now, and once only: the caller stores the step it matched and refuses any step not
above the last one. Recovery codes carry 60 random bits each; they are stored as an HMAC under the staff key
(a slow hash adds nothing at that entropy).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ISSUER = "100 New Faces admin"
STEP_S = 30
DIGITS = 6
RECOVERY_CODES = 10
_CODE = re.compile(r"^[0-9]{6}$")
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper and typed back


def new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, the RFC 4226 recommendation


def otpauth_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(name=email, issuer_name=ISSUER)


def looks_like_totp(code: str) -> bool:
    return bool(_CODE.match(code))


def compact(code: str) -> str:
    """Apps show "123 456": spaces typed along are not part of the code."""
    return re.sub(r"[ \t]", "", code.strip())


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step (now-1, now, now+1) whose code is ``code``, or None."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    current = int((time.time() if now is None else now) // STEP_S)
    found = None
    for step in (current - 1, current, current + 1):  # all three compared: no timing hint of which matched
        if hmac.compare_digest(totp.at(step * STEP_S).encode(), code.encode()):
            found = step
    return found


def seal(key: bytes, user_id: int, secret: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode(), f"totp:{user_id}".encode())


def unseal(key: bytes, user_id: int, blob: bytes) -> str | None:
    try:
        return AESGCM(key).decrypt(bytes(blob[:12]), bytes(blob[12:]), f"totp:{user_id}".encode()).decode()
    except (InvalidTag, ValueError):
        return None


def new_recovery_codes() -> list[str]:
    def one() -> str:
        chars = "".join(secrets.choice(_ALPHABET) for _ in range(12))  # 12 x log2(31) = 59.4 bits
        return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"
    return [one() for _ in range(RECOVERY_CODES)]


def normalise_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def recovery_hash(key: bytes, user_id: int, code: str) -> str:
    return hmac.new(key, f"recovery:{user_id}:{normalise_recovery(code)}".encode(), hashlib.sha256).hexdigest()
