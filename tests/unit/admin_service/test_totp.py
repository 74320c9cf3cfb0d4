"""The TOTP factor's pure parts: RFC 6238 vectors, the ±1 step window, sealing, recovery codes."""

from __future__ import annotations

import base64
import os

import pyotp

from admin_service.auth import totp


def test_rfc6238_sha1_vectors():
    # RFC 6238 appendix B (SHA-1 seed "12345678901234567890"), last 6 digits of the 8-digit values.
    secret = base64.b32encode(b"12345678901234567890").decode()
    for t, expected in ((59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")):
        assert totp.matching_step(secret, expected, now=t) == t // 30


def test_one_step_either_side_and_no_further():
    secret = totp.new_secret()
    gen = pyotp.TOTP(secret)
    now = 1_800_000_015.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, gen.at((step + offset) * 30), now=now) == step + offset
    for offset in (-3, -2, 2, 3):
        code = gen.at((step + offset) * 30)
        if code not in {gen.at((step + o) * 30) for o in (-1, 0, 1)}:  # a 1e-6 coincidence is not a failure
            assert totp.matching_step(secret, code, now=now) is None


def test_only_six_ascii_digits_are_codes():
    secret = totp.new_secret()
    for junk in ("", "12345", "1234567", "12a456", "١٢٣٤٥٦", "123 456", "\u202e123456"):
        assert totp.matching_step(secret, junk) is None


def test_secret_is_sealed_to_the_key_and_the_user():
    key = os.urandom(32)
    secret = totp.new_secret()
    blob = totp.seal(key, 7, secret)
    assert secret.encode() not in blob and len(secret) == 32
    assert totp.unseal(key, 7, blob) == secret
    assert totp.unseal(key, 8, blob) is None           # copied to another account: does not open
    assert totp.unseal(os.urandom(32), 7, blob) is None
    assert totp.unseal(key, 7, blob[:-1] + bytes([blob[-1] ^ 1])) is None


def test_recovery_codes_are_distinct_and_hashed_with_the_key():
    key = os.urandom(32)
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 14 and c.count("-") == 2 for c in codes)
    h = totp.recovery_hash(key, 1, codes[0])
    assert h == totp.recovery_hash(key, 1, codes[0].upper().replace("-", " "))  # typed back loosely
    assert h != totp.recovery_hash(key, 2, codes[0]) and h != totp.recovery_hash(os.urandom(32), 1, codes[0])
    assert codes[0] not in h


def test_otpauth_uri_names_the_issuer_and_account():
    uri = totp.otpauth_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "aigerim@100faces.kz")
    assert uri.startswith("otpauth://totp/") and "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri and "issuer=100%20New" in uri
