"""A campaign's results page: the count per ballot candidate (recorded, invalidated by fraud review, valid,
and the live Redis tally while votes may still be in flight), once voting has ended the choice of a
selection policy (top votes, bounds per group, proportional to the population) with a Preview (working group
and auditors: the list, who entered and left against top votes, what it cost, the composition) and the
finalise action (working group), and after finalisation the frozen result: the seated candidates, ties at
the cut, the digest and Merkle root with links to the files that let anyone recompute them."""

from __future__ import annotations

import datetime as dt
import math

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.services import campaign_reports
from admin_service.services import campaigns as campaigns_service
from admin_service.services import finalise as finalise_service
from admin_service.services import selection
from admin_service.services.common import parse_id
from admin_service.web.controllers.forms import form_of
from admin_service.web.controllers.listing import slice_rows
from admin_service.web.render import page, see_other
from admin_service.state import AppServices, Services
from shared.errors import AppError, InvalidRequest
from shared.reference import GENDERS, demographics, regions, spheres

BOUND_ROWS = 6  # rows of the bounds table on the form
# The count table's orders (?sort=): by valid votes (the rank), the fewest first, by name.
COUNT_SORTS = {"votes": lambda c: c["rank"], "votes_asc": lambda c: -c["rank"],
               "name": lambda c: (c["full_name"].casefold(), c["rank"])}


def policy_choices(fields: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the template shows them again (after a preview or a refusal)."""
    return {"kind": fields.get("policy_kind", "top_votes"), "fields": fields,
            "dimensions": [d for d in ("region", "gender", "ethnicity") if fields.get(f"dimension_{d}")]}


def policy_from_form(fields: dict[str, str]) -> selection.Policy:
    """``policy_kind`` top_votes | bounds | proportional; bounds from the rows ``bound_group_<n>`` (``region:KZ-75``)
    with ``bound_min_<n>`` / ``bound_max_<n>``; proportional from the ``dimension_<d>`` boxes and
    ``tolerance`` in percent. A malformed field is a 422 naming it, as in the API."""
    kind = fields.get("policy_kind", "top_votes")
    if kind == "bounds":
        bounds = []
        for n in range(BOUND_ROWS):
            group = fields.get(f"bound_group_{n}", "")
            if not group:
                continue
            dimension, _, value = group.partition(":")
            bound: dict[str, Any] = {"dimension": dimension, "value": value}
            for end in ("min", "max"):
                raw = fields.get(f"bound_{end}_{n}", "")
                if raw:
                    # ASCII digits only: str.isdigit() also accepts '²' and other digits int() refuses
                    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
                        raise InvalidRequest(f"Row {n + 1}: {end} must be a whole number.",
                                             extra={"field": f"bound_{end}_{n}"}, key=f"bound_{end}_number",
                                             params={"row": n + 1})
                    bound[end] = int(raw)
            bounds.append(bound)
        if not bounds:
            raise InvalidRequest("Choose at least one group and its min or max.", extra={"field": "bound_group_0"},
                                 key="bounds_none")
        raw_policy: dict[str, Any] = {"kind": "bounds", "bounds": bounds}
    elif kind == "proportional":
        dims = [d for d in ("region", "gender", "ethnicity") if fields.get(f"dimension_{d}")]
        if not dims:
            raise InvalidRequest("Tick at least one dimension.", extra={"field": "dimension_region"},
                                 key="dimensions_none")
        try:
            tolerance = float(fields.get("tolerance") or "25") / 100
        except ValueError:
            tolerance = math.nan
        if not 0 <= tolerance <= 1:  # also NaN and infinities, which float() reads from 'nan', 'inf', '1e999'
            raise InvalidRequest("The tolerance is a percentage.", extra={"field": "tolerance"},
                                 key="tolerance_percent")
        raw_policy = {"kind": "proportional", "dimensions": dims, "tolerance": tolerance}
    else:
        raw_policy = {"kind": "top_votes"}
    try:
        return msgspec.convert(raw_policy, selection.Policy)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"The policy is not valid: {exc}.", extra={"field": "policy"},
                             key="policy_invalid") from None


def group_options() -> list[tuple[str, list[str]]]:
    """The groups a bound can be for, by dimension (labels: codes; the template names them)."""
    return [("region", [r["code"] for r in regions()]), ("sphere", [s["code"] for s in spheres()]),
            ("gender", list(GENDERS)), ("ethnicity", list(demographics()["ethnicity"]["shares_pct"]))]


async def _results_page(request: Request, services: Services, cid: int, *, status: int = 200,
                        error: AppError | None = None, preview: dict[str, Any] | None = None,
                        fields: dict[str, str] | None = None) -> Response:
    pool = services.pool
    campaign = await campaigns_service.get(pool, campaign_id=cid)
    results = await campaign_reports.results(pool, campaign_id=cid, redis=services.redis)
    snapshot = await finalise_service.get(pool, campaign_id=cid) if campaign["state"] == "finalised" else None
    ended = campaign["state"] == "closed" or (
        campaign["state"] == "published" and campaign["closes_at"] <= dt.datetime.now(dt.UTC))
    staff = staff_of(request)
    can_finalise = ended and staff.has("working_group")
    can_preview = ended and (staff.has("working_group") or staff.has("auditor"))
    ranked = [{**c, "rank": n} for n, c in enumerate(results["candidates"], start=1)]
    listed = slice_rows(ranked, request.query_params, sorts=COUNT_SORTS)
    return page(request, "campaigns/results.html", status=status, campaign=campaign, results=results, ls=listed,
                count_sorts=[("votes", "list.sort_votes"), ("votes_asc", "list.sort_votes_asc"),
                             ("name", "list.sort_name")],
                snapshot=snapshot, can_finalise=can_finalise, can_preview=can_preview, error=error,
                preview=preview, choice=policy_choices(fields or {}), bound_rows=BOUND_ROWS,
                groups=group_options(),
                snapshot_policy=_snapshot_policy(snapshot))


def _snapshot_policy(snapshot: dict[str, Any] | None) -> str | None:
    if snapshot is None:
        return None
    return snapshot["report"].get("policy") or snapshot["policy"]


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
        fields = await form_of(request)
        try:
            await finalise_service.finalise(services.pool, services.redis, campaign_id=cid,
                                            policy=policy_from_form(fields), actor=staff_of(request),
                                            signer=services.tree_heads)
        except AppError as exc:  # not drained, not reconciled, still open...: the page again, with the reason
            if exc.status >= 500:
                raise
            return await _results_page(request, services, cid, status=exc.status, error=exc, fields=fields)
        return see_other(f"/campaigns/{cid}/results?ok=finalised")

    @post("/finalise/preview", operation_id="webCampaignFinalisePreview", include_in_schema=False,
          guards=[roles("working_group", "auditor")], opt={"form": True})
    async def preview(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        fields = await form_of(request)
        try:
            shown = await finalise_service.preview(services.pool, services.redis, campaign_id=cid,
                                                   policy=policy_from_form(fields), actor=staff_of(request))
        except AppError as exc:
            if exc.status >= 500:
                raise
            return await _results_page(request, services, cid, status=exc.status, error=exc, fields=fields)
        return await _results_page(request, services, cid, preview=shown, fields=fields)
