"""SMS senders. ``outbox`` keeps messages in Redis for development and tests (refused in production by
Settings); ``http`` posts to an SMS gateway."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import aiohttp
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


class NotSent(Unavailable):
    """The gateway certainly did not send the message: no connection, or a redirect, a 4xx or a 503. (A timeout,
    a connection lost mid-answer or another 5xx is a plain ``Unavailable``: the message may have gone out.)"""


class HttpGatewaySender:
    """POST {"to", "text"} with a bearer token; any non-2xx answer, a refused connection or no answer within
    ``timeout_s`` is an outage for the caller (Unavailable: 503; ``NotSent`` when the message surely did not go).

    aiohttp's client, kept-alive connections (at most ``max_connections``, waiting for one counts in the timeout):
    during a surge every code sent is one of these requests, and httpx's connection pool cost 1 - 2 ms of CPU
    per request at the sign-in phase's concurrency against 0.15 - 0.23 ms for aiohttp (docs/performance.md,
    "Tenth measurement")."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 3.0, max_connections: int = 100) -> None:
        self._url = url
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # made in the running loop, at the first message
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections), timeout=self._timeout)
        return self._session

    async def send(self, *, phone: str, phone_pseudonym: str, text: str, code: str) -> None:
        body = msgspec.json.encode({"to": phone, "text": text})
        try:
            async with self._client().post(self._url, data=body, headers=self._headers,
                                           allow_redirects=False) as resp:
                status = resp.status
                await resp.read()  # the whole (short) answer: the connection goes back to the pool
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            raise NotSent("The SMS gateway is not answering; try again shortly.") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise Unavailable("The SMS gateway is not answering; try again shortly.") from exc
        if status >= 300:
            # A redirect, a refusal (4xx) or 503 come before the message is handled; another 5xx (a proxy's 502 or
            # 504, an error half-way) may come after it went out.
            surely = status < 500 or status == 503
            raise (NotSent if surely else Unavailable)(f"The SMS gateway refused the message ({status}).")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
