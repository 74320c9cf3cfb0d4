"""SQL of receipts with inclusion proofs (read only; written once by the admin service at finalisation): a
receipt's status and, when its campaign is finalised under the RFC 9162 scheme, the tile that holds its leaf
(one index probe on ``merkle_tiles (campaign_id, first_receipt)``), in ONE round trip for many receipts; the
signed tree head and the upper levels of the tree (read once per campaign and cached)."""

from __future__ import annotations

import asyncpg

# For each (campaign, receipt): the vote's status and the tile whose first receipt is the greatest not above the
# receipt (byte order), which holds the receipt's leaf if it is a leaf at all (one backward index probe). An
# invalidated or not yet recorded vote has no leaf; nothing is read for it. ``ReceiptReads`` (services/proofs.py)
# batches the concurrent lookups of a process into one such query; a receipt that is no vote has no row.
RECEIPTS = """
SELECT q.campaign_id, q.vote_id, v.invalidated_at IS NOT NULL AS invalidated, t.tile, t.receipts, t.commitments,
       t.nodes
FROM unnest($1::bigint[], $2::text[]) AS q(campaign_id, vote_id)
JOIN votes v ON v.campaign_id = q.campaign_id AND v.vote_id = q.vote_id
LEFT JOIN LATERAL (
    SELECT tile, receipts, commitments, nodes FROM merkle_tiles
    WHERE campaign_id = q.campaign_id AND first_receipt <= q.vote_id COLLATE "C"
    ORDER BY first_receipt DESC LIMIT 1
) t ON v.invalidated_at IS NULL
"""

TREE_HEAD = """
SELECT campaign_id, tree_size, root_hash, digest, signature, key_id, public_key, invalidated_votes, tile_height,
       signed_at
FROM campaign_tree_heads WHERE campaign_id = $1
"""

LEVELS = "SELECT level, hashes FROM merkle_levels WHERE campaign_id = $1 ORDER BY level"


async def receipts(conn: asyncpg.Connection, *, campaign_ids: list[int],
                   vote_ids: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(RECEIPTS, campaign_ids, vote_ids)


async def tree_head(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(TREE_HEAD, campaign_id)


async def levels(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(LEVELS, campaign_id)
