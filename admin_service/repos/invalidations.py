"""SQL for fraud-review invalidations: votes are never deleted, only marked invalid with who, when and why."""

from __future__ import annotations

import asyncpg

# Only votes of this campaign that are recorded and not yet invalid; returns what it marked.
INVALIDATE = """
UPDATE votes SET invalidated_at = now(), invalidation_reason = $3, invalidated_by = $4
WHERE campaign_id = $1 AND vote_id = ANY($2::text[]) AND invalidated_at IS NULL
RETURNING vote_id, candidate_id, ip_net::text AS ip_net, ip_hash, ua_class, page_token, signin_s, accept_lang,
          num_block
"""

KNOWN = "SELECT vote_id FROM votes WHERE campaign_id = $1 AND vote_id = ANY($2::text[])"


async def invalidate(conn: asyncpg.Connection, *, campaign_id: int, vote_ids: list[str], reason: str,
                     actor_email: str) -> list[asyncpg.Record]:
    return await conn.fetch(INVALIDATE, campaign_id, vote_ids, reason, actor_email)


async def known(conn: asyncpg.Connection, *, campaign_id: int, vote_ids: list[str]) -> set[str]:
    return {r["vote_id"] for r in await conn.fetch(KNOWN, campaign_id, vote_ids)}
