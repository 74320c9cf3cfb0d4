"""Fraud review: the clusters of a campaign's votes that look like farms, bursts or bots, with the reasons."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, QueryParameter

from admin_service.auth.guards import roles
from admin_service.models_out import FraudFlagsOut, answer
from admin_service.services import fraud as service
from admin_service.services.common import parse_id
from admin_service.state import AppServices


class FraudController(Controller):
    path = "/campaigns/{campaign_id:str}/fraud"
    tags = ["fraud"]
    guards = [roles("secretariat", "working_group", "auditor")]

    @get("/flags", operation_id="fraudFlags")
    async def flags(
        self,
        services: AppServices,
        campaign_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_LIMIT)] = service.DEFAULT_LIMIT,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        kind: FromQuery[Literal["net", "ip", "ua", "blk", "burst"] | None] = None,
    ) -> FraudFlagsOut:
        """Clusters (``net:<cidr>``, ``ip:<ip_hash>``, ``ua:<signature>``, ``blk:<block hash>``,
        ``burst:<candidate>:<from>-<to>``) with at least one suspicious signal, highest score first."""
        return answer(FraudFlagsOut, await service.flags(
            services.pool, campaign_id=parse_id(campaign_id, "campaign"), limit=limit, offset=offset,
            kind=kind, cache=services.fraud_flags))
