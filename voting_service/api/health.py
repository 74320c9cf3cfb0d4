"""Liveness and readiness. Ready means the vote store (Redis) answers: votes need nothing else."""

from __future__ import annotations

import asyncio

import redis.exceptions
from litestar import Controller, get

from shared.errors import Unavailable
from voting_service.models import Health
from voting_service.state import AppServices


class HealthController(Controller):
    path = "/health"
    include_in_schema = True
    tags = ["health"]

    @get("/live", operation_id="live", cache=False)
    async def live(self) -> Health:
        return Health(status="ok")

    @get("/ready", operation_id="ready", cache=False)
    async def ready(self, services: AppServices) -> Health:
        try:
            async with asyncio.timeout(1.0):
                await services.redis.ping()
        except (redis.exceptions.RedisError, OSError, TimeoutError) as exc:
            raise Unavailable("Redis is not answering.") from exc
        return Health(status="ready")
