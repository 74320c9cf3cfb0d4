"""SQL the public portal needs beyond the API's reads (voting_service/services/directory.py): the candidates'
full texts of a ballot, the frozen list of a finalised campaign, the name behind a generated avatar.

Only what is public: candidates on the ballot of a published (not draft) campaign.
"""

from __future__ import annotations

import asyncpg

# Columns of migration 0006 (candidates.text_lang, candidates.texts: texts in further languages).
BALLOT_TEXTS = """
SELECT k.id, k.summary, k.story, k.achievements, k.text_lang, k.texts
FROM ballot_entries b JOIN candidates k ON k.id = b.candidate_id
WHERE b.campaign_id = $1
"""
# TODO(portal): drop once migration 0006 (helper "data") is merged: the same without the new columns.
BALLOT_TEXTS_BASE = """
SELECT k.id, k.summary, k.story, k.achievements, 'ru' AS text_lang, '{}'::jsonb AS texts
FROM ballot_entries b JOIN candidates k ON k.id = b.candidate_id
WHERE b.campaign_id = $1
"""

FINAL_SEATS = "SELECT seats, finalised_at FROM campaign_results WHERE campaign_id = $1"

PUBLIC_NAME = """
SELECT k.full_name FROM candidates k
WHERE k.id = $1 AND EXISTS (
    SELECT 1 FROM ballot_entries b JOIN campaigns c ON c.id = b.campaign_id
    WHERE b.candidate_id = k.id AND c.state <> 'draft')
"""


async def ballot_texts(conn: asyncpg.Connection, *, campaign_id: int) -> list[asyncpg.Record]:
    try:
        return await conn.fetch(BALLOT_TEXTS, campaign_id)
    except asyncpg.exceptions.UndefinedColumnError:
        return await conn.fetch(BALLOT_TEXTS_BASE, campaign_id)


async def final_seats(conn: asyncpg.Connection, *, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(FINAL_SEATS, campaign_id)


async def public_name(conn: asyncpg.Connection, *, candidate_id: int) -> str | None:
    return await conn.fetchval(PUBLIC_NAME, candidate_id)
