"""Reconcile: after the streams drain, the Redis tally of every candidate must equal its Postgres count.

Run by the admin service before finalising (admin_service/services/finalise.py) and by the command below.

``python -m voting_service reconcile [--campaign ID] [--wait S]`` prints one line per difference and
exits 1 if there is any (or if the streams did not drain in time), 0 when everything matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as aioredis

from shared.votestore import repo
from shared.votestore.drain import registered_shards, wait_drained
from shared.votestore.tally import tallies


@dataclass
class CampaignReport:
    campaign_id: int
    redis_total: int = 0
    postgres_total: int = 0
    undrained: int = 0
    differences: dict[str, tuple[int, int]] = field(default_factory=dict)  # candidate -> (redis, postgres)

    @property
    def clean(self) -> bool:
        return not self.differences and self.undrained == 0


async def reconcile(pool: asyncpg.Pool, r: aioredis.Redis, *, campaign_id: int | None = None,
                    wait_s: float = 30.0) -> list[CampaignReport]:
    by_campaign = await registered_shards(r)
    if campaign_id is not None:
        by_campaign = {campaign_id: by_campaign.get(campaign_id, [0])}
    reports = []
    for cid, shards in sorted(by_campaign.items()):
        undrained = await wait_drained(r, cid, shards, wait_s)
        in_redis = await tallies(r, cid, max(shards) + 1)
        async with pool.acquire() as conn:
            in_pg = {str(k): v for k, v in (await repo.counts(conn, campaign_id=cid)).items()}
        rep = CampaignReport(cid, sum(in_redis.values()), sum(in_pg.values()), undrained)
        for cand in sorted(set(in_redis) | set(in_pg), key=int):
            a, b = in_redis.get(cand, 0), in_pg.get(cand, 0)
            if a != b:
                rep.differences[cand] = (a, b)
        reports.append(rep)
    return reports


def format_reports(reports: list[CampaignReport]) -> str:
    lines = []
    for rep in reports:
        state = "clean" if rep.clean else "MISMATCH"
        lines.append(f"campaign {rep.campaign_id}: {state} redis={rep.redis_total} postgres={rep.postgres_total}"
                     f" undrained={rep.undrained}")
        for cand, (a, b) in rep.differences.items():
            lines.append(f"  candidate {cand}: redis={a} postgres={b} diff={a - b:+d}")
    if not reports:
        lines.append("no campaigns to reconcile")
    return "\n".join(lines)
