"""SQL for fraud review over the per-cluster summaries the flusher keeps (migration 0008; docs/fraud.md).

Nothing here reads the votes table to list flags: clusters come from ``fraud_clusters`` through its partial
index of possible suspects (each with its top candidate, kept by the flusher), bursts from
``fraud_cluster_buckets`` through the covering partial indexes of candidate and campaign buckets (migration
0010). The votes of one cluster (to count or invalidate them) are read by the cluster's filter.
The thresholds are parameters; their meaning is in ``admin_service.services.fraud``.
"""

from __future__ import annotations

from typing import Any

import asyncpg

TOTALS = "SELECT kind, clusters, votes, bucket_s, fast_s FROM fraud_kind_totals WHERE campaign_id = $1"

# $1 campaign, $2 kinds. ``suspect`` is the stored predicate of the partial index fraud_clusters_suspects
# (migrations 0008, 0009), so the planner reads only that index: the clusters a detector may flag.
# Linear counting: n ~ -m ln(zero bits / m); a full bitmap is read as its saturation value.
CLUSTER_STATS = """
SELECT c.kind, c.key, c.votes, c.fast_votes, c.auto_votes, c.tokenless_votes, c.seq_votes, c.invalid_votes,
       c.dt_n, c.dt_sum, c.dt_sq, c.first_at, c.last_at, c.top_votes, c.top_candidate,
       CASE WHEN c.voter_bits IS NULL THEN c.votes
            ELSE least(c.votes, round(-1024 * ln(greatest(1024 - bit_count(c.voter_bits), 1) / 1024.0)))::bigint
       END AS voters,
       CASE WHEN c.net_bits IS NULL THEN NULL
            ELSE round(-256 * ln(greatest(256 - bit_count(c.net_bits), 1) / 256.0))::bigint END AS nets,
       coalesce(cand.votes, 0) AS top_candidate_total
FROM fraud_clusters c
LEFT JOIN fraud_clusters cand ON cand.campaign_id = c.campaign_id AND cand.kind = 'cand'
                              AND cand.key = c.top_candidate::text
WHERE c.campaign_id = $1 AND c.kind = ANY($2::text[]) AND c.suspect
"""

# $1 campaign, $2 floor (the fewest votes a flagged bucket can have), $3 the hot ratio of the index range's start,
# $4 the burst ratio. Each candidate's buckets are read through the covering partial index
# fraud_cluster_buckets_cand (migration 0010; campaign, candidate, votes, bucket) from
# max($2, $3 x its share x the median bucket's votes) up: its ordinary minutes are never read. Of those, the
# statement returns only the buckets the service could flag: x >= $4 x its share outside the bucket and its
# neighbours x the bucket's votes, whose lower bound is (votes - 5 x its busiest bucket) / campaign votes (the
# service leaves out at most five buckets), so the service's test sees every bucket it would flag.
BURSTS = """
WITH t AS MATERIALIZED (SELECT votes FROM fraud_clusters WHERE campaign_id = $1 AND kind = 'all' AND key = ''),
     med AS MATERIALIZED (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY votes) AS votes FROM fraud_cluster_buckets
                          WHERE campaign_id = $1 AND kind = 'all' AND key = ''),
     floors AS MATERIALIZED (
         SELECT c.key, c.votes, ceil(greatest($2, $3 * c.votes::float8 / t.votes * med.votes))::bigint AS floor,
                t.votes AS total,
                greatest(0, c.votes - 5 * (SELECT max(m.votes) FROM fraud_cluster_buckets m
                                           WHERE m.campaign_id = $1 AND m.kind = 'cand' AND m.key = c.key)) AS low
         FROM fraud_clusters c CROSS JOIN t CROSS JOIN med WHERE c.campaign_id = $1 AND c.kind = 'cand')
SELECT h.key::bigint AS candidate_id, h.bucket, h.votes, a.votes AS bucket_votes, f.votes AS candidate_votes,
       f.total AS total_votes
FROM floors f
CROSS JOIN LATERAL (
    SELECT b.key, b.bucket, b.votes FROM fraud_cluster_buckets b
    WHERE b.campaign_id = $1 AND b.kind = 'cand' AND b.key = f.key AND b.votes >= f.floor
    OFFSET 0  -- one index range per candidate: never flattened into a join over every bucket
) h
JOIN fraud_cluster_buckets a ON a.campaign_id = $1 AND a.kind = 'all' AND a.key = '' AND a.bucket = h.bucket
WHERE h.votes::float8 * f.total >= $4 * f.low * a.votes
ORDER BY h.key, h.bucket
"""

# The campaign's first and last vote (how many buckets the burst detector tests).
CAMPAIGN_SPAN = """
SELECT first_at, last_at FROM fraud_clusters WHERE campaign_id = $1 AND kind = 'all' AND key = ''
"""

# $1 campaign, $2 candidates[], $3 from[], $4 to[] (one per run): every bucket of each range, the candidate's
# votes in it (0 when none) and the campaign's; ``run`` is the range's position, from 1.
BUCKETS_AROUND = """
SELECT r.run, a.bucket, coalesce(b.votes, 0) AS votes, a.votes AS bucket_votes
FROM unnest($2::bigint[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS r (candidate, lo, hi, run)
JOIN fraud_cluster_buckets a ON a.campaign_id = $1 AND a.kind = 'all' AND a.key = '' AND a.bucket BETWEEN r.lo AND r.hi
LEFT JOIN fraud_cluster_buckets b ON b.campaign_id = $1 AND b.kind = 'cand' AND b.key = r.candidate::text
                                 AND b.bucket = a.bucket
ORDER BY r.run, a.bucket
"""

