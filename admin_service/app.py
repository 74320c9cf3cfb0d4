"""The admin service's application factory.

``granian --interface asgi --factory admin_service.app:create_app`` (or ``python -m admin_service serve``).
Tests call ``create_app(settings, pool=..., redis=...)`` with resources they own; those are never closed here,
and may pass ``password_hasher=`` a cheap argon2 ``PasswordHasher`` (production always uses
``admin_service.auth.passwords.production_hasher()``: m=19 MiB, t=2, p=1, argon2id).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as aioredis
from argon2 import PasswordHasher
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig

from admin_service.api import API_CONTROLLERS
from admin_service.api.health import HealthController
from admin_service.auth.guards import authenticate
from admin_service.auth.passwords import Passwords
from admin_service.metrics import MetricsController, prometheus_config
from admin_service.state import Services
from admin_service.web import static_files, template_config, web_router
from admin_service.web.errors import html_or_problem, staff_for_error_page
from shared.apidocs import docs_assets, docs_plugins
from shared.http import JSONRequest, allow_every_method, require_json
from shared.infra import create_pool, create_redis
from shared.openapi import STATE_CHANGING, openapi_plugins
from shared.route_metrics import prime_route_metrics
from shared.problem import exception_handlers
from shared.settings import Settings
from shared.wiring import SERVICES, service_dependencies

TITLE = "100 New Faces — admin"
VERSION = "0.1.0"


def problem_rules(handler: HTTPRouteHandler, _path: str) -> set[int]:
    """Error statuses by convention (shared/openapi.py): the API's guard answers 401 without a session and
    403 for a wrong role, CSRF token or Origin; changes can conflict (409); everything reads Postgres or
    Redis (503). Sign-in adds 401 for wrong credentials and 429 for throttling."""
    guards = handler.resolve_guards()
    if authenticate not in guards:
        return {503} if handler.operation_id == "healthReady" else set()
    out = {401, 403, 503}
    if handler.http_methods & STATE_CHANGING and not handler.opt.get("public"):
        out.add(409)
    if handler.opt.get("public"):
        out.add(429)
    return out


def create_app(settings: Settings | None = None, *, pool: asyncpg.Pool | None = None,
               redis: aioredis.Redis | None = None, password_hasher: PasswordHasher | None = None) -> Litestar:
    settings = settings if settings is not None else Settings.from_env(service="admin")
    settings.require_service("admin")  # its own keys only: never the voter-token or pseudonym keys
    passwords = Passwords(password_hasher)
    # Handed-in resources (tests) make the services ready before any lifespan runs; otherwise the lifespan
    # builds them (shared/wiring.py: handlers get them as ``services``).
    ready = Services.build(settings, pool, redis, passwords) if pool is not None and redis is not None else None
    state = State({SERVICES: ready})

    @asynccontextmanager
    async def resources(app: Litestar) -> AsyncIterator[None]:
        prime_route_metrics(app, metrics)  # every request series from the start, at zero
        # Only what is created here is closed here: resources handed in belong to the caller.
        if app.state.services is not None:
            yield
            return
        own_pool = await create_pool(settings.database_url) if pool is None else None
        own_redis = create_redis(settings.redis_url, timeout_s=settings.redis_timeout_s) if redis is None else None
        app.state.services = Services.build(settings, own_pool or pool, own_redis or redis, passwords)
        try:
            yield
        finally:
            app.state.services = None
            if own_redis is not None:
                await own_redis.aclose()
            if own_pool is not None:
                await own_pool.close()

    metrics = prometheus_config()
    api = Router(path="/api/v1", guards=[authenticate], route_handlers=API_CONTROLLERS)
    # Web UI (admin_service/web): pages behind the same guard (opt web -> no session means a redirect to
    # /login, errors render as HTML, see web/errors.py), public static files, Jinja templates.
    web = [web_router(), static_files(), docs_assets()]
    return Litestar(
        route_handlers=[HealthController, MetricsController, api, *web],
        template_config=template_config(),
        dependencies=service_dependencies(),
        state=state,
        lifespan=[resources],
        before_request=require_json,
        before_send=[allow_every_method],
        request_class=JSONRequest,
        request_max_body_size=settings.max_body_bytes * 8,
        middleware=[metrics.middleware],
        # A browser's unknown URL is an error page (web/errors.py); the API keeps problem documents.
        exception_handlers=html_or_problem(exception_handlers()),
        after_exception=[staff_for_error_page],
        openapi_config=OpenAPIConfig(title=TITLE, version=VERSION, path="/schema", render_plugins=docs_plugins()),
        plugins=openapi_plugins(problem_rules),
        debug=False,
    )
