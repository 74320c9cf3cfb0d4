"""Login throttling in Redis, shaped so an attacker cannot lock a real user out for long.

Failures count per (account, IP) pair, per account and per IP, in fixed windows. The pair limit is the
tight one: guessing from one address stops after a few tries while the real user, from their own
address, is untouched. The account-wide limit is looser and its lock lasts one window at most.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from shared.errors import RateLimited
from shared.settings import Settings


def _keys(email_hash: str, ip_hash: str) -> tuple[str, str, str]:
    return (f"admin:login:pair:{email_hash}:{ip_hash}", f"admin:login:acct:{email_hash}",
            f"admin:login:ip:{ip_hash}")


class LoginThrottle:
    def __init__(self, settings: Settings, r: aioredis.Redis) -> None:
        self._s = settings
        self._redis = r

    def _limits(self) -> tuple[int, int, int]:
        s = self._s
        return s.admin_login_max_per_pair, s.admin_login_max_per_account, s.admin_login_max_per_ip

    async def check(self, email_hash: str, ip_hash: str) -> None:
        ks = _keys(email_hash, ip_hash)
        pipe = self._redis.pipeline(transaction=False)
        for k in ks:
            pipe.get(k)
            pipe.ttl(k)
        got = await pipe.execute()
        for i, limit in enumerate(self._limits()):
            count, ttl = int(got[2 * i] or 0), got[2 * i + 1]
            if count >= limit:
                raise RateLimited("Too many failed sign-ins; try again later.", retry_after=max(1, ttl))

    async def failed(self, email_hash: str, ip_hash: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for k in _keys(email_hash, ip_hash):
            pipe.incr(k)
            pipe.expire(k, self._s.admin_login_window_s, nx=True)
        await pipe.execute()

    async def succeeded(self, email_hash: str, ip_hash: str) -> None:
        await self._redis.delete(_keys(email_hash, ip_hash)[0])
