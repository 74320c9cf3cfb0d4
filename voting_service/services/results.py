"""Live results (sum of per-shard tallies) and receipt lookups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from shared.errors import Forbidden, NotFound
from shared.repos.campaigns import public_status
from shared.votestore.receipts import in_stream, parse_receipt
from shared.votestore.tally import tallies
from voting_service.repos import votes as votes_repo
from voting_service.services.directory import CampaignDirectory, TTLCache


class ResultsHidden(Forbidden):
    code = "results_hidden"
    title = "Results are not public yet"


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    title = "Receipt not found"


class Results:
    def __init__(self, *, redis: aioredis.Redis, directory: CampaignDirectory, ttl_s: float) -> None:
        self._redis = redis
        self._directory = directory
        self._cache: TTLCache[dict[str, Any]] = TTLCache(ttl_s)

    async def live(self, campaign_id: int) -> dict[str, Any]:
        row = await self._directory.get(campaign_id)
        if not row["live_results"] and row["state"] != "finalised":
            raise ResultsHidden("Results of this campaign are published after it is finalised.")
        return await self._cache.get(campaign_id, lambda: self._compute(campaign_id, row))

    async def _compute(self, campaign_id: int, row: Any) -> dict[str, Any]:
        counts = await tallies(self._redis, campaign_id, row["shards"])
        ballot = await self._directory.ballot(campaign_id)
        for cand in ballot:
            counts.setdefault(str(cand["id"]), 0)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], int(kv[0])))
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        return {
            "campaign_id": str(campaign_id),
            "status": public_status(row, now_ms),
            "total_votes": sum(counts.values()),
            "candidates": [{"candidate_id": c, "votes": n} for c, n in ordered],
            "as_of": datetime.now(UTC),
        }


class Receipts:
    def __init__(self, *, redis: aioredis.Redis, pool: asyncpg.Pool) -> None:
        self._redis = redis
        self._pool = pool

    async def _in_postgres(self, campaign_id: int, receipt: str) -> str | None:
        async with self._pool.acquire() as conn:
            return await votes_repo.receipt_status(conn, campaign_id=campaign_id, vote_id=receipt)

    async def status(self, receipt: str) -> dict[str, str]:
        parsed = parse_receipt(receipt)
        if parsed is None:
            raise ReceiptNotFound("No vote has this receipt.")
        campaign_id, shard, stream_id, nonce = parsed
        status = await self._in_postgres(campaign_id, receipt)
        if status is None:
            if await in_stream(self._redis, campaign_id, shard, stream_id, nonce):
                status = "accepted"
            else:
                # The flusher may have committed and trimmed it between the two reads.
                status = await self._in_postgres(campaign_id, receipt)
        if status is None:
            raise ReceiptNotFound("No vote has this receipt.")
        return {"receipt": receipt, "campaign_id": str(campaign_id), "status": status}
