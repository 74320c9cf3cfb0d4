"""Every request series of a service exists from its start (issue 13): ``prime_route_metrics`` creates, at
zero, the series Litestar's Prometheus middleware (and the fast paths, voting_service/metrics.py) would create
on a route's first request: one per route template, method and status the route documents (its success status
and the problem statuses its OpenAPI operation lists, shared/openapi.py). Without it a fresh process answers
``/metrics`` with no request series at all, so dashboards show nothing and ``rate()`` has no baseline until
the first request of each kind.

Called once per process (each granian worker) from the app's lifespan; never per request.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.routes import HTTPRoute

SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})


def route_statuses(app: Litestar, exclude: list[str] | str | None = None) -> list[tuple[str, str, int]]:
    """(method, route template, status) of every route the middleware counts, but the OpenAPI document's own
    (``/schema/...``: a dozen renderers nobody graphs; counted when asked for, like any route)."""
    patterns = [exclude] if isinstance(exclude, str) else list(exclude or [])
    if app.openapi_config is not None:
        patterns.append("^" + re.escape(app.openapi_config.path.rstrip("/")) + "(/|$)")
    skip = re.compile("|".join(patterns)) if patterns else None
    out: set[tuple[str, str, int]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or (skip is not None and skip.search(route.path_format)):
            continue
        for handler in route.route_handlers:
            statuses = {int(handler.status_code)} | {int(s) for s in (handler.responses or {})}
            for method in handler.http_methods - SKIPPED_METHODS:
                out.update((method, route.path_format, s) for s in statuses)
    return sorted(out)


def prime_route_metrics(app: Litestar, config: PrometheusConfig) -> int:
    """Create the request series of ``app`` at zero; returns how many (method, path, status) sets."""
    mw = PrometheusMiddleware(_no_app, config)  # only for its metric accessors (the same objects it counts into)
    found = route_statuses(app, config.exclude)
    for method, path, status in found:
        labels: dict[str, Any] = {"method": method, "path": path, "status_code": status, "app_name": config.app_name}
        mw.request_count(labels).labels(**labels)
        mw.request_time(labels).labels(**labels)
        if status >= 500:
            mw.requests_error_count(labels).labels(**labels)
    for method, path in {(m, p) for m, p, _ in found}:  # in progress: labelled with the status a request starts from
        labels = {"method": method, "path": path, "status_code": 200, "app_name": config.app_name}
        mw.requests_in_progress(labels).labels(**labels)
    return len(found)


async def _no_app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never called
    raise RuntimeError("the priming middleware instance serves no requests")
