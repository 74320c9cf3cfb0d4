"""The fraud review page of a campaign (secretariat, working group, auditor): the flagged clusters with their
signals, highest score first, filtered by kind and paged; the working group invalidates a whole cluster from
it, with a reason (the same service and audit entry as ``POST /api/v1/campaigns/{id}/invalidations``)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from admin_service.auth.context import staff_of
from admin_service.auth.guards import roles
from admin_service.services import campaigns as campaigns_service
from admin_service.services import fraud as fraud_service
from admin_service.services import invalidations
from admin_service.services.common import parse_id
from admin_service.web.controllers.forms import form_of, int_or_none
from admin_service.web.render import page, see_other
from admin_service.state import AppServices, Services
from shared.errors import AppError, InvalidRequest

PER_PAGE = 50
REASON_MAX = 2000


async def _fraud_page(request: Request, services: Services, cid: int, *, kind: str | None, offset: int,
                      status: int = 200, error: AppError | None = None) -> Response:
    pool = services.pool
    campaign = await campaigns_service.get(pool, campaign_id=cid)
    flags = await fraud_service.flags(pool, campaign_id=cid, limit=PER_PAGE, offset=offset, kind=kind,
                                      cache=services.fraud_flags)
    can_invalidate = staff_of(request).has("working_group") and campaign["state"] != "finalised"
    return page(request, "campaigns/fraud.html", status=status, campaign=campaign, flags=flags, kind=kind or "",
                offset=offset, per_page=PER_PAGE, can_invalidate=can_invalidate, error=error)


class FraudPages(Controller):
    path = "/campaigns/{campaign_id:str}/fraud"
    guards = [roles("secretariat", "working_group", "auditor")]

    @get("/", operation_id="webFraudFlags", include_in_schema=False)
    async def flags(self, request: Request, services: AppServices, campaign_id: FromPath[str],
                    kind: FromQuery[str | None] = None, offset: FromQuery[str | None] = None) -> Response:
        kind = kind or None
        return await _fraud_page(request, services, parse_id(campaign_id, "campaign"), kind=kind,
                                 offset=max(0, int_or_none(offset) or 0))

    @post("/invalidate", operation_id="webFraudInvalidate", include_in_schema=False,
          guards=[roles("working_group")], opt={"form": True})
    async def invalidate(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        fields = await form_of(request)
        try:
            reason = fields.get("reason", "")
            if not reason or len(reason) > REASON_MAX:
                raise InvalidRequest(f"Give the reason (1 to {REASON_MAX} characters).", extra={"field": "reason"},
                                     key="reason_length", params={"n": REASON_MAX})
            await invalidations.invalidate_cluster(services.pool, campaign_id=cid,
                                                   cluster_id=fields.get("cluster_id", "")[:64], reason=reason,
                                                   actor=staff_of(request))
        except AppError as exc:  # no such cluster, finalised, no reason...: the page again, with the reason
            if exc.status >= 500:
                raise
            return await _fraud_page(request, services, cid, kind=None, offset=0, status=exc.status, error=exc)
        finally:
            services.fraud_flags.forget(cid)
        return see_other(f"/campaigns/{cid}/fraud?ok=invalidated")
