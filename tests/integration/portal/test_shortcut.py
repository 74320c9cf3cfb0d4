"""The RSGI shortcut for cached public pages (voting_service/portal/shortcut.py): what it answers is byte for byte
what Litestar answers through the ASGI bridge — status, header names, order and values, body — for a hit in every
encoding, a 304, and it leaves misses, personal requests and stale entries to Litestar."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from shared.rsgi import ASGIOverRSGI
from tests.integration.portal.helpers import portal_campaign
from tests.integration.voting.test_health_metrics import samples
from voting_service.app import VotingApp
from voting_service.portal.shortcut import Shortcuts, request_key


class Headers:
    """Granian's ``RSGIHeaders`` as far as the app uses it."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = [(k.lower(), v) for k, v in pairs]

    def get_all(self, key: str) -> list[str]:
        return [v for k, v in self._pairs if k == key]

    def get(self, key: str, default: Any = None) -> Any:
        found = self.get_all(key)
        return found[0] if found else default

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __contains__(self, key: str) -> bool:
        return bool(self.get_all(key))


class Scope:
    def __init__(self, path: str, query: str = "", headers: list[tuple[str, str]] | None = None,
                 method: str = "GET") -> None:
        self.proto, self.http_version, self.scheme = "http", "1.1", "http"
        self.method, self.path, self.query_string = method, path, query
        self.headers = Headers([("host", "vote.test"), *(headers or [])])
        self.client, self.server = "127.0.0.1:40000", "127.0.0.1:8000"


class Proto:
    def __init__(self) -> None:
        self.answer: tuple[int, list[tuple[str, str]], bytes] | None = None

    async def __call__(self) -> bytes:
        return b""

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answer = (status, list(headers), body)

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.answer = (status, list(headers), b"")

    async def client_disconnect(self) -> None:
        await asyncio.sleep(3600)


BROTLI = [("accept", "text/html"), ("accept-encoding", "gzip, deflate, br, zstd")]


@pytest.fixture
def app(browser, portal_app: VotingApp) -> VotingApp:  # ``browser`` gives the app its services
    portal_app._bridge = ASGIOverRSGI(portal_app)
    return portal_app


async def litestar(app: VotingApp, scope: Scope) -> tuple[int, list[tuple[str, str]], bytes]:
    proto = Proto()
    await app._bridge(scope, proto)
    assert proto.answer is not None
    return proto.answer


def fast(app: VotingApp, scope: Scope) -> tuple[int, list[tuple[str, str]], bytes] | None:
    proto = Proto()
    answered = app.page_fast_path.rsgi(scope, proto)
    assert answered == (proto.answer is not None)
    return proto.answer


async def test_a_remembered_page_is_answered_as_litestar_answers_it(app, pool, redis):
    camp = await portal_campaign(pool, redis, candidates=12, varied=True)
    ballot = f"/campaigns/{camp.slug}"
    cases = [
        (ballot, "", BROTLI),
        (ballot, "", [("accept-encoding", "gzip")]),
        (ballot, "", []),
        (ballot, "", [*BROTLI, ("cookie", "faces_lang=ru")]),
        (ballot, "region=KZ-ALA&q=a", BROTLI),
        ("/", "", BROTLI),
        (f"{ballot}/candidates/{camp.candidate_ids[0]}", "", BROTLI),
        ("/rules", "", [("accept-encoding", "gzip"), ("cookie", "faces_lang=en")]),
    ]
    for path, query, headers in cases:
        assert fast(app, Scope(path, query, headers)) is None or path == ballot  # not yet remembered
        first = await litestar(app, Scope(path, query, headers))
        assert first[0] == 200
        answer = fast(app, Scope(path, query, headers))
        assert answer == first, (path, query, headers)
        assert answer == await litestar(app, Scope(path, query, headers))
        etag = dict(first[1])["etag"]
        # 304 for the version the browser has; a page for an old version.
        for inm in (etag, f'"old", {etag}', '"old"'):
            scope = Scope(path, query, [*headers, ("if-none-match", inm)])
            answer = fast(app, scope)
            assert answer == await litestar(app, scope), inm
            assert answer is not None and answer[0] == (200 if inm == '"old"' else 304)


