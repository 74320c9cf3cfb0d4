"""The home page, the rules and the privacy page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from shared.settings import Settings
from voting_service.portal import csrf, session
from voting_service.portal.controllers.serve import cached_page
from voting_service.portal.i18n import COOKIE as LANG_COOKIE
from voting_service.portal.reads import status_now
from voting_service.portal.render import LANG_COOKIE_AGE
from voting_service.state import AppServices

Life = tuple[str, dict[str, int]]


def _days(seconds: int) -> Life:
    return "privacy.life.days", {"n": seconds // 86400}


def _minutes(seconds: int) -> Life:
    return "privacy.life.minutes", {"n": max(1, seconds // 60)}


def cookies_set(settings: Settings) -> list[tuple[str, str, Life]]:
    """Every cookie the portal sets: its name, the catalogue key of its purpose, and its life (from the same
    constants and settings the code sets them with, so the privacy page cannot drift from what is done)."""
    return [
        (LANG_COOKIE, "privacy.cookie.lang", _days(LANG_COOKIE_AGE)),
        (session.VOTER, "privacy.cookie.voter", _minutes(settings.voter_token_ttl_s)),
        (session.SIGNIN, "privacy.cookie.signin", _minutes(settings.otp_ttl_s)),
        (csrf.COOKIE, "privacy.cookie.csrf", ("privacy.life.session", {})),
        (session.NOTICE, "privacy.cookie.notice", _minutes(session.NOTICE_MAX_AGE_S)),
        (session.RECEIPTS, "privacy.cookie.receipts", _days(session.RECEIPTS_MAX_AGE_S)),
    ]


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
        cookies = cookies_set(services.settings)
        return await cached_page(request, services, ("privacy",), "privacy.html",
                                 lambda _lang: {"cookies": cookies})
