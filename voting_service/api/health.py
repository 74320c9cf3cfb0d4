"""Liveness and readiness. Ready means the vote store (Redis) answers: votes need nothing else."""

from __future__ import annotations

import asyncio

import redis.exceptions
from litestar import Controller, Request, get

from shared.errors import Unavailable
from voting_service.deps import services


class HealthController(Controller):
    path = "/health"
    include_in_schema = True
    tags = ["health"]

    @get("/live", operation_id="live", cache=False)
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", operation_id="ready", cache=False)
    async def ready(self, request: Request) -> dict[str, str]:
        r = services(request).redis
        try:
            async with asyncio.timeout(1.0):
                await r.ping()
        except (redis.exceptions.RedisError, OSError, TimeoutError) as exc:
            raise Unavailable("Redis is not answering.") from exc
        return {"status": "ready"}
