"""The voting service's app factory: ``create_app(settings=None, *, pool=None, redis=None)``.

Served by granian (``--factory voting_service.app:create_app``); tests pass ready-made resources.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from litestar import Litestar, Response, get
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import Receive, Scope, Send

from shared.apidocs import docs_assets, docs_plugins
from shared.http import JSONRequest, allow_every_method, require_json
from shared.infra import create_pool, create_redis
from shared.openapi import openapi_plugins
from shared.problem import exception_handlers
from shared.route_metrics import prime_route_metrics
from shared.rsgi import ASGIOverRSGI
from shared.settings import Settings
from shared.wiring import SERVICES, service_dependencies
from voting_service.api.auth import AuthController
from voting_service.api.campaigns import CampaignController
from voting_service.api.dev import DevOutboxController
from voting_service.api.health import HealthController
from voting_service.api.nominations import NominationController
from voting_service.api.receipts import ReceiptController
from voting_service.api.votes import VoteController
from voting_service.fastpath import VOTE_PATH, VOTE_TEMPLATE, VoteFastPath
from voting_service.receipt_fastpath import RECEIPT_PATH, RECEIPT_TEMPLATE, ReceiptFastPath
from voting_service import metrics as metrics_module
from voting_service.metrics import HotRouteMetrics, abuse_metrics_at_zero
from voting_service.portal import portal_router
from voting_service.portal.errors import html_or_problem
from voting_service.portal.shortcut import PageFastPath
from voting_service.state import Services


class MetricsController(PrometheusController):
    path = "/metrics"  # listed in the OpenAPI document like every route of API.md

    @get(media_type="text/plain", operation_id="metrics", cache=False,
         description="Prometheus text exposition format.")
    async def get(self) -> Response:  # the inherited handler, documented with its real content type
        return await PrometheusController.get.fn(self)


class VotingApp(Litestar):
    """The Litestar app with the vote's fast path in front (voting_service/fastpath.py): ``POST
    /api/v1/campaigns/{id}/votes`` goes to it, every other request — and every vote request the fast path
    does not answer itself — to Litestar. Likewise ``GET /api/v1/receipts/{receipt}`` and the receipt's fast
    path (voting_service/receipt_fastpath.py)."""

    vote_fast_path: VoteFastPath
    receipt_fast_path: ReceiptFastPath
    page_fast_path: PageFastPath
    _bridge: ASGIOverRSGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if scope["method"] == "POST":
                m = VOTE_PATH.fullmatch(path)
                if m is not None:
                    return await self.vote_fast_path(scope, receive, send, m.group(1), super().__call__)
            else:
                if scope["method"] == "GET":
                    m = RECEIPT_PATH.fullmatch(path)
                    if m is not None:
                        return await self.receipt_fast_path(scope, receive, send, m.group(1), super().__call__)
                if path == "/metrics":
                    self.flush_metrics()
        return await super().__call__(scope, receive, send)

    def flush_metrics(self) -> None:
        self.vote_fast_path.metrics.flush()
        self.receipt_fast_path.metrics.flush()
        self.page_fast_path.flush()

    # Served by granian's RSGI interface (production, ``python -m voting_service serve``): the vote route, the
    # receipt lookups and the public pages Litestar has already served to everyone
    # (voting_service/portal/shortcut.py) are
    # answered natively, everything else through the ASGI bridge to this same app (shared/rsgi.py).

    def __rsgi_init__(self, loop: Any) -> None:
        self._bridge = ASGIOverRSGI(self)
        self._bridge.startup(loop)

    def __rsgi_del__(self, loop: Any) -> None:
        self._bridge.shutdown(loop)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto == "http":
            if scope.method == "POST":
                m = VOTE_PATH.fullmatch(scope.path)
                if m is not None:
                    return await self.vote_fast_path.rsgi(scope, proto, m.group(1), self._bridge)
            else:
                if scope.method == "GET":
                    m = RECEIPT_PATH.fullmatch(scope.path)
                    if m is not None:
                        return await self.receipt_fast_path.rsgi(scope, proto, m.group(1), self._bridge)
                if scope.path == "/metrics":
                    self.flush_metrics()
                elif scope.method == "GET" and self.page_fast_path.rsgi(scope, proto):
                    return None
        return await self._bridge(scope, proto)


def problem_rules(handler: Any, path: str) -> set[int]:
    """Error statuses by convention (shared/openapi.py): every API route reads Redis or Postgres (503);
    a handler's own ones are in its ``opt["problems"]``."""
    if handler.operation_id == "ready" or path.startswith("/api/"):
        return {503}
    return set()


def create_app(settings: Settings | None = None, *, pool: asyncpg.Pool | None = None,
               redis: aioredis.Redis | None = None) -> VotingApp:
    settings = settings if settings is not None else Settings.from_env(service="voting")
    settings.require_service("voting")
    abuse_metrics_at_zero()  # challenge, limit and SMS-budget series exist from the start (alerts, dashboards)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        own_pool = pool is None
        own_redis = redis is None
        # The voting service never changes a session's state: connections return to the pool without a reset.
        the_pool = pool if pool is not None else await create_pool(settings.database_url, reset_session=False)
        the_redis = redis if redis is not None else create_redis(settings.redis_url,
                                                                 timeout_s=settings.redis_timeout_s)
        services = app.state[SERVICES] = Services.build(settings, the_pool, the_redis)
        metrics_module.prime()  # every series from the start, at zero (shared/route_metrics.py)
        prime_route_metrics(app, prometheus)
        try:
            yield
        finally:
            if isinstance(app, VotingApp):
                app.flush_metrics()
            await services.close()
            if own_redis:
                await the_redis.aclose()
            if own_pool:
                await the_pool.close()

    prometheus = PrometheusConfig(app_name="voting", prefix="litestar", group_path=True,
                                  exclude=["/metrics", "/health"])
    handlers: list[Any] = [HealthController, MetricsController, CampaignController, AuthController, VoteController,
                           ReceiptController, NominationController]
    if settings.sms_outbox:  # development or test, with the outbox asked for: never otherwise
        handlers.append(DevOutboxController)
    # The public portal (voting_service/portal): HTML pages, out of the OpenAPI document, forms not JSON.
    handlers.append(portal_router())
    handlers.append(docs_assets())  # the /schema viewer's own files
    app = VotingApp(
        route_handlers=handlers,
        lifespan=[lifespan],
        dependencies=service_dependencies(),  # handlers get ``services`` (shared/wiring.py)
        before_request=require_json,
        before_send=[allow_every_method],
        request_class=JSONRequest,
        exception_handlers=html_or_problem(exception_handlers()),  # a browser's 404/503 is a page
        middleware=[prometheus.middleware],
        request_max_body_size=settings.max_body_bytes,
        plugins=openapi_plugins(problem_rules),
        openapi_config=OpenAPIConfig(
            title="100 New Faces of Kazakhstan — public vote",
            version="1.0.0",
            path="/schema",
            render_plugins=docs_plugins(),  # the viewer's files are served from here (shared/apidocs)
        ),
        debug=False,
    )
    metrics = HotRouteMetrics(prometheus, method="POST", path=VOTE_TEMPLATE)
    app.vote_fast_path = VoteFastPath(app, settings.max_body_bytes, metrics)
    app.receipt_fast_path = ReceiptFastPath(app, HotRouteMetrics(prometheus, method="GET", path=RECEIPT_TEMPLATE))
    app.page_fast_path = PageFastPath(app, prometheus)
    return app
