"""SMS senders. ``outbox`` keeps messages in Redis for development and tests (refused in production by
Settings); ``http`` posts to an SMS gateway."""

from __future__ import annotations

import time
from typing import Any, Protocol

import httpx
import msgspec
import redis.asyncio as aioredis

from voting_service import redis_keys as keys
from shared.errors import Unavailable
from shared.infra import transaction


class OutboxMessage(msgspec.Struct):
    text: str
    code: str
    sent_at: str


class SmsSender(Protocol):
    async def send(self, *, phone: str, phone_pseudonym: str, text: str, code: str) -> None: ...

    async def close(self) -> None: ...


class OutboxSender:
    """Stores messages under the phone's pseudonym; the number itself is never written."""

    keep = 20
    ttl_s = 24 * 3600

    def __init__(self, r: aioredis.Redis) -> None:
        self._redis = r

    async def send(self, *, phone: str, phone_pseudonym: str, text: str, code: str) -> None:
        sent_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        msg = msgspec.json.encode(OutboxMessage(text=text, code=code, sent_at=sent_at))
        key = keys.sms_outbox(phone_pseudonym)

        def fill(pipe: Any) -> None:
            pipe.lpush(key, msg)
            pipe.ltrim(key, 0, self.keep - 1)
            pipe.expire(key, self.ttl_s)

        await transaction(self._redis, key, fill)

    async def read(self, phone_pseudonym: str) -> list[OutboxMessage]:
        raw = await self._redis.lrange(keys.sms_outbox(phone_pseudonym), 0, -1)
        return [msgspec.json.decode(m, type=OutboxMessage) for m in raw]

    async def close(self) -> None:
        return None


class HttpGatewaySender:
    """POST {"to", "text"} with a bearer token; any non-2xx answer is an outage for the caller."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 3.0) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=timeout_s,
                                         headers={"Authorization": f"Bearer {token}"} if token else {})

    async def send(self, *, phone: str, phone_pseudonym: str, text: str, code: str) -> None:
        try:
            resp = await self._client.post(self._url, json={"to": phone, "text": text})
        except httpx.HTTPError as exc:
            raise Unavailable("The SMS gateway is not answering; try again shortly.") from exc
        if resp.status_code >= 300:
            raise Unavailable(f"The SMS gateway refused the message ({resp.status_code}).")

    async def close(self) -> None:
        await self._client.aclose()
