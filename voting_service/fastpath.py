"""A fast path for the one hot route, ``POST /api/v1/campaigns/{campaign_id}/votes``, over RSGI and ASGI.

In production granian serves the voting app through RSGI (``VotingApp.__rsgi__``): this module answers the
vote route natively (``VoteFastPath.rsgi``) and everything else goes through the ASGI bridge
(shared/rsgi.py) to Litestar. Served over ASGI (tests, ``VOTING_INTERFACE=asgi``) the same checks and the
same vote run from ``VoteFastPath.__call__`` inside ``VotingApp.__call__``.

Either way the fast path answers only requests that are valid up to the vote itself: JSON content type, a
body within the size limit that decodes strictly into ``VoteIn``, a valid bearer token and a well-formed
campaign id. Everything else — wrong content type, oversized or malformed body, unknown fields, wrong types,
missing or bad token, odd headers — is handed to Litestar untouched (the body already read is replayed), so
every refusal keeps the exact status, headers and problem+json body Litestar's route gives it. The outcome of
the vote is rendered with the same encoders and the same exception handlers (``shared.problem``) as the
Litestar route: the JSON bodies are byte-identical (tests/integration/voting/test_vote_fastpath.py over ASGI,
tests/e2e/test_rsgi_served.py over RSGI).

The Litestar route stays: it serves the fall-through cases and documents the operation in OpenAPI.
Request metrics (``litestar_request*``, route-template labels) and ``votes_total`` are counted in
per-process accumulators and folded into the Prometheus metrics (multiprocess files included) at most a
second later and before every scrape (``metrics.HotRouteMetrics``).
"""

from __future__ import annotations

import gc
import re
import time
from typing import Any

import msgspec
from litestar.types import Receive, Scope, Send

from shared.errors import AppError
from shared.problem import exception_handlers
from shared.client_ip import client_for
from voting_service.metrics import HotRouteMetrics
from voting_service.models import VoteAccepted, VoteIn
from voting_service.services.ballot_box import signals_of
from voting_service.services.directory import parse_campaign_id
from voting_service.state import Services

VOTE_PATH = re.compile(r"/api/v1/campaigns/([^/]+)/votes")
VOTE_TEMPLATE = "/api/v1/campaigns/{campaign_id}/votes"

_decode_vote = msgspec.json.Decoder(VoteIn).decode
_encode = msgspec.json.Encoder().encode
_JSON_HEADERS = [("content-type", "application/json")]


_GC_TUNED = False


def _tune_gc() -> None:
    """Once per process, at the first vote (the app is built and started by then): move everything alive
    into the collector's permanent generation (``gc.freeze``). Its full passes then stop walking the app's
    own long-lived objects (modules, Litestar's routes and signatures, msgspec types...; ~65 000 tracked
    objects after ``create_app``): such a pass took 26 - 31 ms on the bench machine, stalled every request in
    the worker and was the p99. Thresholds are unchanged; objects created later are collected as before."""
    global _GC_TUNED
    _GC_TUNED = True
    gc.collect()
    gc.freeze()


def tune_gc_once() -> None:
    """``_tune_gc`` unless done: the first request of a hot route (the vote, the receipt lookup) does it."""
    if not _GC_TUNED:
        _tune_gc()


class _FallThrough(Exception):
    """Not a request the fast path answers: Litestar will."""


def _replay(body: bytes, more_body: bool, receive: Receive) -> Receive:
    """A ``receive`` that first hands back the body already read, then continues with the real one."""
    sent = False

    async def again() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more_body}
        return await receive()

    return again


