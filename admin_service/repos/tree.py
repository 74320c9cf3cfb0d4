"""SQL of the verifiable result: the counted votes the tree is built over, its stored form (tiles, upper levels),
the campaign's commitment secret and the signed tree head. Written once, in the finalisation's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

# The leaves: valid votes for ballot candidates, in byte order of the vote id (= receipt).
COUNTED_VOTES = """
SELECT v.vote_id, v.candidate_id FROM votes v
WHERE v.campaign_id = $1 AND v.invalidated_at IS NULL
  AND v.candidate_id IN (SELECT candidate_id FROM ballot_entries WHERE campaign_id = $1)
ORDER BY v.vote_id COLLATE "C"
"""

INSERT_SECRET = "INSERT INTO campaign_commitment_keys (campaign_id, secret) VALUES ($1, $2)"
GET_SECRET = "SELECT secret FROM campaign_commitment_keys WHERE campaign_id = $1"

INSERT_HEAD = """
INSERT INTO campaign_tree_heads (campaign_id, tree_size, root_hash, digest, signature, key_id, public_key,
                                 invalidated_votes, tile_height)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""

GET_HEAD = """
SELECT campaign_id, tree_size, root_hash, digest, signature, key_id, public_key, invalidated_votes, tile_height,
       signed_at
FROM campaign_tree_heads WHERE campaign_id = $1
"""

# The pool's command timeout (10 s) is for requests; the first FETCH of a campaign's millions of votes waits for
# Postgres to sort them, and a COPY of a batch of tiles can meet a busy disk: these statements get longer.
LONG_S = 600.0

TILE_COLUMNS = ("campaign_id", "tile", "first_receipt", "receipts", "commitments", "nodes")
LEVEL_COLUMNS = ("campaign_id", "level", "hashes")

TILES = """
SELECT tile, receipts, commitments, nodes FROM merkle_tiles WHERE campaign_id = $1 ORDER BY tile
"""

LEVELS = "SELECT level, hashes FROM merkle_levels WHERE campaign_id = $1 ORDER BY level"


async def iter_counted_votes(conn: asyncpg.Connection, *, campaign_id: int,
                             chunk: int = 20_000) -> AsyncIterator[list[asyncpg.Record]]:
    """(vote_id, candidate_id) of the counted votes in byte order of the vote id, a chunk at a time from a
    server-side cursor (``conn`` must be in a transaction)."""
    cursor = await conn.cursor(COUNTED_VOTES, campaign_id, timeout=LONG_S)
    while True:
        rows = await cursor.fetch(chunk, timeout=LONG_S)
        if not rows:
            return
        yield rows


async def insert_secret(conn: asyncpg.Connection, *, campaign_id: int, secret: bytes) -> None:
    await conn.execute(INSERT_SECRET, campaign_id, secret)


async def secret(conn: asyncpg.Connection, *, campaign_id: int) -> bytes | None:
    return await conn.fetchval(GET_SECRET, campaign_id)


async def insert_head(conn: asyncpg.Connection, *, campaign_id: int, tree_size: int, root_hash: str, digest: str,
                      signature: str, key_id: str, public_key: str, invalidated_votes: int,
                      tile_height: int) -> None:
    await conn.execute(INSERT_HEAD, campaign_id, tree_size, root_hash, digest, signature, key_id, public_key,
                       invalidated_votes, tile_height)


async def head(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(GET_HEAD, campaign_id)


async def copy_tiles(conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        await conn.copy_records_to_table("merkle_tiles", records=rows, columns=TILE_COLUMNS, timeout=LONG_S)


async def copy_levels(conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        await conn.copy_records_to_table("merkle_levels", records=rows, columns=LEVEL_COLUMNS, timeout=LONG_S)


async def iter_tiles(conn: asyncpg.Connection, *, campaign_id: int) -> AsyncIterator[asyncpg.Record]:
    """Every stored tile in order (``conn`` in a transaction)."""
    async for row in conn.cursor(TILES, campaign_id, prefetch=500, timeout=LONG_S):
        yield row


async def levels(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(LEVELS, campaign_id)
