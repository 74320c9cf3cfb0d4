#!/usr/bin/env python3
"""Check that a vote was counted in a finalised "100 New Faces" result, with nothing but Python 3.9+.

    python3 verify_receipt.py RECEIPT --url https://SITE            (asks the public site)
    python3 verify_receipt.py --receipt-file r.json [--tree-head-file th.json] [--snapshot-file s.json]
    add --public-key BASE64 to pin the signing key published elsewhere (recommended)

Checks, in order (docs/verify.md explains each): the leaf hash is SHA-256(0x00 || leaf) of the documented leaf
"faces-leaf-v1" 0x00 campaign 0x00 receipt 0x00 commitment; the RFC 9162 audit path leads from it to the tree
head's root for the tree size; the tree head is the campaign's published one; its Ed25519 signature (RFC 8032,
verified by the pure-Python code below) holds under the public key, whose SHA-256 starts with the key id; and,
given the snapshot, the signed digest is SHA-256 of the snapshot's canonical JSON and its valid votes add up to
the tree size. Exit status 0 when everything holds, 1 when anything fails (the message says what), 2 on usage.
Standard library only: copy this one file anywhere.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

# --- Ed25519 verification: RFC 8032 section 6 (the reference code), verification only ----------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c, dd = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    e, f, g, h = y - x, dd - c, dd + c, y + x
    return (e * f, g * h, f * g, e * h)


def _mul(s, pt):
    acc = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        s >>= 1
    return acc


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    return P - x if (x & 1) != sign else x


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return _equal(_mul(s, G), _add(r, _mul(h, a)))


# --- RFC 9162 inclusion proof (section 2.1.3.2) -------------------------------------------------------------


def leaf_hash(campaign_id: str, receipt: str, commitment: bytes) -> bytes:
    leaf = b"faces-leaf-v1\x00" + campaign_id.encode("ascii") + b"\x00" + receipt.encode("ascii") + b"\x00" + commitment
    return hashlib.sha256(b"\x00" + leaf).digest()


def root_from_path(index: int, size: int, leaf: bytes, path: list) -> bytes | None:
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def signed_bytes(campaign_id: str, tree_size: int, root_hash: str, digest: str) -> bytes:
    body = {"campaign_id": str(campaign_id), "tree_size": int(tree_size), "root_hash": root_hash, "digest": digest}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


# --- the check ----------------------------------------------------------------------------------------------


class Failed(Exception):
    pass


def _get(url: str) -> dict:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}),
                                    timeout=30) as answer:
            return json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read().decode("utf-8")).get("detail", "")
        except ValueError:
            detail = ""
        raise Failed(f"{url} answered {exc.code} {detail}".rstrip()) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Failed(f"could not read {url}: {exc}") from None


def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise Failed(f"could not read {path}: {exc}") from None


def check(receipt: dict, tree_head: dict | None, snapshot: dict | None, pinned_key: bytes | None, say) -> None:
    rid, cid, status = receipt.get("receipt"), str(receipt.get("campaign_id")), receipt.get("status")
    if status == "invalidated":
        raise Failed(f"receipt {rid}: the vote was INVALIDATED under the rules; it is not counted (no proof)")
    proof, head = receipt.get("proof"), receipt.get("tree_head")
    if not proof or not head:
        raise Failed(f"receipt {rid}: status {status!r} and no proof: the campaign is not finalised yet "
                     "(or was finalised before proofs existed)")
    try:
        commitment = bytes.fromhex(proof["commitment"])
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
        root = bytes.fromhex(head["root_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Failed(f"the receipt's proof is malformed: {exc!r}") from None
    mine = leaf_hash(cid, rid, commitment)
    if mine.hex() != proof.get("leaf_hash"):
        raise Failed("the leaf hash in the proof is not the hash of this receipt's leaf")
    say(f"ok   leaf {index} of {size}: SHA-256(0x00 || leaf) = {mine.hex()}")
    if size != head.get("tree_size") or root_from_path(index, size, mine, path) != root:
        raise Failed(f"the audit path ({len(path)} hashes) does not lead to the root {head.get('root_hash')} "
                     f"of the tree of {head.get('tree_size')} leaves: the vote is NOT shown to be counted")
    say(f"ok   audit path of {len(path)} hashes leads to root {root.hex()} (RFC 9162)")
    if tree_head is not None:
        for k in ("tree_size", "root_hash", "digest", "signature", "key_id", "public_key"):
            if tree_head.get(k) != head.get(k):
                raise Failed(f"the receipt's tree head differs from the published one in {k!r}")
        if str(tree_head.get("campaign_id")) != cid:
            raise Failed("the published tree head is another campaign's")
        say("ok   the receipt's tree head is the campaign's published tree head")
    try:
        public = base64.b64decode(head["public_key"], validate=True)
        signature = base64.b64decode(head["signature"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise Failed(f"the tree head's key or signature is not base64: {exc!r}") from None
    if pinned_key is not None and public != pinned_key:
        raise Failed("the tree head is signed with another key than the one given with --public-key")
    if hashlib.sha256(public).hexdigest()[:16] != head.get("key_id"):
        raise Failed(f"key id {head.get('key_id')} is not the fingerprint of the public key")
    if not ed25519_verify(public, signed_bytes(cid, size, head["root_hash"], head.get("digest", "")), signature):
        raise Failed("the tree head's Ed25519 signature does NOT verify: it was not signed with this key")
    say(f"ok   Ed25519 signature of the tree head verifies under key {head['key_id']}"
        + ("" if pinned_key else " (the key the site serves: pin it with --public-key)"))
    if snapshot is not None:
        body = {k: snapshot.get(k) for k in ("campaign_id", "policy", "seats", "counts")}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
        if hashlib.sha256(canonical).hexdigest() != head.get("digest"):
            raise Failed("the published result (snapshot) does not hash to the signed digest: it was changed")
        valid = sum(int(c.get("valid", 0)) for c in snapshot.get("counts") or [])
        if valid != size:
            raise Failed(f"the result counts {valid} valid votes but the signed tree has {size} leaves")
        say(f"ok   the published result hashes to the signed digest and its {valid} valid votes are the tree's")


def main(argv: list | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("receipt", nargs="?", help="the receipt, as shown after voting")
    ap.add_argument("--url", help="the public site, e.g. https://100faces.kz")
    ap.add_argument("--receipt-file", help="saved answer of GET /api/v1/receipts/RECEIPT")
    ap.add_argument("--tree-head-file", help="saved answer of GET /api/v1/campaigns/ID/tree-head")
    ap.add_argument("--snapshot-file", help="saved answer of GET /api/v1/campaigns/ID/snapshot")
    ap.add_argument("--public-key", help="the signing key published independently (base64 of 32 bytes)")
    ap.add_argument("--quiet", action="store_true", help="print only the verdict")
    o = ap.parse_args(argv)
    if not o.receipt_file and not (o.receipt and o.url):
        ap.error("give a RECEIPT with --url, or --receipt-file")
    say = (lambda _m: None) if o.quiet else (lambda m: print(m))
    try:
        pinned = base64.b64decode(o.public_key, validate=True) if o.public_key else None
    except ValueError:
        ap.error("--public-key is not base64")
    try:
        base = (o.url or "").rstrip("/")
        if o.receipt_file:
            receipt = _load(o.receipt_file)
        else:
            receipt = _get(f"{base}/api/v1/receipts/{urllib.parse.quote(o.receipt, safe='')}")
        cid = urllib.parse.quote(str(receipt.get("campaign_id", "")), safe="")
        tree_head = _load(o.tree_head_file) if o.tree_head_file else None
        snapshot = _load(o.snapshot_file) if o.snapshot_file else None
        if base and receipt.get("proof"):
            tree_head = tree_head or _get(f"{base}/api/v1/campaigns/{cid}/tree-head")
            snapshot = snapshot or _get(f"{base}/api/v1/campaigns/{cid}/snapshot")
        check(receipt, tree_head, snapshot, pinned, say)
    except Failed as exc:
        print(f"FAILED: {exc}")
        return 1
    print(f"VERIFIED: receipt {receipt.get('receipt')} is counted in the signed result of campaign "
          f"{receipt.get('campaign_id')}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
