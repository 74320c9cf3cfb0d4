"""tools/verify_receipt.py: its pure-Python Ed25519 verification against RFC 8032's test vectors and against
signatures made by `cryptography`, and its verdicts on saved JSON (a good receipt, and each kind of forgery)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests import rfc9162

TOOL = Path(__file__).resolve().parents[3] / "tools" / "verify_receipt.py"


def _tool():
    spec = importlib.util.spec_from_file_location("verify_receipt_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _tool()

# RFC 8032 section 7.1, TEST 1, 2, 3 and SHA(abc): (secret key, public key, message, signature), hex.
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
     "24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302a"
     "eeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed2"
     "8dc027beceea1ec40a"),
]


@pytest.mark.parametrize("secret, public, message, signature", RFC8032)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == public  # the vector itself
    pub, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert tool.ed25519_verify(pub, msg, sig)
    assert not tool.ed25519_verify(pub, msg + b"x", sig)
    assert not tool.ed25519_verify(pub, msg, sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not tool.ed25519_verify(pub, msg, sig[:5] + bytes([sig[5] ^ 0x40]) + sig[6:])


def test_agrees_with_cryptography_on_random_keys_and_messages() -> None:
    for n in range(25):
        key = Ed25519PrivateKey.generate()
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        msg = os.urandom(n * 7)
        sig = key.sign(msg)
        assert tool.ed25519_verify(pub, msg, sig)
        other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert not tool.ed25519_verify(other, msg, sig)
    # s >= q (malleability) is refused, as RFC 8032 requires
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = key.sign(b"m")
    s = int.from_bytes(sig[32:], "little") + tool.Q
    assert not tool.ed25519_verify(pub, b"m", sig[:32] + s.to_bytes(32, "little"))


@pytest.mark.parametrize("n", range(1, 71))
def test_the_tools_path_check_accepts_exactly_the_rfc_paths(n: int) -> None:
    leaves = [rfc9162.leaf("3", f"3.0.{i}-0.abcdefgh", bytes(32)) for i in range(n)]
    root = rfc9162.mth(leaves)
    for m in range(n):
        lh = hashlib.sha256(b"\x00" + leaves[m]).digest()
        assert tool.root_from_path(m, n, lh, rfc9162.path(m, leaves)) == root
        assert tool.root_from_path(m, n, hashlib.sha256(b"x").digest(), rfc9162.path(m, leaves)) != root


# --- whole verdicts on saved JSON ----------------------------------------------------------------------------


def _saved(tmp_path: Path, n: int = 5, mine: int = 3) -> dict[str, Path]:
    """A finalised campaign of n counted votes as the public site would serve it, written to files."""
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    receipts = [f"9.0.{1000 + i}-0.nonce{i:03d}" for i in range(n)]
    commitments = [hashlib.sha256(r.encode()).digest() for r in receipts]
    leaves = [rfc9162.leaf("9", r, c) for r, c in zip(receipts, commitments)]
    root = rfc9162.mth(leaves).hex()
    snapshot = {"campaign_id": "9", "policy": "top_votes", "seats": [{"candidate_id": "1", "rank": 1}],
                "counts": [{"candidate_id": "1", "valid": n - 2, "invalidated": 1}, {"candidate_id": "2", "valid": 2}]}
    digest = hashlib.sha256(json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    message = json.dumps({"campaign_id": "9", "tree_size": n, "root_hash": root, "digest": digest},
                         sort_keys=True, separators=(",", ":")).encode()
    head = {"tree_size": n, "root_hash": root, "digest": digest, "signature": base64.b64encode(key.sign(message)).decode(),
            "key_id": hashlib.sha256(pub).hexdigest()[:16], "public_key": base64.b64encode(pub).decode()}
    receipt = {"receipt": receipts[mine], "campaign_id": "9", "status": "recorded",
               "proof": {"leaf_index": mine, "tree_size": n, "leaf_hash": hashlib.sha256(b"\x00" + leaves[mine]).hexdigest(),
                         "audit_path": [h.hex() for h in rfc9162.path(mine, leaves)],
                         "commitment": commitments[mine].hex()},
               "tree_head": head}
    files = {"receipt": receipt, "tree_head": {"campaign_id": "9", **head, "invalidated_votes": 1},
             "snapshot": snapshot}
    out = {}
    for name, body in files.items():
        out[name] = tmp_path / f"{name}.json"
        out[name].write_text(json.dumps(body))
    out["public_key"] = head["public_key"]  # type: ignore[assignment]
    return out


def _run(files: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), "--receipt-file", str(files["receipt"]),
                           "--tree-head-file", str(files["tree_head"]), "--snapshot-file", str(files["snapshot"]),
                           *extra], capture_output=True, text=True, timeout=60)


def _edit(path: Path, change) -> None:
    body = json.loads(path.read_text())
    change(body)
    path.write_text(json.dumps(body))


def test_a_good_receipt_verifies_and_exits_0(tmp_path: Path) -> None:
    files = _saved(tmp_path)
    done = _run(files, "--public-key", files["public_key"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout and "signature of the tree head verifies" in done.stdout


@pytest.mark.parametrize("forgery, message", [
    (lambda f: _edit(f["receipt"], lambda b: b["proof"]["audit_path"].__setitem__(0, "00" * 32)), "does not lead"),
    (lambda f: _edit(f["receipt"], lambda b: b.__setitem__("receipt", "9.0.1000-0.nonce999")), "leaf hash"),
    (lambda f: _edit(f["receipt"], lambda b: b["proof"].__setitem__("commitment", "11" * 32)), "leaf hash"),
    (lambda f: [_edit(f[k], lambda b: (b.get("tree_head", b)).__setitem__(
        "signature", base64.b64encode(bytes(64)).decode())) for k in ("receipt", "tree_head")], "signature"),
    (lambda f: _edit(f["snapshot"], lambda b: b["counts"][0].__setitem__("valid", 99)), "digest"),
    (lambda f: _edit(f["tree_head"], lambda b: b.__setitem__("root_hash", "ab" * 32)), "differs"),
    (lambda f: _edit(f["receipt"], lambda b: b.__setitem__("status", "invalidated")), "INVALIDATED"),
])
def test_each_forgery_fails_with_exit_1(tmp_path: Path, forgery, message: str) -> None:
    files = _saved(tmp_path)
    forgery(files)
    done = _run(files)
    assert done.returncode == 1, done.stdout
    assert "FAILED" in done.stdout and message in done.stdout


def test_another_key_than_the_pinned_one_fails(tmp_path: Path) -> None:
    files = _saved(tmp_path)
    other = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw,
                                                                                   PublicFormat.Raw)).decode()
    done = _run(files, "--public-key", other)
    assert done.returncode == 1 and "another key" in done.stdout


def test_the_tool_imports_only_the_standard_library() -> None:
    source = TOOL.read_text()
    imported = {line.split()[1].split(".")[0] for line in source.splitlines()
                if line.startswith(("import ", "from ")) and not line.startswith("from __future__")}
    assert imported <= set(sys.stdlib_module_names), imported
