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
#
# The same statement keeps the fraud summaries (migration 0008, docs/fraud.md) from exactly the rows it
# inserted (RETURNING: a re-delivered vote returns nothing, so it is never counted twice): per cluster (net,
# ip, ua, blk, cand, all), per cluster and candidate, per candidate and time bucket. Each upsert aggregates
# first (one row per conflict key) and takes its rows in key order, so two flushers lock in the same order.
# $15 bucket width (s), $16 fast-after-sign-in threshold (s), $17 sequential-run threshold.
INSERT_BATCH = """
WITH batch AS (
    SELECT c AS campaign_id, v AS vote_id, cand AS candidate_id, voter, ih AS ip_hash, net::cidr AS ip_net,
           timestamptz 'epoch' + ms * interval '1 millisecond' AS cast_at, dt AS signin_s, ua AS ua_class,
           pt AS page_token, op AS operator, al AS accept_lang, bk AS num_block, sq AS seq_run
    FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                $8::integer[], $9::text[], $10::boolean[], $11::text[], $12::text[], $13::text[], $14::smallint[])
         AS t (c, v, cand, voter, ih, net, ms, dt, ua, pt, op, al, bk, sq)
),
inserted AS (
    INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, ip_hash, ip_net, cast_at,
                       signin_s, ua_class, page_token, operator, accept_lang, num_block, seq_run)
    SELECT * FROM batch
    ON CONFLICT (campaign_id, vote_id) DO NOTHING
    RETURNING campaign_id, vote_id  -- the flusher may not read votes' other columns: the rest comes from batch
),
ins AS (SELECT b.* FROM batch b JOIN inserted USING (campaign_id, vote_id)),
tagged AS (
    SELECT i.campaign_id, i.candidate_id, i.voter, i.ip_net, i.cast_at, k.kind, k.key,
           i.signin_s < $16 AS fast, i.ua_class IN ('headless', 'script') AS auto, NOT i.page_token AS tokenless,
           i.seq_run >= $17 AS seq,
           CASE WHEN i.signin_s IS NOT NULL THEN least(i.signin_s, 3600)::float8 END AS dt  -- LEAST skips NULLs
    FROM ins i CROSS JOIN LATERAL (VALUES
        ('net', i.ip_net::text), ('ip', nullif(i.ip_hash, '')),
        ('ua', i.ua_class || '.' || CASE WHEN i.page_token THEN 't' ELSE 'n' END || '.'
               || CASE WHEN i.ua_class <> 'browser' THEN 'x' WHEN i.signin_s < $16 THEN 'f' ELSE 's' END || '.'
               || coalesce(i.accept_lang, '')),
        ('blk', i.num_block), ('cand', i.candidate_id::text), ('all', '')) AS k (kind, key)
    WHERE k.key IS NOT NULL
),
per_candidate AS (
    INSERT INTO fraud_cluster_candidates AS f (campaign_id, kind, key, candidate_id, votes)
    SELECT campaign_id, kind, key, candidate_id, count(*) FROM tagged WHERE kind IN ('net', 'ip', 'ua', 'blk')
    GROUP BY campaign_id, kind, key, candidate_id ORDER BY campaign_id, kind, key, candidate_id
    ON CONFLICT (campaign_id, kind, key, candidate_id) DO UPDATE SET votes = f.votes + EXCLUDED.votes
    RETURNING f.campaign_id, f.kind, f.key, f.candidate_id, f.votes
),
-- per cluster, the candidate with most votes after this batch among those it touched: counts only grow, so
-- the cluster's maximum is the larger of this and the one kept (a tie keeps the one kept)
tops AS (
    SELECT campaign_id, kind, key, max(ARRAY[votes, -candidate_id]) AS top FROM per_candidate
    GROUP BY campaign_id, kind, key
),
clusters AS (
    INSERT INTO fraud_clusters AS f (campaign_id, kind, key, votes, fast_votes, auto_votes, tokenless_votes,
                                     seq_votes, dt_n, dt_sum, dt_sq, first_at, last_at, voter_bits, net_bits,
                                     top_votes, top_candidate)
    SELECT g.*, t.top[1], -t.top[2]
    FROM (
        SELECT campaign_id, kind, key, count(*) AS votes, count(*) FILTER (WHERE fast) AS fast_votes,
               count(*) FILTER (WHERE auto) AS auto_votes, count(*) FILTER (WHERE tokenless) AS tokenless_votes,
               count(*) FILTER (WHERE seq) AS seq_votes, count(dt) AS dt_n, coalesce(sum(dt), 0) AS dt_sum,
               coalesce(sum(dt * dt), 0) AS dt_sq, min(cast_at) AS first_at, max(cast_at) AS last_at,
               CASE WHEN kind IN ('net', 'ua', 'blk')
                    THEN bit_or(B'1'::bit(1024) >> (hashtext(voter) & 1023)) END AS voter_bits,
               CASE WHEN kind IN ('ua', 'blk', 'cand')
                    THEN bit_or(B'1'::bit(256) >> (hashtext(ip_net::text) & 255)) END AS net_bits
        FROM tagged GROUP BY campaign_id, kind, key
    ) g LEFT JOIN tops t USING (campaign_id, kind, key)
    ORDER BY g.campaign_id, g.kind, g.key
    ON CONFLICT (campaign_id, kind, key) DO UPDATE SET
        votes = f.votes + EXCLUDED.votes, fast_votes = f.fast_votes + EXCLUDED.fast_votes,
        auto_votes = f.auto_votes + EXCLUDED.auto_votes,
        tokenless_votes = f.tokenless_votes + EXCLUDED.tokenless_votes,
        seq_votes = f.seq_votes + EXCLUDED.seq_votes, dt_n = f.dt_n + EXCLUDED.dt_n,
        dt_sum = f.dt_sum + EXCLUDED.dt_sum, dt_sq = f.dt_sq + EXCLUDED.dt_sq,
        first_at = least(f.first_at, EXCLUDED.first_at), last_at = greatest(f.last_at, EXCLUDED.last_at),
        -- a bitmap is NULL until its first bit (e.g. no network yet): NULL | x would stay NULL
        voter_bits = coalesce(f.voter_bits | EXCLUDED.voter_bits, f.voter_bits, EXCLUDED.voter_bits),
        net_bits = coalesce(f.net_bits | EXCLUDED.net_bits, f.net_bits, EXCLUDED.net_bits),
        top_candidate = CASE WHEN EXCLUDED.top_votes > f.top_votes THEN EXCLUDED.top_candidate
                             ELSE f.top_candidate END,
        top_votes = greatest(f.top_votes, EXCLUDED.top_votes)
    RETURNING f.campaign_id, f.kind, (f.xmax = 0) AS inserted
),
buckets AS (
    INSERT INTO fraud_cluster_buckets AS f (campaign_id, kind, key, bucket, votes)
    SELECT campaign_id, kind, key, to_timestamp(floor(extract(epoch FROM cast_at) / $15) * $15) AS b, count(*)
    FROM tagged WHERE kind IN ('cand', 'all')
    GROUP BY campaign_id, kind, key, b ORDER BY campaign_id, kind, key, b
    ON CONFLICT (campaign_id, kind, key, bucket) DO UPDATE SET votes = f.votes + EXCLUDED.votes
),
totals AS (
    INSERT INTO fraud_kind_totals AS f (campaign_id, kind, clusters, votes, bucket_s, fast_s)
    SELECT a.campaign_id, a.kind, coalesce(n.new, 0), a.votes, $15, $16
    FROM (SELECT campaign_id, kind, count(*) AS votes FROM tagged GROUP BY campaign_id, kind) a
    LEFT JOIN (SELECT campaign_id, kind, count(*) AS new FROM clusters WHERE inserted GROUP BY campaign_id, kind) n
           USING (campaign_id, kind)
    ORDER BY a.campaign_id, a.kind
    ON CONFLICT (campaign_id, kind) DO UPDATE SET clusters = f.clusters + EXCLUDED.clusters,
                                                  votes = f.votes + EXCLUDED.votes
)
SELECT count(*) FROM ins
"""

