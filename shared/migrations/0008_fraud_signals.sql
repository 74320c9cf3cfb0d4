-- Live fraud signals recorded with each vote, and per-cluster summaries the flusher keeps up to date in the
-- same transaction as it writes each batch (issue 12 items 3 and 4; docs/fraud.md).
--
-- Signals (NULL: not known, e.g. a vote cast with a token issued before this migration):
--   signin_s     whole seconds from the voter's sign-in (the token's iat) to this vote
--   ua_class     'browser', 'headless' or 'script' (the User-Agent, classified by the voting service)
--   page_token   the vote came from the portal's page (its form token present); API calls lack it
--   operator     the phone's operator code after +7 ('701', '747', '777'): not identifying
--   accept_lang  the primary language of Accept-Language ('ru', 'kk', 'en'; '' when absent)
--   num_block    keyed hash of the phone's block of 100 numbers (phone // 100): never the number
--   seq_run      the longest run of sequential numbers signed in from that block in the sliding window at sign-in
ALTER TABLE votes
    ADD COLUMN signin_s    integer,
    ADD COLUMN ua_class    text,
    ADD COLUMN page_token  boolean,
    ADD COLUMN operator    text,
    ADD COLUMN accept_lang text,
    ADD COLUMN num_block   text,
    ADD COLUMN seq_run     smallint;

-- A cluster: the votes of one campaign sharing one key of one kind:
--   net   the /24 or /64 (ip_net::text)          ip    the keyed address hash
--   ua    the client signature '<ua_class>.<t|n page token>.<f|s fast or slow after sign-in; x unless a
--         browser>.<accept_lang>'
--   blk   the keyed number-block hash           cand  a candidate id (its totals: the bursts' baseline)
--   all   '' (the campaign's totals)
-- Every count is of votes inserted for the first time (the flusher's INSERT ... ON CONFLICT DO NOTHING
-- RETURNING feeds them), so a re-delivered batch adds nothing. voter_bits / net_bits are linear-counting
-- bitmaps (bit hashtext(x) & (size - 1) set per voter / network; OR is idempotent): distinct voters and /24s
-- are estimated from the share of zero bits without keeping the set.
CREATE TABLE fraud_clusters (
    campaign_id      bigint NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('net', 'ip', 'ua', 'blk', 'cand', 'all')),
    key              text COLLATE "C" NOT NULL,
    votes            bigint NOT NULL,
    fast_votes       bigint NOT NULL,   -- signin_s below the flusher's fast threshold
    auto_votes       bigint NOT NULL,   -- ua_class headless or script
    tokenless_votes  bigint NOT NULL,   -- page_token false
    seq_votes        bigint NOT NULL,   -- seq_run at or above the sequential threshold
    dt_n             bigint NOT NULL,   -- votes with a known signin_s, their sum and sum of squares (capped)
    dt_sum           float8 NOT NULL,
    dt_sq            float8 NOT NULL,
    first_at         timestamptz NOT NULL,
    last_at          timestamptz NOT NULL,
    invalid_votes    bigint NOT NULL DEFAULT 0,  -- kept by the admin service as it invalidates votes
    top_votes        bigint,            -- the most votes one candidate has in the cluster (net, ip, ua, blk)
    top_candidate    bigint,            -- that candidate (counts only grow, so the maximum is kept exactly)
    voter_bits       bit(1024),
    net_bits         bit(256),
    PRIMARY KEY (campaign_id, kind, key)
);
-- The clusters a detector may flag (admin_service/services/fraud.py): at least 8 votes and one of the loosest
-- forms of its conditions. The review reads this index only, never the millions of ordinary clusters; the
-- service's thresholds must stay at least as strict as these constants.
CREATE INDEX fraud_clusters_suspects ON fraud_clusters (campaign_id, kind)
    WHERE votes >= 8 AND (auto_votes * 2 >= votes OR fast_votes * 2 >= votes OR seq_votes * 2 >= votes
                          OR top_votes >= 8 OR (dt_n >= 10 AND dt_sq * dt_n <= 1.1225 * dt_sum * dt_sum));

-- Votes per cluster and candidate ("voting for the same candidates"): kinds net, ip, ua, blk.
CREATE TABLE fraud_cluster_candidates (
    campaign_id   bigint NOT NULL,
    kind          text NOT NULL,
    key           text COLLATE "C" NOT NULL,
    candidate_id  bigint NOT NULL,
    votes         bigint NOT NULL,
    PRIMARY KEY (campaign_id, kind, key, candidate_id)
);

-- Votes per time bucket (fraud_kind_totals.bucket_s wide, 60 s in production): kinds cand and all.
CREATE TABLE fraud_cluster_buckets (
    campaign_id   bigint NOT NULL,
    kind          text NOT NULL,
    key           text COLLATE "C" NOT NULL,
    bucket        timestamptz NOT NULL,
    votes         bigint NOT NULL,
    PRIMARY KEY (campaign_id, kind, key, bucket)
);
-- A candidate's busiest buckets first (the burst detector reads each candidate's buckets above a floor).
CREATE INDEX fraud_cluster_buckets_votes ON fraud_cluster_buckets (campaign_id, key, votes) WHERE kind = 'cand';

-- Per campaign and kind: how many clusters and votes (the baselines) and the thresholds the flusher uses.
CREATE TABLE fraud_kind_totals (
    campaign_id  bigint NOT NULL,
    kind         text NOT NULL,
    clusters     bigint NOT NULL,
    votes        bigint NOT NULL,
    bucket_s     integer NOT NULL CHECK (bucket_s > 0),
    fast_s       integer NOT NULL,  -- the flusher's fast-after-sign-in threshold (the 'f' of a ua key)
    PRIMARY KEY (campaign_id, kind)
);

-- Grants: those of 0007 (kept under another name), then these. The flusher writes the signals and the
-- summaries (it still reads only the vote's key back); the admin service only reads the summaries
-- (0005's rule would give it write access to tables it does not list: taken back), except the count of
-- invalidated votes per cluster, which it keeps as it invalidates.
ALTER FUNCTION faces_apply_grants() RENAME TO faces_apply_grants_0007;
REVOKE ALL ON FUNCTION faces_apply_grants_0007() FROM PUBLIC;

CREATE FUNCTION faces_apply_grants() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM faces_apply_grants_0007();
    GRANT INSERT (signin_s, ua_class, page_token, operator, accept_lang, num_block, seq_run) ON votes
        TO faces_flusher_grp;
    GRANT SELECT, INSERT, UPDATE ON fraud_clusters, fraud_cluster_candidates, fraud_cluster_buckets,
                                    fraud_kind_totals TO faces_flusher_grp;
    REVOKE INSERT, UPDATE, DELETE ON fraud_clusters, fraud_cluster_candidates, fraud_cluster_buckets,
                                     fraud_kind_totals FROM faces_admin_grp;
    GRANT UPDATE (invalid_votes) ON fraud_clusters TO faces_admin_grp;
END
$$;
REVOKE ALL ON FUNCTION faces_apply_grants() FROM PUBLIC;

SELECT faces_apply_grants();
