"""The portal's personal state, all of it in the visitor's browser: the voter cookie (the same voter token as
``POST /api/v1/auth/otp/verify`` returns), and three small sealed cookies — the sign-in in progress (which phone
the code went to), the outcome of the last action (shown once, then cleared) and the receipts of this browser's
last votes.

Every cookie is HttpOnly, SameSite=Strict, path ``/``, Secure and ``__Host-`` prefixed except in plain-http
development (shared/cookies.py). The sealed ones are AES-256-GCM under a sub-key of the service's pseudonym key
(``shared.crypto.subkey``), bound to the cookie's name: unreadable and unforgeable in the browser, and one
cookie's content never opens as another's. Nothing personal is kept on the server by the portal.
"""

from __future__ import annotations

import os
import time
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from shared import cookies
from shared.crypto import VoterClaims, b64u, subkey, unb64u
from voting_service.state import Services

VOTER = "faces_voter"          # the voter token; Max-Age = the token's life
SIGNIN = "faces_signin"        # sealed {phone, sent_at, resend_at, expires_at, next}: between phone and code pages
NOTICE = "faces_notice"        # sealed outcome of the last action (a vote, a sign-in), shown once
RECEIPTS = "faces_receipts"    # sealed {voter, receipts: [[campaign_id, receipt], ...]}, this browser's last votes

RECEIPTS_KEPT = 12
RECEIPTS_MAX_AGE_S = 30 * 24 * 3600
NOTICE_MAX_AGE_S = 120
_SEAL_LABEL = "faces portal cookie v1"
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


def _aead(services: Services) -> AESGCM:
    return AESGCM(subkey(services.settings.secrets.pseudonym_key, _SEAL_LABEL))  # type: ignore[attr-defined]


def seal(services: Services, name: str, data: Any, *, now: float | None = None) -> str:
    nonce = os.urandom(12)
    payload = _encode({"t": int(now if now is not None else time.time()), "d": data})
    return b64u(nonce + _aead(services).encrypt(nonce, payload, name.encode()))


def unseal(services: Services, name: str, text: str, *, max_age_s: int, now: float | None = None) -> Any:
    """The sealed value, or None when missing, tampered with, sealed under another name or older than allowed."""
    if not text or len(text) > 4096:
        return None
    try:
        raw = unb64u(text)
        box = _decode(_aead(services).decrypt(raw[:12], raw[12:], name.encode()))
    except (ValueError, InvalidTag, msgspec.DecodeError):
        return None
    if not isinstance(box, dict) or not isinstance(box.get("t"), int):
        return None
    if box["t"] + max_age_s < (now if now is not None else time.time()):
        return None
    return box.get("d")


def cookie(connection: ASGIConnection, services: Services, name: str, value: str, *,
           max_age: int | None) -> Cookie:
    return cookies.strict_cookie(connection, services.settings, name, value, max_age=max_age)


def clear(connection: ASGIConnection, services: Services, name: str) -> Cookie:
    return cookie(connection, services, name, "", max_age=0)


def read(connection: ASGIConnection, services: Services, name: str) -> str:
    return connection.cookies.get(cookies.cookie_name(connection, services.settings, name), "")


def read_sealed(connection: ASGIConnection, services: Services, name: str, *, max_age_s: int) -> Any:
    return unseal(services, name, read(connection, services, name), max_age_s=max_age_s)


def sealed_cookie(connection: ASGIConnection, services: Services, name: str, data: Any, *,
                  max_age: int) -> Cookie:
    return cookie(connection, services, name, seal(services, name, data), max_age=max_age)


# --------------------------------------------------------------------------------------------- the voter

def voter_claims(connection: ASGIConnection, services: Services) -> VoterClaims | None:
    """The signed-in voter (a valid, unexpired token in the voter cookie), or None."""
    token = read(connection, services, VOTER)
    return services.tokens.claims(token) if token else None


def voter_cookie(connection: ASGIConnection, services: Services, token: str, expires_at: int) -> Cookie:
    return cookie(connection, services, VOTER, token, max_age=max(1, expires_at - int(time.time())))


def fresh(claims: VoterClaims, services: Services) -> bool:
    """Signed in recently enough to be shown whom one chose (the same rule as GET /my-votes: vote buyers get
    no proof from an old token)."""
    return time.time() - claims.iat <= services.settings.my_votes_fresh_s


# ------------------------------------------------------------------------------------- notices, receipts

def notice_cookie(connection: ASGIConnection, services: Services, notice: dict[str, Any]) -> Cookie:
    return sealed_cookie(connection, services, NOTICE, notice, max_age=NOTICE_MAX_AGE_S)


def take_notice(connection: ASGIConnection, services: Services) -> tuple[dict[str, Any] | None, list[Cookie]]:
    """The pending notice (once: the answer clears the cookie)."""
    if not read(connection, services, NOTICE):
        return None, []
    notice = read_sealed(connection, services, NOTICE, max_age_s=NOTICE_MAX_AGE_S)
    return (notice if isinstance(notice, dict) else None), [clear(connection, services, NOTICE)]


def receipts_of(connection: ASGIConnection, services: Services, voter: str) -> list[tuple[str, str]]:
    """This browser's last receipts of ``voter`` (campaign id, receipt), newest first."""
    kept = read_sealed(connection, services, RECEIPTS, max_age_s=RECEIPTS_MAX_AGE_S)
    if not isinstance(kept, dict) or kept.get("voter") != voter:
        return []
    return [(str(c), str(r)) for c, r in kept.get("receipts", []) if isinstance(r, str)]


def remember_receipt(connection: ASGIConnection, services: Services, voter: str, campaign_id: str,
                     receipt: str) -> Cookie:
    kept = [[campaign_id, receipt], *[[c, r] for c, r in receipts_of(connection, services, voter)]]
    return sealed_cookie(connection, services, RECEIPTS, {"voter": voter, "receipts": kept[:RECEIPTS_KEPT]},
                         max_age=RECEIPTS_MAX_AGE_S)


def sign_out_cookies(connection: ASGIConnection, services: Services) -> list[Cookie]:
    return [clear(connection, services, name) for name in (VOTER, SIGNIN, RECEIPTS)]
