"""The signed tree head of a finalised campaign (API.md): its exact signed bytes, key ids, verification.

``signature`` = Ed25519 (RFC 8032) over the UTF-8 bytes of
``json.dumps({"campaign_id", "tree_size", "root_hash", "digest"}, sort_keys=True, separators=(",", ":"))``
(hashes lower-case hex, ``campaign_id`` a string, ``tree_size`` an integer), base64 (standard alphabet, padded);
``public_key`` = the raw 32-byte key, base64; ``key_id`` = the first 16 hex digits of SHA-256(raw public key),
so a key id names exactly one key. Only the admin service holds the private key (``TREE_HEAD_SIGNING_KEY``);
everyone else, the voting service included, can only verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNED_FIELDS = ("campaign_id", "tree_size", "root_hash", "digest")


def signed_bytes(*, campaign_id: int | str, tree_size: int, root_hash: str, digest: str) -> bytes:
    body = {"campaign_id": str(campaign_id), "tree_size": int(tree_size), "root_hash": root_hash, "digest": digest}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def verify(head: Mapping[str, Any], public_key: bytes) -> bool:
    """Is ``head["signature"]`` the signature of ``head``'s four signed fields under ``public_key`` (raw)?"""
    try:
        sig = base64.b64decode(head["signature"], validate=True)
        message = signed_bytes(**{k: head[k] for k in SIGNED_FIELDS})
        Ed25519PublicKey.from_public_bytes(public_key).verify(sig, message)
    except (InvalidSignature, KeyError, TypeError, ValueError, binascii.Error):
        return False
    return True