# One cluster's votes. $1 campaign; the rest per kind (services.fraud.parse_cluster_id gives the arguments).
CLUSTER_FILTER = {
    "net": "ip_net = $2::cidr",
    "ip": "ip_hash = $2",
    "ua": ("ua_class = $2 AND page_token = $3 AND coalesce(accept_lang, '') = $5 AND ($4::boolean IS NULL OR "
           "(signin_s < coalesce((SELECT fast_s FROM fraud_kind_totals WHERE campaign_id = $1 AND kind = 'ua'), 5)) "
           "= $4)"),
    "blk": "num_block = $2",
    "burst": "candidate_id = $2 AND cast_at >= to_timestamp($3) AND cast_at < to_timestamp($4)",
}

COUNT_CLUSTER = """
SELECT count(*) AS votes, count(invalidated_at) AS invalid FROM votes WHERE campaign_id = $1 AND {filter}
"""

CLUSTER_VOTES = "SELECT vote_id FROM votes WHERE campaign_id = $1 AND {filter} ORDER BY vote_id LIMIT $6"

# Invalidated votes come back with what places them in clusters, so the summaries' invalid counts follow.
INVALIDATE_CLUSTER = """
UPDATE votes SET invalidated_at = now(), invalidation_reason = $6, invalidated_by = $7
WHERE campaign_id = $1 AND {filter} AND invalidated_at IS NULL
RETURNING vote_id, candidate_id, ip_net::text AS ip_net, ip_hash, ua_class, page_token, signin_s, accept_lang,
          num_block
"""

# $1 campaign, $2 kinds[], $3 keys[], $4 counts[]: add to the clusters' invalid counts.
ADD_INVALID = """
UPDATE fraud_clusters f SET invalid_votes = f.invalid_votes + d.n
FROM (SELECT kind, key, sum(n)::bigint AS n FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t (kind, key, n)
      GROUP BY kind, key) d
WHERE f.campaign_id = $1 AND f.kind = d.kind AND f.key = d.key
"""


def _args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A filter's arguments padded to $2..$5 (unused ones are NULL; every filter names at most four)."""
    return (*args, *([None] * (4 - len(args))))


async def totals(conn: asyncpg.Connection, campaign_id: int) -> dict[str, asyncpg.Record]:
    return {r["kind"]: r for r in await conn.fetch(TOTALS, campaign_id)}


async def cluster_stats(conn: asyncpg.Connection, *, campaign_id: int, kinds: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(CLUSTER_STATS, campaign_id, kinds)


async def bursts(conn: asyncpg.Connection, *, campaign_id: int, floor: int, hot_ratio: float,
                 ratio: float) -> list[asyncpg.Record]:
    return await conn.fetch(BURSTS, campaign_id, floor, hot_ratio, ratio)


async def campaign_span(conn: asyncpg.Connection, campaign_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(CAMPAIGN_SPAN, campaign_id)


async def buckets_around(conn: asyncpg.Connection, *, campaign_id: int, candidates: list[int], starts: list[Any],
                         ends: list[Any]) -> list[asyncpg.Record]:
    return await conn.fetch(BUCKETS_AROUND, campaign_id, candidates, starts, ends)


async def count_cluster(conn: asyncpg.Connection, *, campaign_id: int, kind: str,
                        args: tuple[Any, ...]) -> asyncpg.Record:
    sql = COUNT_CLUSTER.format(filter=CLUSTER_FILTER[kind])
    return await conn.fetchrow(_prepared(sql, kind), campaign_id, *_args(args))


async def cluster_vote_ids(conn: asyncpg.Connection, *, campaign_id: int, kind: str, args: tuple[Any, ...],
                           limit: int) -> list[str]:
    sql = CLUSTER_VOTES.format(filter=CLUSTER_FILTER[kind])
    return [r["vote_id"] for r in await conn.fetch(_prepared(sql, kind), campaign_id, *_args(args), limit)]


async def invalidate_cluster(conn: asyncpg.Connection, *, campaign_id: int, kind: str, args: tuple[Any, ...],
                             reason: str, actor_email: str) -> list[asyncpg.Record]:
    sql = INVALIDATE_CLUSTER.format(filter=CLUSTER_FILTER[kind])
    return await conn.fetch(_prepared(sql, kind), campaign_id, *_args(args), reason, actor_email)


async def add_invalid(conn: asyncpg.Connection, *, campaign_id: int, counts: dict[tuple[str, str], int]) -> None:
    if counts:
        kinds, keys = zip(*counts)
        await conn.execute(ADD_INVALID, campaign_id, list(kinds), list(keys), list(counts.values()))


_PARAM_TYPES = {  # $2..$5 of each filter
    "net": ("text", "text", "text", "text"), "ip": ("text", "text", "text", "text"),
    "ua": ("text", "boolean", "boolean", "text"), "blk": ("text", "text", "text", "text"),
    "burst": ("bigint", "float8", "float8", "text"),
}


def _prepared(sql: str, kind: str) -> str:
    """Declare the types of $2..$5 (a filter that does not use one still has it in the statement)."""
    types = _PARAM_TYPES[kind]
    decl = " AND ".join(f"(${i + 2}::{t} IS NULL OR TRUE)" for i, t in enumerate(types))
    return sql.replace("WHERE campaign_id = $1 AND", f"WHERE {decl} AND campaign_id = $1 AND", 1)
