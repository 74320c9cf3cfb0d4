-- Cheaper summaries for the flusher (docs/performance.md, "Eighth measurement").
--
-- The partial index fraud_clusters_suspects (0008) had the counts in its predicate, and Postgres treats a
-- column of an index predicate as indexed: every update of a cluster's counts, i.e. nearly every summary row
-- the flusher touches with every batch, was a non-HOT update (a new heap tuple on another page and a new entry
-- in the primary key). The predicate now lives in a stored generated column, `suspect`, and the index is on
-- that column only: an update that leaves `suspect` as it was (almost all of them) changes no indexed column,
-- and with free space kept on each page (fillfactor) it stays on its page and touches no index.
--
-- The predicate is the loosest form of the detectors' conditions (admin_service/services/fraud.py: the service's
-- thresholds must stay at least as strict). One term is tighter than 0008's: a top candidate with 8 votes counts
-- only if it also holds a fifth of the cluster (same_candidates needs both, FOCUS_SHARE), or every network of ~100
-- votes would be a suspect (at 30 M votes: 19 004 suspects instead of 94 449, docs/fraud.md).
DROP INDEX fraud_clusters_suspects;
ALTER TABLE fraud_clusters
    ADD COLUMN suspect boolean NOT NULL GENERATED ALWAYS AS (coalesce(
        votes >= 8 AND (auto_votes * 2 >= votes OR fast_votes * 2 >= votes OR seq_votes * 2 >= votes
                        OR (top_votes >= 8 AND top_votes * 5 >= votes) OR (dt_n >= 10 AND dt_sq * dt_n <= 1.1225 * dt_sum * dt_sum)),
        false)) STORED;
CREATE INDEX fraud_clusters_suspects ON fraud_clusters (campaign_id, kind) WHERE suspect;
ALTER TABLE fraud_clusters SET (fillfactor = 70);
-- Per-candidate rows only ever update `votes`, which no index holds: room for their HOT updates too.
ALTER TABLE fraud_cluster_candidates SET (fillfactor = 80);
