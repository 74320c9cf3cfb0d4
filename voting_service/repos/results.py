"""SQL of the public results after finalisation: the frozen snapshot (``campaign_results``, written once by the
admin service's finalisation) and the finalists' public cards."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

# Not the report nor who finalised it: the voting service's role may read only these columns (migration 0006).
SNAPSHOT = """
SELECT campaign_id, finalised_at, policy, seats, counts, digest, merkle_root, counted_votes
FROM campaign_results WHERE campaign_id = $1
"""

PUBLIC_CARDS = """
SELECT id, full_name, region, sphere, gender, photo_url, summary, story, achievements, text_lang, texts
FROM candidates WHERE id = ANY($1::bigint[])
"""


async def snapshot(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(SNAPSHOT, campaign_id)


async def public_cards(conn: asyncpg.Connection, *, candidate_ids: Sequence[int]) -> list[asyncpg.Record]:
    return await conn.fetch(PUBLIC_CARDS, list(candidate_ids))
