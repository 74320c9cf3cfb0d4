"""What an admin app instance holds on ``app.state``: settings, resources and the services built on them."""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis
from litestar.datastructures import State

from admin_service.auth.passwords import Passwords
from admin_service.services.account import AccountService
from admin_service.services.fraud import FlagsCache
from admin_service.services.sessions import SessionService
from shared.settings import Settings


def attach(state: State, settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis,
           passwords: Passwords) -> None:
    state.pool = pool
    state.redis = redis
    state.passwords = passwords
    state.sessions = SessionService(settings=settings, pool=pool, redis=redis, passwords=passwords)
    state.account = AccountService(settings=settings, pool=pool, passwords=passwords, sessions=state.sessions)
    state.fraud_flags = FlagsCache()