CAMPAIGNS_WITH_VOTES = "SELECT DISTINCT campaign_id FROM votes"


async def receipt_status(conn: asyncpg.Connection, *, campaign_id: int, vote_id: str) -> str | None:
    row = await conn.fetchrow(RECEIPT_STATUS, campaign_id, vote_id)
    if row is None:
        return None
    return "invalidated" if row["invalidated"] else "recorded"


ROW_WIDTH = 14


async def insert_batch(conn: asyncpg.Connection, rows: list[tuple], *, bucket_s: int = 60, fast_s: int = 5,
                       seq_run: int = 4) -> int:
    """Insert the rows (``flusher.to_row``) and fold the new ones into the fraud summaries; returns how many
    were new."""
    cols = list(zip(*rows)) if rows else [[]] * ROW_WIDTH
    if conn.is_in_transaction():
        # The planner joins the clusters' aggregate to ``tops`` with a merge join whose inner side it rescans
        # (EXPLAIN ANALYZE: 780 k rows materialised for 1 825 clusters, ~70 % of the statement); a hash join
        # does the same work in a fraction (per vote ~270 -> ~160 us of Postgres time, 1 200-vote batches).
        await conn.execute("SET LOCAL enable_mergejoin = off")
    return await conn.fetchval(INSERT_BATCH, *[list(c) for c in cols], bucket_s, fast_s, seq_run)

