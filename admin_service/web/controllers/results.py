"""A campaign's results page: the count per ballot candidate (recorded, invalidated by fraud review, valid,
and the live Redis tally while votes may still be in flight), the finalise action for the working group
once voting has ended, and after finalisation the frozen result: the seated candidates, ties at the cut,
the digest and Merkle root with links to the files that let anyone recompute them."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.services import campaign_reports
from admin_service.services import campaigns as campaigns_service
from admin_service.services import finalise as finalise_service
from admin_service.services.common import parse_id
from admin_service.web.render import page, see_other
from admin_service.state import AppServices, Services
from shared.errors import AppError


async def _results_page(request: Request, services: Services, cid: int, *, status: int = 200,
                        error: AppError | None = None) -> Response:
    pool = services.pool
    campaign = await campaigns_service.get(pool, campaign_id=cid)
    results = await campaign_reports.results(pool, campaign_id=cid, redis=services.redis)
    snapshot = await finalise_service.get(pool, campaign_id=cid) if campaign["state"] == "finalised" else None
    ended = campaign["state"] == "closed" or (
        campaign["state"] == "published" and campaign["closes_at"] <= dt.datetime.now(dt.UTC))
    can_finalise = ended and staff_of(request).has("working_group")
    return page(request, "campaigns/results.html", status=status, campaign=campaign, results=results,
                snapshot=snapshot, can_finalise=can_finalise, error=error)


class ResultsPages(Controller):
    path = "/campaigns/{campaign_id:str}"
    guards = [roles(*ANY_ROLE)]

    @get("/results", operation_id="webCampaignResults", include_in_schema=False)
    async def results(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        return await _results_page(request, services, parse_id(campaign_id, "campaign"))

    @post("/finalise", operation_id="webCampaignFinalise", include_in_schema=False,
          guards=[roles("working_group")], opt={"form": True})
    async def finalise(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        try:
            await finalise_service.finalise(services.pool, services.redis, campaign_id=cid,
                                            actor=staff_of(request), signer=services.tree_heads)
        except AppError as exc:  # not drained, not reconciled, still open...: the page again, with the reason
            if exc.status >= 500:
                raise
            return await _results_page(request, services, cid, status=exc.status, error=exc)
        return see_other(f"/campaigns/{cid}/results?ok=finalised")