async def test_personal_odd_and_stale_requests_go_to_litestar(app, pool, redis, settings):
    camp = await portal_campaign(pool, redis, candidates=3)
    ballot = f"/campaigns/{camp.slug}"
    await litestar(app, Scope(ballot, "", BROTLI))
    assert fast(app, Scope(ballot, "", BROTLI)) is not None
    for scope in (
        Scope(ballot, "", [*BROTLI, ("cookie", "faces_voter=abc")]),               # a voter: personal block
        Scope(ballot, "", [*BROTLI, ("cookie", "faces_lang=ru; faces_csrf=x")]),   # any other cookie
        Scope(ballot, "", [*BROTLI, ("cookie", "faces_lang=ru"), ("cookie", "faces_lang=en")]),
        Scope(ballot, "", [*BROTLI, ("host", "other.test")]),                      # two hosts
        Scope(ballot, "", [*BROTLI, ("accept-encoding", "gzip")]),                 # two encodings lists
        Scope(ballot, "", [*BROTLI, ("content-length", "3")]),                     # a body
        Scope(ballot, "lang=ru", BROTLI),                                          # never served yet
        Scope(ballot + "/results", "", BROTLI),
    ):
        assert fast(app, scope) is None, scope.headers.items()
    # A language switch sets a cookie: Litestar answers it, and it is not remembered.
    switched = await litestar(app, Scope(ballot, "lang=ru", BROTLI))
    assert any(name == "set-cookie" for name, _ in switched[1])
    assert fast(app, Scope(ballot, "lang=ru", BROTLI)) is None
    # An entry lives CAMPAIGN_CACHE_S (0.2 s in the tests): a changed ballot shows as it would without it.
    async with pool.acquire() as conn:
        await conn.execute("UPDATE candidates SET full_name = 'Жаңа Есім' WHERE id = $1", camp.candidate_ids[0])
    await asyncio.sleep(settings.campaign_cache_s + 0.05)
    assert fast(app, Scope(ballot, "", BROTLI)) is None
    await asyncio.sleep(settings.campaign_cache_s + 0.05)
    fresh = await litestar(app, Scope(ballot, "", [("accept-encoding", "identity")]))
    assert "Жаңа Есім".encode() in fresh[2]


async def test_fast_answers_are_counted_in_the_request_metrics(app, browser, pool, redis):
    camp = await portal_campaign(pool, redis, candidates=3)
    ballot = f"/campaigns/{camp.slug}"
    labels = {"method": "GET", "path": "/campaigns/{slug}", "status_code": "200", "app_name": "voting"}

    async def count() -> float:  # a scrape of /metrics, which flushes the shortcut's counts first
        text = (await browser.get("/metrics")).text
        return sum(s.value for s in samples(text) if s.name == "litestar_requests_total" and s.labels == labels)

    before = await count()
    await litestar(app, Scope(ballot, "", BROTLI))  # counted by the middleware
    for _ in range(3):  # within CAMPAIGN_CACHE_S: answered by the shortcut
        assert fast(app, Scope(ballot, "", BROTLI)) is not None
    assert await count() == before + 4


def test_an_entry_never_outlives_the_next_opening_or_closing():
    now = dt.datetime.now(dt.timezone.utc)
    rows = [{"opens_at": now - dt.timedelta(days=1), "closes_at": now + dt.timedelta(seconds=0.05)}]
    cuts = Shortcuts(ttl_s=60.0)
    from voting_service.portal.cache import compile_page
    scope = {"method": "GET", "path": "/", "query_string": b"", "scheme": "http", "headers": [(b"host", b"h")]}
    cuts.remember(scope, compile_page("<p>x</p>"), rows)
    key = request_key("/", "", "http", ["h"], [])
    assert cuts.lookup(key) is not None
    import time
    time.sleep(0.06)
    assert cuts.lookup(key) is None
    cuts.remember(scope, compile_page("<p>x</p>"), rows)  # after the closing: an hour is the limit again
    assert cuts.lookup(key) is not None
