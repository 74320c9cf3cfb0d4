"""Pages that are the same for everyone, rendered once, compressed once, answered with ETag / 304.

A page is cached under a key that names everything its HTML depends on: the page, the campaign, a
*fingerprint* of the data it shows (``Fingerprints``: a digest of the rows the directory cache returned,
computed once per loaded object), the campaign's public status, the language, the site's address and the
filter query. When the admin publishes or changes a ballot, the directory reloads it within
``CAMPAIGN_CACHE_S``, the fingerprint changes, and the next request renders the new page under a new key
(old keys are dropped when the cache is full). Concurrent misses on one key share one render.

A page may hold one *slot* (between ``SLOT_START`` and ``SLOT_END``, render.py): the cached page carries the
part everyone sees there (the ballot's sign-in-to-vote form); a request with a personal part (a signed-in
voter's votes left and vote form) gets the cached prefix + its own part + the cached suffix, compressed for
it alone, marked private and never stored.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import Cookie

from shared.web import PAGE_HEADERS, SECURITY_HEADERS
from voting_service.portal.render import HTML, SLOT_END, SLOT_START
from voting_service.singleflight import SingleFlight

try:  # brotli only if the library is there (it is, through litestar's extras); gzip always
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

# Stored anywhere, but revalidated on every use (a 304 costs one small round trip): a voter who signs in
# must not be shown a copy without their personal part, and a published change shows at once.
PUBLIC = "public, no-cache"
VARY = "Accept-Encoding, Cookie"
MAX_ENTRIES = 4000


@dataclass(frozen=True)
class CachedPage:
    etag: str
    raw: bytes
    gz: bytes
    br: bytes | None
    prefix: bytes       # the page up to its slot (the whole page when it has none)
    suffix: bytes       # after the slot
    status: int = 200


def compile_page(html: str, status: int = 200) -> CachedPage:
    """Split at the slot, compress, and name the result by its content."""
    start, end = html.find(SLOT_START), html.find(SLOT_END)
    if start >= 0 and end > start:
        prefix, slot, suffix = html[:start], html[start + len(SLOT_START):end], html[end + len(SLOT_END):]
    else:
        prefix, slot, suffix = html, "", ""
    pre, post = prefix.encode("utf-8"), suffix.encode("utf-8")
    raw = pre + slot.encode("utf-8") + post
    return CachedPage(
        etag='"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"', raw=raw,
        gz=gzip.compress(raw, 9, mtime=0), br=brotli.compress(raw, quality=9) if brotli is not None else None,
        prefix=pre, suffix=post, status=status,
    )


class PageCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._pages: dict[Hashable, CachedPage] = {}
        self._flight: SingleFlight[CachedPage] = SingleFlight()

    def __len__(self) -> int:
        return len(self._pages)

    async def get(self, key: Hashable, render: Callable[[], Awaitable[str] | str], status: int = 200) -> CachedPage:
        found = self._pages.get(key)
        if found is not None:
            return found
        return await self._flight.run(key, lambda: self._make(key, render, status))

    async def _make(self, key: Hashable, render: Callable[[], Awaitable[str] | str], status: int) -> CachedPage:
        html = render()
        if not isinstance(html, str):
            html = await html
        made = compile_page(html, status)
        if len(self._pages) >= self._max:
            # Drop the oldest half (dicts keep insertion order): stale versions go first.
            for old in list(self._pages)[: self._max // 2]:
                del self._pages[old]
        self._pages[key] = made
        return made


def _plain(value: Any) -> Any:
    """asyncpg records (and other mappings) as dicts, for the encoder."""
    if hasattr(value, "items"):
        return dict(value.items())
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_plain)


class Fingerprints:
    """A short digest of the data a page shows, computed once per object the directory cache hands out
    (the directory returns the same object until it reloads, so the digest is recomputed at most once per
    ``CAMPAIGN_CACHE_S`` per campaign, whatever the traffic)."""

    def __init__(self) -> None:
        self._last: dict[Hashable, tuple[tuple[Any, ...], str]] = {}

    def of(self, slot: Hashable, *sources: Any) -> str:
        last = self._last.get(slot)
        if last is not None and len(last[0]) == len(sources) and all(a is b for a, b in zip(last[0], sources)):
            return last[1]
        digest = hashlib.blake2b(_ENCODER.encode(sources), digest_size=10).hexdigest()
        self._last[slot] = (sources, digest)  # holding the objects keeps their identity from being reused
        return digest


def _encoding(request: Request) -> str:
    accepted = request.headers.get("accept-encoding", "")
    if "br" in accepted and brotli is not None:
        return "br"
    if "gzip" in accepted:
        return "gzip"
    return ""


def _compress(raw: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(raw, quality=4)
    if encoding == "gzip":
        return gzip.compress(raw, 5, mtime=0)
    return raw


def respond(request: Request, page: CachedPage, *, personal: str | None = None,
            cookies: list[Cookie] | None = None) -> Response[bytes]:
    """The cached page (200, or 304 when the browser has it), or, with ``personal``, the page with that HTML
    in its slot, private to this request."""
    encoding = _encoding(request)
    if personal is not None:
        raw = page.prefix + personal.encode("utf-8") + page.suffix
        headers = {**SECURITY_HEADERS, "Vary": VARY}
        if encoding:
            headers["Content-Encoding"] = encoding
        return Response(_compress(raw, encoding), status_code=page.status, media_type=HTML, headers=headers,
                        cookies=cookies or [])
    headers = {**PAGE_HEADERS, "Cache-Control": PUBLIC, "Vary": VARY, "ETag": page.etag}
    match = request.headers.get("if-none-match")
    if match and page.status == 200 and (match == page.etag or page.etag in match.split(", ")):
        return Response(b"", status_code=304, headers=headers, cookies=cookies or [])
    if encoding == "br" and page.br is not None:
        body = page.br
    elif encoding:
        encoding, body = "gzip", page.gz
    else:
        body = page.raw
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(body, status_code=page.status, media_type=HTML, headers=headers, cookies=cookies or [])
