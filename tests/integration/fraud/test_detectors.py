"""Each detector flags its attack and not the organic crowd: labelled rows (loadtests/fraud_traffic.py) go
through the flusher's own statement into real Postgres, the review reads the summaries, and the votes of every
flagged cluster (by its cluster id, as an invalidation would take them) are compared with the labels."""

from __future__ import annotations

from collections import Counter

from admin_service.services import fraud
from loadtests.fraud_traffic import ATTACKS, Traffic, scenario
from tests.factories import make_campaign
from voting_service.repos import votes as votes_repo


async def _load(pool, traffic: Traffic) -> None:
    for batch in traffic.batches(1500):
        async with pool.acquire() as conn, conn.transaction():
            await votes_repo.insert_batch(conn, batch, bucket_s=60, fast_s=5, seq_run=4)


async def _review(pool, campaign_id: int) -> tuple[list[dict], dict[str, set[str]]]:
    async with pool.acquire() as conn:
        items = await fraud.compute_flags(conn, campaign_id)
    flagged: dict[str, set[str]] = {}
    for item in items:
        flagged[item["cluster_id"]] = set(await fraud.cluster_vote_ids(pool, campaign_id=campaign_id,
                                                                         cluster_id=item["cluster_id"]))
    return items, flagged


def _rates(traffic: Traffic, flagged: dict[str, set[str]]) -> dict[str, float]:
    hit = set().union(*flagged.values()) if flagged else set()
    votes = Counter(traffic.labels.values())
    caught = Counter(traffic.labels[v] for v in hit)
    out = {f"recall_{a}": caught[a] / votes[a] for a in ATTACKS if votes[a]}
    organic_voters = {r[3] for r in traffic.rows if traffic.labels[r[1]] == "organic"}
    flagged_voters = {r[3] for r in traffic.rows if traffic.labels[r[1]] == "organic" and r[1] in hit}
    out["organic_false_positive_rate"] = len(flagged_voters) / len(organic_voters)
    return out


async def test_every_attack_is_flagged_and_the_crowd_is_not(pool, redis):
    camp = await make_campaign(pool, redis, candidates=12, k=3)
    traffic = scenario(camp.id, camp.candidate_ids, organic=3000, seed=7)
    await _load(pool, traffic)
    items, flagged = await _review(pool, camp.id)
    rates = _rates(traffic, flagged)
    assert all(rates[f"recall_{a}"] >= 0.95 for a in ATTACKS), (rates, [i["cluster_id"] for i in items])
    assert rates["organic_false_positive_rate"] <= 0.005, (rates, [i["cluster_id"] for i in items])

    signals = {i["cluster_id"]: {s["signal"] for s in i["signals"]} for i in items}
    farm = signals["net:203.0.113.0/24"]
    assert {"same_candidates", "automated_clients", "fast_after_signin"} <= farm, farm
    rotating = next(s for cid, s in signals.items() if cid.startswith("ua:headless.t.x."))
    assert {"rotation_across_networks", "automated_clients", "fast_after_signin"} <= rotating, rotating
    blocks = [s for cid, s in signals.items() if cid.startswith("blk:")]
    assert len(blocks) == 1 and {"sequential_numbers", "machine_regular_timing", "same_candidates"} <= blocks[0]
    bursts = [cid for cid in signals if cid.startswith("burst:")]
    # the paid voters' candidate (and the rotating farm's, whose 80 votes in 4 minutes are a burst too)
    assert str(camp.candidate_ids[8]) in {b.split(":")[1] for b in bursts}, bursts
    assert {b.split(":")[1] for b in bursts} <= {str(camp.candidate_ids[i]) for i in (5, 6, 7, 8)}, bursts
    # every flag explains itself
    assert all(i["score"] > 0 and all(s["reason"] for s in i["signals"]) for i in items)


