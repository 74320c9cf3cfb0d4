"""The voting app's one service object (shared/wiring.py), built in the lifespan from settings and resources.

Handlers get it as ``services: NamedDependency[Services]``; the vote fast path reads the same object from the
app it wraps (voting_service/fastpath.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import asyncpg
import redis.asyncio as aioredis
from litestar.di import NamedDependency

from shared.crypto import VoterTokens
from shared.settings import Settings
from shared.client_ip import ClientIPResolver
from voting_service.portal.reads import PortalReads
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import CampaignDirectory, RouteTable
from voting_service.services.guard import Guard
from voting_service.services.nominations import NominationService
from voting_service.services.otp import OtpService
from voting_service.services.proofs import TreeHeads
from voting_service.services.results import Receipts, Results
from voting_service.services.sms import HttpGatewaySender, OutboxSender, SmsSender


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    tokens: VoterTokens
    client_ips: ClientIPResolver
    directory: CampaignDirectory
    ballot_box: BallotBox
    otp: OtpService
    sms: SmsSender
    results: Results
    receipts: Receipts
    nominations: NominationService
    portal: PortalReads
    guard: Guard  # layered limits and proof of work (voting_service/services/guard.py)

    @classmethod
    def build(cls, settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> Services:
        tokens = VoterTokens(settings.secrets.token_keys, settings.voter_token_ttl_s)
        sms: SmsSender
        if settings.sms_outbox:
            sms = OutboxSender(redis)
        else:
            sms = HttpGatewaySender(settings.sms_gateway_url, settings.sms_gateway_token)
        directory = CampaignDirectory(pool, settings.campaign_cache_s)
        routes = RouteTable(redis, settings.campaign_cache_s)
        trees = TreeHeads(pool)
        guard = Guard(settings=settings, redis=redis)  # layered limits and proof of work (issue 12)
        return cls(
            settings=settings, pool=pool, redis=redis, tokens=tokens,
            client_ips=ClientIPResolver(settings.trusted_proxies),
            directory=directory,
            ballot_box=BallotBox(settings=settings, redis=redis, routes=routes, guard=guard),
            otp=OtpService(settings=settings, redis=redis, sms=sms, tokens=tokens, guard=guard),
            sms=sms,
            results=Results(redis=redis, directory=directory, ttl_s=settings.campaign_cache_s, pool=pool,
                            trees=trees),
            receipts=Receipts(redis=redis, pool=pool, trees=trees),
            nominations=NominationService(settings=settings, pool=pool, redis=redis, guard=guard),
            portal=PortalReads(pool, directory, settings.campaign_cache_s),
            guard=guard,
        )

    async def close(self) -> None:
        await self.ballot_box.close()
        await self.sms.close()


# What a handler declares to be given the app's services: ``services: AppServices`` (shared/wiring.py).
AppServices: TypeAlias = NamedDependency[Services]
