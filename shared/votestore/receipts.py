"""Receipts: ``<campaign>.<shard>.<stream id>.<nonce>``. A receipt locates its vote without an index (in the
shard's stream until the flusher moves it, then by ``vote_id`` in Postgres, where it is the primary key) and
cannot be guessed (the nonce)."""

from __future__ import annotations

import base64
import os
import re

import redis.asyncio as aioredis

from shared.votestore import keys


def make_receipt(campaign_id: int, shard: int, stream_id: str, nonce: str) -> str:
    return f"{campaign_id}.{shard}.{stream_id}.{nonce}"


# ASCII digits only (str.isdigit() also takes "١٢٣") and bounded: campaign ids fit a bigint, stream id
# parts fit Redis's uint64, so nothing malformed reaches Postgres or XRANGE (where it would be a 500).
_RECEIPT = re.compile(r"([0-9]{1,18})\.([0-9]{1,9})\.(([0-9]{1,20})-([0-9]{1,20}))\.([A-Za-z0-9_-]{8,16})")
_U64 = 2**64


def parse_receipt(receipt: str) -> tuple[int, int, str, str] | None:
    m = _RECEIPT.fullmatch(receipt) if len(receipt) <= 96 else None
    if m is None:
        return None
    cid, shard, sid, ms, seq, nonce = m.groups()
    if int(ms) >= _U64 or int(seq) >= _U64:
        return None
    return int(cid), int(shard), sid, nonce


def new_nonce() -> str:
    return base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")  # what secrets.token_bytes does, less wrapping


async def in_stream(r: aioredis.Redis, campaign_id: int, shard: int, stream_id: str, nonce: str) -> bool:
    """Is the vote of this receipt still in its shard's stream (accepted, not yet moved to Postgres)?"""
    entries = await r.xrange(keys.ShardKeys.of(campaign_id, shard).stream, stream_id, stream_id)
    return bool(entries) and entries[0][1].get("r") == nonce
