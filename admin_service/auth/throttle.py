"""Login throttling in Redis, shaped so an attacker cannot lock a real user out for long.

Failures count per (account, IP) pair, per account and per IP, in fixed windows. The pair limit is the
tight one: guessing from one address stops after a few tries while the real user, from their own
address, is untouched. The account-wide limit is looser and its lock lasts one window at most.

An attempt is *reserved* before the password is checked: one Lua script refuses when any counter is at its
limit and otherwise increments all three, atomically. N parallel guesses therefore run at most ``limit``
argon2 verifications (a check-then-increment would let all N through before the first failure is counted).
A successful sign-in gives its reservation back and clears the pair counter.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from shared.errors import RateLimited
from shared.settings import Settings

# KEYS: pair, account, ip. ARGV: the three limits, the window (s). Returns 0 (reserved) or a Retry-After.
RESERVE = """
for i = 1, 3 do
  local limit = tonumber(ARGV[i])
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then ttl = 1 end
    return ttl
  end
end
for i = 1, 3 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[4], 'NX')
end
return 0
"""

# KEYS: pair, account, ip. ARGV[1]: 1 to clear the pair counter (the account's owner got in).
REFUND = """
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) end
for i = (ARGV[1] == '1') and 2 or 1, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""


def _keys(email_hash: str, ip_hash: str) -> list[str]:
    return [f"admin:login:pair:{email_hash}:{ip_hash}", f"admin:login:acct:{email_hash}",
            f"admin:login:ip:{ip_hash}"]


class LoginThrottle:
    def __init__(self, settings: Settings, r: aioredis.Redis) -> None:
        self._s = settings
        self._reserve = r.register_script(RESERVE)
        self._refund = r.register_script(REFUND)

    async def reserve(self, email_hash: str, ip_hash: str) -> None:
        """Count this attempt as a failure until it proves otherwise; 429 if a limit is reached."""
        s = self._s
        retry = int(await self._reserve(keys=_keys(email_hash, ip_hash), args=[
            s.admin_login_max_per_pair, s.admin_login_max_per_account, s.admin_login_max_per_ip,
            s.admin_login_window_s]))
        if retry:
            raise RateLimited("Too many failed sign-ins; try again later.", retry_after=retry, key="sign_in_throttled")

    async def succeeded(self, email_hash: str, ip_hash: str) -> None:
        await self._refund(keys=_keys(email_hash, ip_hash), args=[1])

    async def release(self, email_hash: str, ip_hash: str) -> None:
        """Give the reservation back without clearing anything (the password was right, a step remains)."""
        await self._refund(keys=_keys(email_hash, ip_hash), args=[0])
