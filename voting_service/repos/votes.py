"""SQL over the votes table used by the voting service and the flusher."""

from __future__ import annotations

import asyncpg

RECEIPT_STATUS = """
SELECT invalidated_at IS NOT NULL AS invalidated FROM votes WHERE campaign_id = $1 AND vote_id = $2
"""

# One statement for a whole batch; ON CONFLICT makes a replayed batch (after a crash between COMMIT
# and XACK) a no-op. The network arrives as text and the time as Unix milliseconds (the stream entry's
# id): Postgres converts them, which costs the flusher's Python far less than building ipaddress and
# datetime objects per vote for asyncpg to encode.
INSERT_BATCH = """
INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, ip_hash, ip_net, cast_at)
SELECT c, v, cand, voter, ih, net::cidr, timestamptz 'epoch' + ms * interval '1 millisecond'
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[])
     AS t (c, v, cand, voter, ih, net, ms)
ON CONFLICT (campaign_id, vote_id) DO NOTHING
"""

CAMPAIGNS_WITH_VOTES = "SELECT DISTINCT campaign_id FROM votes"


async def receipt_status(conn: asyncpg.Connection, *, campaign_id: int, vote_id: str) -> str | None:
    row = await conn.fetchrow(RECEIPT_STATUS, campaign_id, vote_id)
    if row is None:
        return None
    return "invalidated" if row["invalidated"] else "recorded"


async def insert_batch(conn: asyncpg.Connection, rows: list[tuple]) -> str:
    cols = list(zip(*rows)) if rows else [[]] * 7
    return await conn.execute(INSERT_BATCH, *[list(c) for c in cols])