async def test_a_burst_is_listed_with_its_own_minutes_and_a_listed_farm_is_not_listed_again(pool, redis):
    """The paid voters' burst covers the minutes they voted in (plus at most an adjacent minute with its own
    excess), not a blind margin of the candidate's organic minutes; the one-/24 farm's votes for its favourite
    are a burst too, but its network and signature already name exactly them: no burst is listed for it."""
    camp = await make_campaign(pool, redis, candidates=12, k=3)
    c = camp.candidate_ids
    traffic = Traffic(camp.id, c, seed=5)
    traffic.organic(3000, duration_s=4 * 3600)
    traffic.farm_one_24(60, at_s=3600, cand=c[5])
    traffic.paid_burst(120, at_s=3 * 3600 + 30, cand=c[8], within_s=60)
    await _load(pool, traffic)
    items, flagged = await _review(pool, camp.id)
    bursts = {i["cluster_id"].split(":")[1]: i for i in items if i["kind"] == "burst"}
    assert set(bursts) == {str(c[8])}, list(bursts)
    assert "net:203.0.113.0/24" in flagged
    paid = bursts[str(c[8])]
    start, end = (int(x) for x in paid["cluster_id"].split(":")[2].split("-"))
    assert end - start <= 3 * 60, paid["cluster_id"]  # 60 s of paid votes straddle at most two minutes
    labels = [traffic.labels[v] for v in flagged[paid["cluster_id"]]]
    assert labels.count("paid_burst") == 120 and labels.count("organic") <= 12, labels
    signal = paid["signals"][0]
    assert signal["signal"] == "burst" and signal["score"] >= 1 and signal["value"] >= signal["threshold"]


async def test_an_organic_crowd_with_nat_and_a_broadcast_surge_raises_no_flag(pool, redis):
    camp = await make_campaign(pool, redis, candidates=12, k=3)
    traffic = Traffic(camp.id, camp.candidate_ids, seed=11)
    traffic.organic(4000, duration_s=3 * 3600, cgnat_share=0.4, cgnat_addresses=10)
    await _load(pool, traffic)
    items, _ = await _review(pool, camp.id)
    assert items == []
    # the shared addresses are there, and big: many voters alone do not make a flag
    async with pool.acquire() as conn:
        biggest = await conn.fetchval("SELECT max(votes) FROM fraud_clusters WHERE campaign_id = $1 AND kind = 'ip'",
                                      camp.id)
    assert biggest >= 200


async def test_the_review_reads_no_votes(pool, redis):
    """The listing's statements, explained: no scan of votes at all (only summaries), the cluster statement
    through the partial index of suspects, the bursts' through the covering indexes of candidate and campaign
    buckets."""
    from admin_service.repos import fraud as repo

    camp = await make_campaign(pool, redis, candidates=12, k=3)
    await _load(pool, scenario(camp.id, camp.candidate_ids, organic=500, seed=3))
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE fraud_clusters; ANALYZE fraud_cluster_buckets; ANALYZE fraud_kind_totals")
        plans = []
        first = await conn.fetchval("SELECT min(bucket) FROM fraud_cluster_buckets WHERE campaign_id = $1", camp.id)
        for sql, args in ((repo.CLUSTER_STATS, (camp.id, list(fraud.CLUSTER_KINDS))),
                          (repo.BURSTS, (camp.id, 8, 1.25, 5.0)), (repo.TOTALS, (camp.id,)),
                          (repo.CAMPAIGN_SPAN, (camp.id,)),
                          (repo.BUCKETS_AROUND, (camp.id, camp.candidate_ids[:2], [first] * 2, [first] * 2))):
            await conn.execute("SET enable_seqscan = off")  # what the plan would be at scale (tables are tiny)
            plans.append("\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sql}", *args)))
            await conn.execute("RESET enable_seqscan")
    for plan in plans:
        assert " votes" not in plan.replace("fraud_", "_"), plan
        assert "Seq Scan" not in plan, plan
    assert "fraud_clusters_suspects" in plans[0], plans[0]
    # bursts: each candidate's buckets and the campaign's, from the covering indexes of migration 0010
    assert "fraud_cluster_buckets_cand" in plans[1] and "fraud_cluster_buckets_all" in plans[1], plans[1]
