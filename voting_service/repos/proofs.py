"""SQL of receipts with inclusion proofs (read only; written once by the admin service at finalisation): a
receipt's status and, when its campaign is finalised under the RFC 9162 scheme, the tile that holds its leaf
(one index probe on ``merkle_tiles (campaign_id, first_receipt)``), in ONE round trip; the signed tree head and
the upper levels of the tree (read once per campaign and cached)."""

from __future__ import annotations

import asyncpg

# The tile whose first receipt is the greatest not above this one (byte order): the receipt's leaf is in it
# if it is a leaf at all. An invalidated or not yet recorded vote has no leaf; nothing is read for it.
RECEIPT = """
SELECT v.invalidated_at IS NOT NULL AS invalidated, t.tile, t.receipts, t.commitments, t.nodes
FROM votes v
LEFT JOIN LATERAL (
    SELECT tile, receipts, commitments, nodes FROM merkle_tiles
    WHERE campaign_id = $1 AND first_receipt <= $2::text COLLATE "C"
    ORDER BY first_receipt DESC LIMIT 1
) t ON v.invalidated_at IS NULL
WHERE v.campaign_id = $1 AND v.vote_id = $2
"""

TREE_HEAD = """
SELECT campaign_id, tree_size, root_hash, digest, signature, key_id, public_key, invalidated_votes, tile_height,
       signed_at
FROM campaign_tree_heads WHERE campaign_id = $1
"""

LEVELS = "SELECT level, hashes FROM merkle_levels WHERE campaign_id = $1 ORDER BY level"


async def receipt(conn: asyncpg.Connection, *, campaign_id: int, vote_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(RECEIPT, campaign_id, vote_id)


async def tree_head(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(TREE_HEAD, campaign_id)


async def levels(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(LEVELS, campaign_id)
