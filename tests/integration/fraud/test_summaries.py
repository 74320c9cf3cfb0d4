"""The flusher's fraud summaries equal a recount from the votes table, whatever the batches: random batches of
votes with random signals, some re-delivered (a crash between COMMIT and XACK), some overlapping; inserts are
idempotent on the vote id and so are the summaries. And the flusher's role may write them, the admin's only
read them (and keep their invalid counts)."""

from __future__ import annotations

import asyncpg
import pytest
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st

from tests.factories import make_campaign
from voting_service.repos import votes as votes_repo

FAST, SEQ, BUCKET = 5, 4, 60

RECOUNT = """
WITH v AS (SELECT * FROM votes WHERE campaign_id = $1),
tagged AS (
    SELECT v.*, k.kind, k.key FROM v CROSS JOIN LATERAL (VALUES
        ('net', v.ip_net::text), ('ip', nullif(v.ip_hash, '')),
        ('ua', v.ua_class || '.' || CASE WHEN v.page_token THEN 't' ELSE 'n' END || '.'
               || CASE WHEN v.ua_class <> 'browser' THEN 'x' WHEN v.signin_s < $2 THEN 'f' ELSE 's' END || '.'
               || coalesce(v.accept_lang, '')),
        ('blk', v.num_block), ('cand', v.candidate_id::text), ('all', '')) AS k (kind, key)
    WHERE k.key IS NOT NULL
)
SELECT kind, key, count(*) AS votes, count(*) FILTER (WHERE signin_s < $2) AS fast_votes,
       count(*) FILTER (WHERE ua_class IN ('headless', 'script')) AS auto_votes,
       count(*) FILTER (WHERE NOT page_token) AS tokenless_votes, count(*) FILTER (WHERE seq_run >= $3) AS seq_votes,
       count(signin_s) AS dt_n, coalesce(sum(least(signin_s, 3600)) FILTER (WHERE signin_s IS NOT NULL), 0)::float8 AS dt_sum,
       coalesce(sum(least(signin_s, 3600)::float8 ^ 2) FILTER (WHERE signin_s IS NOT NULL), 0)
           AS dt_sq, min(cast_at) AS first_at, max(cast_at) AS last_at,
       count(DISTINCT hashtext(voter) & 1023) AS voter_bits_set, count(DISTINCT hashtext(ip_net::text) & 255)
           FILTER (WHERE ip_net IS NOT NULL) AS net_bits_set
FROM tagged GROUP BY kind, key
"""

SUMMARY = """
SELECT kind, key, votes, fast_votes, auto_votes, tokenless_votes, seq_votes, dt_n, dt_sum, dt_sq, first_at, last_at,
       bit_count(voter_bits) AS voter_bits_set, bit_count(net_bits) AS net_bits_set, top_votes, top_candidate, suspect
FROM fraud_clusters WHERE campaign_id = $1
"""

signal = st.tuples(
    st.one_of(st.none(), st.integers(0, 5000)),                                   # signin_s
    st.sampled_from(["browser", "headless", "script"]), st.booleans(),            # ua_class, page_token
    st.sampled_from(["", "ru", "kk"]), st.sampled_from(["bA", "bB", "bC", None]),  # accept_lang, num_block
    st.integers(0, 9))                                                            # seq_run
vote = st.tuples(st.integers(0, 40), st.integers(0, 3), st.integers(0, 5), st.sampled_from(["", "h1", "h2", "h3"]),
                 st.sampled_from([None, "10.0.0.0/24", "10.0.1.0/24", "2001:db8::/64"]), st.integers(0, 600_000),
                 signal)


def _rows(campaign_id: int, candidates: list[int], votes: list[tuple]) -> list[tuple]:
    out = []
    for vid, cand, voter, ih, net, ms, (dt, ua, pt, lang, blk, seq) in votes:
        signals = (dt, ua, pt, "701", lang, blk, seq) if dt is not None else (None,) * 7
        out.append((campaign_id, f"v{vid}", candidates[cand], f"voter{voter}", ih, net, 1_767_225_600_000 + ms,
                    *signals))
    return out


@pytest.fixture
async def campaign(pool, redis):
    return await make_campaign(pool, redis, candidates=4, k=3)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
           phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking through Postgres is slow
@given(batches=st.lists(st.lists(vote, min_size=1, max_size=25, unique_by=lambda v: v[0]), min_size=1, max_size=5),
       redeliver=st.lists(st.integers(0, 4), max_size=3))