class VoteFastPath:
    """The vote route without the framework. ``__call__`` serves it over ASGI, ``rsgi`` over granian's RSGI
    (how production serves it, voting_service/rsgi.py); both share the checks (``_admit``) and the vote
    itself (``_vote``), and hand anything they do not answer to the full app."""

    def __init__(self, app: Any, max_body: int, metrics: HotRouteMetrics) -> None:
        # The Litestar app: its ``state.services`` is the service object its handlers get injected
        # (shared/wiring.py), built in the lifespan or by tests; read inline per vote, as cheap as before.
        self._app = app
        self._max_body = max_body
        self.metrics = metrics
        self._handlers = exception_handlers()

    def _admit(self, ctype: str | None, auth: str | None, body: bytes, raw_id: str) -> tuple[Any, ...] | None:
        """(services, voter claims, vote, campaign id) for a request the fast path answers; ``None`` otherwise."""
        # The shared ``require_json`` rule; anything else gets Litestar's 415.
        media = ctype.split(";")[0].strip().lower() if ctype is not None else ""
        if media != "application/json" and not media.endswith("+json"):
            return None
        try:
            data = _decode_vote(body)
            scheme, _, token = auth.partition(" ") if auth is not None else ("", "", "")
            if scheme.lower() != "bearer" or not token:
                return None
            svc: Services = self._app.state.services
            claims = svc.tokens.claims(token.strip())
            if claims is None:
                return None
            return svc, claims, data, parse_campaign_id(raw_id)
        except Exception:  # malformed body, bad token, odd id...: Litestar answers, exactly as it always has
            return None

    async def _vote(self, admitted: tuple[Any, ...], peer: str | None, xff: str | None,
                    solution: str | None = None, ua: str | None = None, lang: str | None = None,
                    page_token: bool = False) -> tuple[int, list[tuple[str, str]], bytes]:
        """Cast the vote: (status, headers without content length, body), rendered as the Litestar route does.
        ``solution``: a proof of work (X-Challenge-Solution, issue 12); ``ua``, ``lang``, ``page_token``: the
        User-Agent, Accept-Language and whether the portal's page token came (fraud signals,
        shared/fraud_signals.py)."""
        svc, claims, data, campaign_id = admitted
        if not _GC_TUNED:
            _tune_gc()
        started = time.perf_counter()
        who = client_for(svc.client_ips, svc.settings.secrets.pseudonym_key, peer, xff)
        self.metrics.started()
        try:
            accepted = await svc.ballot_box.cast(campaign_id=campaign_id, voter=claims.voter,
                                                 candidate_id=data.candidate_id, ip_hash=who.ip_hash,
                                                 ip_net=who.net, scope=who.scope, solution=solution,
                                                 signals=signals_of(claims, ua, lang, page_token, time.time()))
        except BaseException as exc:
            if isinstance(exc, AppError):
                self.metrics.vote(exc.code)
            if not isinstance(exc, Exception):
                self.metrics.finished(500, time.perf_counter() - started)
                raise
            status, headers, payload = self._problem(exc)
            self.metrics.finished(status, time.perf_counter() - started)
            return status, headers, payload
        self.metrics.vote("accepted")
        payload = _encode(VoteAccepted(receipt=accepted.receipt, candidate_id=accepted.candidate_id,
                                       votes_left=accepted.votes_left))
        self.metrics.finished(201, time.perf_counter() - started)
        return 201, _JSON_HEADERS, payload

    def _problem(self, exc: Exception) -> tuple[int, list[tuple[str, str]], bytes]:
        """The response the app's exception handlers give ``exc`` (most specific class first)."""
        for cls in type(exc).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                break
        resp = handler(None, exc)
        # Litestar's order: the response's own headers, then content type (and length).
        headers = [(name.lower(), str(value)) for name, value in (resp.headers or {}).items()]
        headers.append(("content-type", resp.media_type))
        return resp.status_code, headers, resp.content

    # -- ASGI ---------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send, raw_id: str, fallback: Any) -> None:
        ctype = auth = xff = pow_ = ua = lang = None
        page_token = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                if ctype is not None:
                    return await fallback(scope, receive, send)
                ctype = value
            elif name == b"authorization":
                if auth is not None:
                    return await fallback(scope, receive, send)
                auth = value
            elif name == b"x-forwarded-for":
                if xff is not None:
                    return await fallback(scope, receive, send)
                xff = value
            elif name == b"content-length":
                if not value.isdigit() or int(value) > self._max_body:
                    return await fallback(scope, receive, send)
            elif name == b"x-challenge-solution":  # proof of work (issue 12): rare, one line at most
                if pow_ is not None:
                    return await fallback(scope, receive, send)
                pow_ = value
            elif name == b"user-agent":
                ua = value
            elif name == b"accept-language":
                lang = value
            elif name == b"x-page-token":
                page_token = True
        if ctype is None:
            return await fallback(scope, receive, send)

        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before sending the body
                return await fallback(scope, _replay(body, True, receive), send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self._max_body:
                return await fallback(scope, _replay(body, more, receive), send)
            if not more:
                break

        admitted = self._admit(ctype.decode("latin-1"), auth.decode("latin-1") if auth is not None else None,
                               body, raw_id)
        if admitted is None:
            return await fallback(scope, _replay(body, False, receive), send)
        client = scope.get("client")
        status, headers, payload = await self._vote(admitted, client[0] if client else None,
                                                    xff.decode("latin-1") if xff is not None else None,
                                                    pow_.decode("latin-1") if pow_ is not None else None,
                                                    ua.decode("latin-1") if ua is not None else None,
                                                    lang.decode("latin-1") if lang is not None else None,
                                                    page_token)
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        raw.append((b"content-length", b"%d" % len(payload)))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})
        return None

    # -- RSGI ---------------------------------------------------------------------------------------------

    async def rsgi(self, scope: Any, proto: Any, raw_id: str, fallback: Any) -> None:
        headers = scope.headers
        ctype = headers.get_all("content-type")
        auth = headers.get_all("authorization")
        xff = headers.get_all("x-forwarded-for")
        length = headers.get_all("content-length")
        # One of each (two would be ambiguous), a declared length within the limit (a chunked body is read,
        # with the limit, by the full app), and a JSON content type; everything else goes to Litestar.
        if (len(ctype) != 1 or len(auth) > 1 or len(xff) > 1 or len(length) != 1 or not length[0].isdigit()
                or int(length[0]) > self._max_body):
            return await fallback(scope, proto)
        body = await proto()
        admitted = self._admit(ctype[0], auth[0] if auth else None, body, raw_id)
        if admitted is None:
            return await fallback(scope, proto, body)
        pow_ = headers.get_all("x-challenge-solution")  # proof of work (issue 12): rare, one line at most
        if len(pow_) > 1:
            return await fallback(scope, proto, body)
        status, out, payload = await self._vote(admitted, peer_host(scope.client), xff[0] if xff else None,
                                                pow_[0] if pow_ else None, headers.get("user-agent"),
                                                headers.get("accept-language"), "x-page-token" in headers)
        proto.response_bytes(status, out, payload)
        return None


def peer_host(client: str) -> str | None:
    """The host of RSGI's ``client`` (``"1.2.3.4:5678"``, ``"[::1]:5678"``; empty over a Unix socket)."""
    host = client.rpartition(":")[0]
    return host.strip("[]") or None
