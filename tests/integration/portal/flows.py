"""Helpers of the portal's flow tests: a citizen's browser on loopback (plain-http development, so cookies are
not Secure and the test client keeps them), the CSRF token of a page, signing in through the pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import redis.asyncio as aioredis

from shared.settings import Settings
from tests.integration.portal.conftest import BROWSER
from tests.integration.voting.conftest import app_client, outbox_code
from voting_service.app import VotingApp

LOCAL = "http://127.0.0.1:8000"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def citizen_browser(settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis, app: VotingApp, *,
                          ip: str = "203.0.113.7", base_url: str = LOCAL) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, pool, redis, app=app, ip=ip, base_url=base_url) as c:
        c.headers.update(BROWSER)
        yield c


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m is not None, "no csrf_token in the page"
    return m.group(1)


def same_origin(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Origin": str(client.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"}


async def post_form(client: httpx.AsyncClient, path: str, data: dict[str, str], *, page: str | None = None,
                    headers: dict[str, str] | None = None) -> httpx.Response:
    """Open ``page`` (default: ``path``) for its token, then post ``data`` with it, as a browser would."""
    form_page = await client.get(page or path)
    token = csrf_of(form_page.text)
    return await client.post(path, data={"csrf_token": token, **data},
                             headers={**same_origin(client), **(headers or {})})


async def sign_in(client: httpx.AsyncClient, phone: str, *, next_path: str | None = None) -> httpx.Response:
    """Phone page, code from the dev outbox, code page: the answer of the code post (303 to ``next``)."""
    page = "/signin" + (f"?next={next_path}" if next_path else "")
    r = await post_form(client, "/signin", {"phone": phone, "next": next_path or "/"}, page=page)
    assert r.status_code == 303 and r.headers["location"] == "/signin/code", r.text
    code = await outbox_code(client, phone)
    r = await post_form(client, "/signin/code", {"code": code})
    assert r.status_code == 303, r.text
    return r
