"""The home page, the rules and the privacy page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from voting_service.portal.controllers.serve import cached_page
from voting_service.portal.reads import status_now
from voting_service.state import AppServices


class SitePages(Controller):
    path = "/"

    @get("/", operation_id="portalHome", name="portal:home")
    async def home(self, request: Request, services: AppServices) -> Response[bytes]:
        rows = await services.portal.campaigns()
        statuses = tuple(status_now(r) for r in rows)
        version = services.portal.fingerprints.of("campaigns", rows)

        def context(_lang: str) -> dict[str, Any]:
            campaigns = [{**dict(r), "status": s} for r, s in zip(rows, statuses)]
            return {
                "open": [c for c in campaigns if c["status"] == "open"],
                "upcoming": [c for c in campaigns if c["status"] == "scheduled"],
                "past": [c for c in campaigns if c["status"] in ("closed", "finalised")],
            }

        return await cached_page(request, services, ("home", version, statuses), "home.html", context)

    @get("/rules", operation_id="portalRules", name="portal:rules")
    async def rules(self, request: Request, services: AppServices) -> Response[bytes]:
        return await cached_page(request, services, ("rules",), "rules.html", lambda _lang: {})

    @get("/privacy", operation_id="portalPrivacy", name="portal:privacy")
    async def privacy(self, request: Request, services: AppServices) -> Response[bytes]:
        return await cached_page(request, services, ("privacy",), "privacy.html", lambda _lang: {})
