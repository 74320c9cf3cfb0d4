"""``python -m shared.keygen``: fresh keys for a deployment, as ``NAME=value`` lines for a ``.env`` file.

Which process gets which key is in docs/keys.md: the voting service VOTER_TOKEN_KEY, PSEUDONYM_KEY and
CONTACT_PUBLIC_KEY; the admin service CONTACT_PRIVATE_KEY, STAFF_KEY and TREE_HEAD_SIGNING_KEY (Ed25519,
signs the tree heads of finalised results); the flusher none. Keys get ids from
``--id`` (e.g. a date) so that a later rotation can name the old and the new one.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys

from shared.crypto import KEY_ID, new_contact_keypair


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def generate(key_id: str = "") -> dict[str, str]:
    prefix = f"{key_id}:" if key_id else ""
    private, public = new_contact_keypair()
    return {
        "VOTER_TOKEN_KEY": prefix + _b64(secrets.token_bytes(32)),
        "PSEUDONYM_KEY": _b64(secrets.token_bytes(32)),   # never rotated: it is the voters' identity
        "CONTACT_PUBLIC_KEY": _b64(public),
        "CONTACT_PRIVATE_KEY": _b64(private),
        "STAFF_KEY": _b64(secrets.token_bytes(32)),
        "TREE_HEAD_SIGNING_KEY": _b64(secrets.token_bytes(32)),  # an Ed25519 private key is any 32 bytes
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.keygen", description=__doc__.splitlines()[0])
    parser.add_argument("--id", default="", help="key id for VOTER_TOKEN_KEY (1-16 of [A-Za-z0-9_-])")
    args = parser.parse_args(argv)
    if args.id and not KEY_ID.match(args.id):
        parser.error("--id must be 1-16 characters of [A-Za-z0-9_-]")
    for name, value in generate(args.id).items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
