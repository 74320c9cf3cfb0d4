"""Verification of the hash-chained audit log (migration 0005 defines the chain and its serialisation).

The database computes each entry's hash when the row is inserted; this module recomputes every hash in
Python from the stored fields, independently of the SQL functions, so a replaced trigger or function does
not fool it. Canonical serialisation (must stay byte-identical to audit_log_entry_hash() in
shared/migrations/0005_least_privilege.sql): the token of 'faces-audit-v1', then the tokens of chain_seq, id,
at (microseconds since the Unix epoch), actor_id, actor_email, action, entity_type, entity_id, old_value,
new_value (each jsonb as PostgreSQL's text form), reason, client_ip_hash, prev_hash; a NULL is b"~", any other value is
b"<byte length of its UTF-8>:<its UTF-8>". entry_hash = lowercase hex SHA-256 of that; the first entry's
prev_hash is 64 zeros.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from admin_service.repos.audit import CHAIN_ROWS

VERSION = "faces-audit-v1"
GENESIS = "0" * 64
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)

def _token(value: str | None) -> bytes:
    if value is None:
        return b"~"
    raw = value.encode("utf-8")
    return b"%d:%s" % (len(raw), raw)


def _int(value: int | None) -> str | None:
    return None if value is None else str(int(value))


def entry_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    """The hash the entry ``row`` must carry when it follows an entry whose hash is ``prev_hash``."""
    at_us = (row["at"] - _EPOCH) // _MICRO
    fields = (VERSION, _int(row["chain_seq"]), _int(row["id"]), str(at_us), _int(row["actor_id"]),
              row["actor_email"], row["action"], row["entity_type"], row["entity_id"], row["old_value"],
              row["new_value"], row["reason"], row["client_ip_hash"], prev_hash)
    return hashlib.sha256(b"".join(_token(f) for f in fields)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str                   # entry_hash of the last good entry (GENESIS for an empty log)
    bad_id: int | None = None        # first entry that does not verify
    bad_seq: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.bad_id is None

    def describe(self) -> str:
        if self.intact:
            return f"audit log intact: {self.entries} entries, head entry_hash {self.head_hash}"
        return (f"audit log BROKEN at entry id={self.bad_id} (chain position {self.bad_seq}): {self.reason}; "
                f"{self.entries} entries before it verify")


async def verify(conn: asyncpg.Connection, *, batch: int = 5000) -> ChainReport:
    """Walk the chain in order from one consistent snapshot; stop at the first entry that does not verify."""
    prev, expected_seq, good = GENESIS, 1, 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(CHAIN_ROWS, prefetch=batch):
            problem = ""
            if row["chain_seq"] != expected_seq:
                problem = (f"chain position {row['chain_seq']} follows {expected_seq - 1}: "
                           "an entry before it was removed")
            elif row["prev_hash"] != prev:
                problem = "its prev_hash is not the previous entry's hash: an entry before it was altered or removed"
            elif row["entry_hash"] != entry_hash(row, prev):
                problem = "its stored hash does not match its content: the entry was altered"
            if problem:
                return ChainReport(good, prev, bad_id=row["id"], bad_seq=row["chain_seq"], reason=problem)
            prev, expected_seq, good = row["entry_hash"], expected_seq + 1, good + 1
    return ChainReport(good, prev)
