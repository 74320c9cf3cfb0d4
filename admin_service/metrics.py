"""Prometheus instrumentation of the admin service (request counts and latency by route template)."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

APP_NAME = "admin"
PREFIX = "litestar"


def prometheus_config() -> PrometheusConfig:
    # group_path: label by route template ("/api/v1/candidates/{candidate_id}"), never by raw path.
    return PrometheusConfig(app_name=APP_NAME, prefix=PREFIX, group_path=True, exclude=["/metrics", "/health"])


class MetricsController(PrometheusController):
    """GET /metrics; honours PROMETHEUS_MULTIPROC_DIR when granian runs several workers."""

    path = "/metrics"
    include_in_schema = False
