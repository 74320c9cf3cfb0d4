"""Cached public pages answered before the framework, over RSGI, as the vote's fast path answers votes.

When Litestar serves a page from the page cache (controllers/serve.py) to a request whose answer depends on
nothing but its address — a GET without a voter (no cookie, or only the language cookie ``faces_lang``), that
sets no cookie — the page is remembered here under the request's raw inputs: path, query string, scheme,
``Host`` and the language cookie (``Shortcuts.remember``). The next request with the same inputs is answered by
``VotingApp.__rsgi__`` straight from here (``PageFastPath.rsgi``): the bytes compressed once, ``ETag``/``304``,
and the very headers ``cache.respond`` gives (the same functions build them), without the ASGI bridge,
Litestar's routing, the Prometheus middleware or the campaign look-ups. Anything else — another method, a
voter's cookie, several ``Host``/``Cookie``/``Accept-Encoding``/``If-None-Match`` headers, a request body, an
address not remembered or remembered too long ago — goes to Litestar, which remembers it again.

Freshness: an entry lives ``CAMPAIGN_CACHE_S`` (the campaign directory's own reload period) and never past the
next opening or closing time of a published campaign, so a page is at most two reload periods old (one
without the shortcut) and a ballot closes on time. Requests answered here are counted in the same request
metrics as the middleware's (``litestar_request*``, route-template label), through ``HotRouteMetrics``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from litestar.plugins.prometheus import PrometheusConfig

from voting_service.metrics import HotRouteMetrics
from voting_service.portal.cache import CachedPage, cached_body, choose_encoding, not_modified, public_headers
from voting_service.portal.i18n import COOKIE

MAX_ENTRIES = 4000
MAX_QUERY = 512
_LANG_ONLY = re.compile(COOKIE + r"=([a-z]{2})")

Answer = tuple[int, list[tuple[str, str]], bytes]


def request_key(path: str, query: str, scheme: str, hosts: Sequence[str],
                cookies: Sequence[str]) -> tuple[Hashable, ...] | None:
    """What a public page's answer depends on, from the request's raw parts; ``None`` when the request may
    be personal or is odd (then Litestar always answers it)."""
    if len(hosts) != 1 or len(cookies) > 1 or len(query) > MAX_QUERY or not query.isascii():
        return None
    lang = None
    if cookies:
        m = _LANG_ONLY.fullmatch(cookies[0].strip().rstrip(";"))
        if m is None:
            return None
        lang = m.group(1)
    return path, query, scheme, hosts[0], lang


def _answers(page: CachedPage) -> dict[str, Answer]:
    """The page's answer per chosen encoding ("br", "gzip", "") and for a match of its ETag ("304"), with the
    header names, order and values Litestar sends for ``cache.respond``'s responses."""
    base = [(name.lower(), value) for name, value in public_headers(page).items()]
    out: dict[str, Answer] = {}
    for asked in ("br", "gzip", ""):
        encoding, body = cached_body(page, asked)
        headers = list(base)
        if encoding:
            headers.append(("content-encoding", encoding))
        headers += [("content-type", "text/html; charset=utf-8"), ("content-length", str(len(body)))]
        out[asked] = (page.status, headers, body)
    out["304"] = (304, base, b"")
    return out


class Shortcuts:
    """Public pages by their requests' raw inputs (per worker process; filled by Litestar's answers)."""

    def __init__(self, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._entries: dict[Hashable, tuple[float, CachedPage, dict[str, Answer], str]] = {}
        self._changes: tuple[object, float] | None = None  # (campaign rows, next opening/closing, epoch s)

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, scope: Any, page: CachedPage, campaigns: Iterable[Any]) -> None:
        """Called with the ASGI scope of a request just answered with ``page`` for everyone, and the published
        campaigns (their opening and closing times bound the entry's life)."""
        if scope.get("method") != "GET":
            return
        headers = scope["headers"]
        key = request_key(scope["path"], scope["query_string"].decode("utf-8", "replace"), scope["scheme"],
                          [v.decode("latin-1") for k, v in headers if k == b"host"],
                          [v.decode("latin-1") for k, v in headers if k == b"cookie"])
        if key is None:
            return
        now = time.time()
        life = min(self._ttl, self._next_change(campaigns, now) - now)
        if life <= 0:
            return
        old = self._entries.get(key)
        answers = old[2] if old is not None and old[1] is page else _answers(page)
        if old is None and len(self._entries) >= self._max:
            for stale in list(self._entries)[: self._max // 2]:  # oldest first (insertion order)
                del self._entries[stale]
        self._entries[key] = (time.monotonic() + life, page, answers, scope.get("path_template", scope["path"]))

    def _next_change(self, campaigns: Iterable[Any], now: float) -> float:
        """The next opening or closing time (epoch seconds) of the campaigns, computed once per list object."""
        changes = self._changes
        if changes is None or changes[0] is not campaigns or changes[1] <= now:
            times = [t.timestamp() for row in campaigns for t in (row["opens_at"], row["closes_at"])
                     if t is not None]
            changes = self._changes = (campaigns, min((t for t in times if t > now), default=float("inf")))
        return changes[1]

    def lookup(self, key: Hashable) -> tuple[CachedPage, dict[str, Answer], str] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1], entry[2], entry[3]


class PageFastPath:
    """``VotingApp.__rsgi__``'s answer to a remembered public page (see the module's doc)."""

    def __init__(self, app: Any, prometheus: PrometheusConfig) -> None:
        self._app = app
        self._prometheus = prometheus
        self._metrics: dict[str, HotRouteMetrics] = {}

    def flush(self) -> None:
        for metrics in self._metrics.values():
            metrics.flush()

    def rsgi(self, scope: Any, proto: Any) -> bool:
        """Answer a GET from the remembered pages; False (nothing sent) when Litestar must answer."""
        started = time.perf_counter()
        shortcuts: Shortcuts = self._app.state.services.portal.shortcuts
        if not len(shortcuts):
            return False
        h = scope.headers
        key = request_key(scope.path, scope.query_string, scope.scheme, h.get_all("host"), h.get_all("cookie"))
        if key is None:
            return False
        found = shortcuts.lookup(key)
        if found is None:
            return False
        accept = h.get_all("accept-encoding")
        match = h.get_all("if-none-match")
        if len(accept) > 1 or len(match) > 1 or "content-length" in h or "transfer-encoding" in h:
            return False
        page, answers, template = found
        if not_modified(page, match[0] if match else None):
            status, headers, body = answers["304"]
        else:
            status, headers, body = answers[choose_encoding(accept[0] if accept else "")]
        proto.response_bytes(status, headers, body)
        metrics = self._metrics.get(template)
        if metrics is None:
            metrics = self._metrics[template] = HotRouteMetrics(self._prometheus, method="GET", path=template,
                                                                eager=False)
        metrics.started()
        metrics.finished(status, time.perf_counter() - started)
        return True
