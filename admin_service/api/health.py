"""Liveness and readiness probes."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from admin_service.services import readiness
from admin_service.state import AppServices
from shared.errors import Unavailable

READY_TIMEOUT_S = 1.0


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    status: str
    checks: dict[str, str] = {}


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", operation_id="healthLive", summary="The process is up")
    async def live(self) -> Health:
        return Health(status="ok")

    @get("/ready", operation_id="healthReady", summary="Postgres and Redis answer within a second")
    async def ready(self, services: AppServices) -> Health:
        checks = await readiness.check(pool=services.pool, redis=services.redis, timeout_s=READY_TIMEOUT_S)
        down = sorted(name for name, state in checks.items() if state != readiness.OK)
        if down:
            exc = Unavailable(f"not answering: {', '.join(down)}", key="stores_down")
            exc.extra = {"checks": checks}
            raise exc
        return Health(status="ok", checks=checks)
