"""SQL the public portal needs beyond the API's reads (shared/repos/campaigns.py: campaigns and ballots with
their texts; voting_service/repos/results.py: the frozen result and the finalists): the name behind a
generated avatar.

Only what is public: candidates on the ballot of a published (not draft) campaign.
"""

from __future__ import annotations

import asyncpg

PUBLIC_NAME = """
SELECT k.full_name FROM candidates k
WHERE k.id = $1 AND EXISTS (
    SELECT 1 FROM ballot_entries b JOIN campaigns c ON c.id = b.campaign_id
    WHERE b.candidate_id = k.id AND c.state <> 'draft')
"""


async def public_name(conn: asyncpg.Connection, *, candidate_id: int) -> str | None:
    return await conn.fetchval(PUBLIC_NAME, candidate_id)
