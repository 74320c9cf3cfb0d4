-- The burst detector's reads, index-only (admin_service/repos/fraud.py BURSTS and BUCKETS_AROUND; docs/fraud.md):
-- each candidate's buckets from a floor up, with the bucket in the index so the heap is never visited
-- (replaces 0008's fraud_cluster_buckets_votes, which had to fetch every row it read from the heap), and the
-- campaign's own buckets with their votes (the baseline every candidate bucket is compared with).
-- Cost to the flusher: none for candidate buckets (one index instead of one); one more index entry per batch
-- for the campaign's bucket row.
CREATE INDEX fraud_cluster_buckets_cand ON fraud_cluster_buckets (campaign_id, key, votes) INCLUDE (bucket)
    WHERE kind = 'cand';
DROP INDEX fraud_cluster_buckets_votes;
CREATE INDEX fraud_cluster_buckets_all ON fraud_cluster_buckets (campaign_id, bucket) INCLUDE (votes)
    WHERE kind = 'all' AND key = '';
