"""The admin app's one service object (shared/wiring.py): settings, resources and the services built on them.

Built once per app instance — in the lifespan, or by the factory when tests hand in the pool and Redis — and
given to handlers as ``services: NamedDependency[Services]``; guards reach it through ``deps.services_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import asyncpg
import redis.asyncio as aioredis
from litestar.di import NamedDependency

from admin_service.auth.passwords import Passwords
from admin_service.services.account import AccountService
from admin_service.services.common import sealer_for
from admin_service.services.fraud import FlagsCache
from admin_service.services.sessions import SessionService
from admin_service.services.tree_head import TreeHeadSigner
from shared.client_ip import ClientIPResolver
from shared.crypto import ContactOpener
from shared.settings import Settings


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    passwords: Passwords
    sessions: SessionService
    account: AccountService
    fraud_flags: FlagsCache
    contacts: ContactOpener  # opens contact details sealed to the admin key (current or previous), seals new ones
    client_ips: ClientIPResolver  # staff addresses, behind the trusted proxy (auth/client.py)
    tree_heads: TreeHeadSigner  # signs finalised results' tree heads (the one holder of TREE_HEAD_SIGNING_KEY)

    @classmethod
    def build(cls, settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis, passwords: Passwords) -> Services:
        sessions = SessionService(settings=settings, pool=pool, redis=redis, passwords=passwords)
        return cls(
            settings=settings, pool=pool, redis=redis, passwords=passwords, sessions=sessions,
            account=AccountService(settings=settings, pool=pool, passwords=passwords, sessions=sessions),
            fraud_flags=FlagsCache(), contacts=sealer_for(settings),
            client_ips=ClientIPResolver(settings.trusted_proxies),
            tree_heads=TreeHeadSigner(settings.secrets.tree_head_signing_key),
        )


# What a handler declares to be given the app's services: ``services: AppServices`` (shared/wiring.py).
AppServices: TypeAlias = NamedDependency[Services]
