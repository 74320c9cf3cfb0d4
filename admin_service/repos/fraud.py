"""SQL for fraud review: clusters of a campaign's votes by network (``ip_net``, the /24 or /64) and by client
address (``ip_hash``), their statistics, the campaign's baselines and which thresholds each cluster crosses.

Everything is computed in one statement so only flagged clusters leave Postgres (a national campaign has
millions of addresses). The thresholds are parameters; their meaning is in ``admin_service.services.fraud``.
Statistics count every vote (raw), already invalidated ones included, so a cluster stays visible after review.
"""

from __future__ import annotations

from typing import Any

import asyncpg

# $1 campaign id, $2 burst window (s), $3 cap-filling span (s), $4/$5 many-voters ratio/floor,
# $6/$7 burst ratio/floor, $8 focus share, $9/$10 focus ratio/floor (votes), $11 cap-filling share,
# $12/$13 cap-filling ratio/floor (voters), $14 limit, $15 offset, $16 kind ('net', 'ip' or NULL for both).
FLAGGED_CLUSTERS = """
WITH tagged AS (
    -- Byte-order collation: grouping by the locale's rules would cost several times as much and mean nothing.
    SELECT 'net'::text COLLATE "C" AS kind, ip_net::text COLLATE "C" AS key, voter COLLATE "C" AS voter,
           candidate_id, cast_at, invalidated_at
    FROM votes WHERE campaign_id = $1 AND ip_net IS NOT NULL
    UNION ALL
    SELECT 'ip'::text COLLATE "C", ip_hash COLLATE "C", voter COLLATE "C", candidate_id, cast_at, invalidated_at
    FROM votes WHERE campaign_id = $1 AND ip_hash <> ''
),
windowed AS (
    SELECT kind, key, count(*) OVER (PARTITION BY kind, key ORDER BY cast_at
                                     RANGE BETWEEN CURRENT ROW AND make_interval(secs => $2) FOLLOWING) AS n
    FROM tagged
),
peaks AS (SELECT kind, key, max(n) AS peak FROM windowed GROUP BY kind, key),
-- The rest is hash aggregation (no sort): per voter, then per cluster.
per_voter AS (
    SELECT kind, key, voter, count(*) AS n, count(invalidated_at) AS invalid, min(cast_at) AS first_at,
           max(cast_at) AS last_at
    FROM tagged GROUP BY kind, key, voter
),
per_candidate AS (SELECT kind, key, candidate_id, count(*) AS n FROM tagged GROUP BY kind, key, candidate_id),
candidates AS (
    -- max of [votes, -id]: the candidate with most votes, the lower id on a tie
    SELECT kind, key, count(*) AS candidates, max(ARRAY[n, -candidate_id]) AS top
    FROM per_candidate GROUP BY kind, key
),
clusters AS (
    SELECT p.kind, p.key, sum(p.n)::bigint AS votes, count(*) AS voters, sum(p.invalid)::bigint AS invalidated,
           min(p.first_at) AS first_at, max(p.last_at) AS last_at,
           count(*) FILTER (WHERE p.n = k.votes_per_voter AND k.votes_per_voter > 1
                            AND p.last_at - p.first_at <= make_interval(secs => $3)) AS cap_fillers
    FROM per_voter p CROSS JOIN (SELECT votes_per_voter FROM campaigns WHERE id = $1) k
    GROUP BY p.kind, p.key
),
stats AS (
    SELECT g.kind, g.key, g.votes, g.voters, g.invalidated, c.candidates, g.first_at, g.last_at,
           -c.top[2] AS top_candidate, c.top[1] AS top_votes, pk.peak, g.cap_fillers,
           g.cap_fillers::float8 / g.voters AS cap_share
    FROM clusters g JOIN candidates c USING (kind, key) JOIN peaks pk USING (kind, key)
),
base AS (
    SELECT kind, count(*) AS clusters,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY voters) AS median_voters,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY peak) AS median_peak,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY votes) AS median_votes,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY cap_share) AS median_cap_share
    FROM stats GROUP BY kind
),
judged AS (
    SELECT s.*, b.clusters, b.median_voters, b.median_peak, b.median_votes, b.median_cap_share,
           greatest($5::float8, $4 * b.median_voters) AS voters_threshold,
           greatest($7::float8, $6 * b.median_peak) AS burst_threshold,
           greatest($10::float8, $9 * b.median_votes) AS focus_min_votes,
           greatest($11::float8, $12 * b.median_cap_share) AS cap_share_threshold
    FROM stats s JOIN base b USING (kind)
    WHERE $16::text IS NULL OR s.kind = $16
),
flagged AS (
    SELECT j.*,
           j.voters >= j.voters_threshold AS many_voters,
           j.peak >= j.burst_threshold AS burst,
           j.top_votes::float8 / j.votes >= $8 AND j.votes >= j.focus_min_votes AS focus,
           j.voters >= $13 AND j.cap_share >= j.cap_share_threshold AS cap_filling
    FROM judged j
),
scored AS (
    SELECT f.*,
           (CASE WHEN many_voters THEN voters / voters_threshold ELSE 0 END
            + CASE WHEN burst THEN peak / burst_threshold ELSE 0 END
            + CASE WHEN focus THEN top_votes::float8 / votes / $8 ELSE 0 END
            + CASE WHEN cap_filling THEN cap_share / cap_share_threshold ELSE 0 END) AS score
    FROM flagged f
    WHERE many_voters OR burst OR focus OR cap_filling
)
SELECT scored.*, count(*) OVER () AS total
FROM scored
ORDER BY score DESC, votes DESC, kind DESC, key
LIMIT $14 OFFSET $15
"""

# One cluster's votes: "net" matches the cidr column, "ip" the keyed address hash.
CLUSTER_FILTER = {"net": "ip_net = $2::cidr", "ip": "ip_hash = $2"}

COUNT_CLUSTER = """
SELECT count(*) AS votes, count(invalidated_at) AS invalid FROM votes WHERE campaign_id = $1 AND {filter}
"""

INVALIDATE_CLUSTER = """
UPDATE votes SET invalidated_at = now(), invalidation_reason = $3, invalidated_by = $4
WHERE campaign_id = $1 AND {filter} AND invalidated_at IS NULL
RETURNING vote_id, candidate_id
"""


async def flagged_clusters(conn: asyncpg.Connection, *, campaign_id: int, params: dict[str, Any], limit: int,
                           offset: int, kind: str | None, timeout: float | None = None) -> list[asyncpg.Record]:
    p = params
    return await conn.fetch(
        FLAGGED_CLUSTERS, campaign_id, p["burst_window_s"], p["cap_span_s"], p["many_voters_ratio"],
        p["many_voters_min"], p["burst_ratio"], p["burst_min"], p["focus_share"], p["focus_ratio"],
        p["focus_min_votes"], p["cap_share"], p["cap_ratio"], p["cap_min_voters"], limit, offset, kind,
        timeout=timeout)


async def count_cluster(conn: asyncpg.Connection, *, campaign_id: int, kind: str, key: str) -> asyncpg.Record:
    return await conn.fetchrow(COUNT_CLUSTER.format(filter=CLUSTER_FILTER[kind]), campaign_id, key)


async def invalidate_cluster(conn: asyncpg.Connection, *, campaign_id: int, kind: str, key: str, reason: str,
                             actor_email: str) -> list[asyncpg.Record]:
    return await conn.fetch(INVALIDATE_CLUSTER.format(filter=CLUSTER_FILTER[kind]), campaign_id, key, reason,
                            actor_email)