async def test_summaries_equal_a_recount_of_the_votes_after_any_batches_and_redeliveries(
        flusher_pool, pool, campaign, batches, redeliver):
    cid = campaign.id
    async with pool.acquire() as conn:  # a fresh start for each example
        for t in ("votes", "fraud_clusters", "fraud_cluster_candidates", "fraud_cluster_buckets", "fraud_kind_totals"):
            await conn.execute(f"DELETE FROM {t} WHERE campaign_id = $1", cid)
    sent = [_rows(cid, campaign.candidate_ids, b) for b in batches]
    sent += [sent[i] for i in redeliver if i < len(sent)]  # the same batch again: nothing may change
    for rows in sent:
        async with flusher_pool.acquire() as conn, conn.transaction():  # as the flusher's role does
            await votes_repo.insert_batch(conn, rows, bucket_s=BUCKET, fast_s=FAST, seq_run=SEQ)

    async with pool.acquire() as conn:
        recount = {(r["kind"], r["key"]): dict(r) for r in await conn.fetch(RECOUNT, cid, FAST, SEQ)}
        summary = {(r["kind"], r["key"]): dict(r) for r in await conn.fetch(SUMMARY, cid)}
        assert set(summary) == set(recount)
        for key, want in recount.items():
            got = summary[key]
            for col in ("votes", "fast_votes", "auto_votes", "tokenless_votes", "seq_votes", "dt_n", "first_at",
                        "last_at"):
                assert got[col] == want[col], (key, col, got, want)
            assert got["dt_sum"] == pytest.approx(want["dt_sum"]) and got["dt_sq"] == pytest.approx(want["dt_sq"])
            if key[0] in ("net", "ua", "blk"):
                assert got["voter_bits_set"] == want["voter_bits_set"], key
            if key[0] in ("ua", "blk", "cand"):
                assert (got["net_bits_set"] or 0) == want["net_bits_set"], key  # no network: no bit
        per_cand = {(r["kind"], r["key"], r["candidate_id"]): r["votes"] for r in await conn.fetch(
            "SELECT kind, key, candidate_id, votes FROM fraud_cluster_candidates WHERE campaign_id = $1", cid)}
        want_cand = {(r["kind"], r["key"], r["candidate_id"]): r["n"] for r in await conn.fetch(
            """SELECT k.kind, k.key, v.candidate_id, count(*) AS n FROM votes v CROSS JOIN LATERAL (VALUES
                   ('net', v.ip_net::text), ('ip', nullif(v.ip_hash, '')), ('blk', v.num_block),
                   ('ua', v.ua_class || '.' || CASE WHEN v.page_token THEN 't' ELSE 'n' END || '.'
                          || CASE WHEN v.ua_class <> 'browser' THEN 'x' WHEN v.signin_s < $2 THEN 'f' ELSE 's' END
                          || '.' || coalesce(v.accept_lang, ''))
               ) AS k (kind, key) WHERE v.campaign_id = $1 AND k.key IS NOT NULL GROUP BY 1, 2, 3""", cid, FAST)}
        assert per_cand == want_cand
        for (kind, key), got in summary.items():  # the kept top candidate is a candidate with the most votes
            if kind in ("net", "ip", "ua", "blk"):
                counts = {c: n for (k, kk, c), n in per_cand.items() if (k, kk) == (kind, key)}
                assert got["top_votes"] == max(counts.values()) and counts[got["top_candidate"]] == got["top_votes"]
            # the stored predicate of the partial index the review reads (migration 0009), from the counts
            v, top = got["votes"], got["top_votes"] or 0
            assert got["suspect"] == (v >= 8 and (
                got["auto_votes"] * 2 >= v or got["fast_votes"] * 2 >= v or got["seq_votes"] * 2 >= v
                or (top >= 8 and top * 5 >= v)
                or (got["dt_n"] >= 10 and got["dt_sq"] * got["dt_n"] <= 1.1225 * got["dt_sum"] ** 2))), (kind, key)
        buckets = {(r["kind"], r["key"], r["bucket"]): r["votes"] for r in await conn.fetch(
            "SELECT kind, key, bucket, votes FROM fraud_cluster_buckets WHERE campaign_id = $1", cid)}
        want_buckets = {(r["kind"], r["key"], r["b"]): r["n"] for r in await conn.fetch(
            """SELECT k.kind, k.key, to_timestamp(floor(extract(epoch FROM cast_at) / $2) * $2) AS b, count(*) AS n
               FROM votes v CROSS JOIN LATERAL (VALUES ('cand', v.candidate_id::text), ('all', '')) AS k (kind, key)
               WHERE v.campaign_id = $1 GROUP BY 1, 2, 3""", cid, BUCKET)}
        assert buckets == want_buckets
        totals = {r["kind"]: (r["clusters"], r["votes"]) for r in await conn.fetch(
            "SELECT kind, clusters, votes FROM fraud_kind_totals WHERE campaign_id = $1", cid)}
        want_totals = {}
        for (kind, _), r in recount.items():
            n, v = want_totals.get(kind, (0, 0))
            want_totals[kind] = (n + 1, v + r["votes"])
        assert totals == want_totals


async def test_only_the_flusher_writes_summaries_and_the_admin_reads_them(admin_pool, voting_pool, pool, campaign):
    async with pool.acquire() as conn, conn.transaction():
        await votes_repo.insert_batch(conn, _rows(campaign.id, campaign.candidate_ids, [
            (1, 0, 1, "h1", "10.0.0.0/24", 5, (10, "browser", True, "ru", "bA", 0))]))
    assert await admin_pool.fetchval("SELECT votes FROM fraud_clusters WHERE campaign_id = $1 AND kind = 'all'",
                                     campaign.id) == 1
    await admin_pool.execute("UPDATE fraud_clusters SET invalid_votes = invalid_votes + 1 WHERE campaign_id = $1",
                             campaign.id)
    for sql in ("UPDATE fraud_clusters SET votes = 0", "DELETE FROM fraud_clusters",
                "INSERT INTO fraud_kind_totals VALUES (1, 'all', 1, 1, 60, 5)", "DELETE FROM fraud_cluster_buckets"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await admin_pool.execute(sql)
    for sql in ("SELECT * FROM fraud_clusters", "SELECT num_block FROM votes"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await voting_pool.fetch(sql)
