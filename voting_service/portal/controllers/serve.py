"""Serving a page that is the same for everyone: from the page cache, with ETag/304 (voting_service/portal/cache.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie

from voting_service.portal.cache import respond
from voting_service.portal.render import base_url, lang_cookies, lang_of, render, shared_context
from voting_service.state import Services

Context = Callable[[str], Awaitable[dict[str, Any]] | dict[str, Any]]


async def cached_page(request: Request, services: Services, key: tuple[Hashable, ...], template: str,
                      context: Context, *, query: Mapping[str, str | None] | None = None,
                      personal: str | None = None, cookies: list[Cookie] | None = None,
                      status: int = 200) -> Response[bytes]:
    """The page ``template`` for ``key`` (which must name every input of ``context`` except the language and
    the site address, added here), rendered on the first request and served from memory afterwards.
    ``context(lang)`` gives the page's own variables. ``personal``: HTML for the page's slot, private to this
    request (see cache.py)."""
    lang = lang_of(request)
    base = base_url(request, services.settings)

    async def make() -> str:
        ctx = shared_context(lang, path=request.url.path, base=base, query=query)
        own = context(lang)
        ctx.update(own if isinstance(own, dict) else await own)
        return render(template, ctx)

    cached = await services.portal.pages.get((*key, lang, base), make, status)
    to_set = [*lang_cookies(request, services.settings), *(cookies or [])]
    if personal is None and not to_set:  # the same answer for the same address: RSGI may answer it next time
        services.portal.shortcuts.remember(request.scope, cached, await services.portal.campaigns())
    return respond(request, cached, personal=personal, cookies=to_set)
