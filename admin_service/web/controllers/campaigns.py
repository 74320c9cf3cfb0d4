"""Campaign pages: the list, the create form, and one campaign's page with the ballot builder (shortlisted
candidates to tick, the composition by region, sphere, gender and ethnicity against population shares,
updated by htmx as boxes are ticked), publish and close."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.services import campaigns as service
from admin_service.services import candidates as candidates_service
from admin_service.services.campaign_reports import composition_of
from admin_service.services.common import parse_id
from admin_service.web.controllers.forms import form_list, form_of, int_or_none
from admin_service.web.controllers.listing import slice_rows
from admin_service.web.render import page, see_other
from admin_service.state import AppServices, Services
from shared.errors import Conflict, InvalidRequest

WG = roles("working_group")
PAGE = 200  # the service's largest page; the builder reads every shortlisted candidate
BALLOT_SORTS = {"ballot": lambda c: c["pos"], "name": lambda c: (c["full_name"].casefold(), c["pos"])}


def _utc(value: str, field: str) -> str:
    """``<input type=datetime-local>`` (no zone; the form says UTC) -> RFC 3339."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{field}: enter a date and time.", extra={"field": field}, key="date_time",
                             params={"field": field}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


def campaign_data(fields: dict[str, str]) -> dict[str, Any]:
    return {
        "slug": fields.get("slug", "").lower(),
        "title": {"ru": fields.get("title_ru", ""), "kk": fields.get("title_kk", ""),
                  "en": fields.get("title_en", "")},
        "opens_at": _utc(fields.get("opens_at", ""), "opens_at"),
        "closes_at": _utc(fields.get("closes_at", ""), "closes_at"),
        "votes_per_voter": int_or_none(fields.get("votes_per_voter")) or 0,
        "seats": int_or_none(fields.get("seats")) or 0,
        "live_results": fields.get("live_results") in ("on", "true", "1"),
    }


def _defaults() -> dict[str, Any]:
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return {"slug": "", "title_ru": "", "title_kk": "", "title_en": "",
            "opens_at": start.strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (start + dt.timedelta(days=23)).strftime("%Y-%m-%dT%H:%M"),
            "votes_per_voter": "3", "seats": "100", "live_results": ""}


async def _shortlisted(services: Services) -> list[dict[str, Any]]:
    pool, found, page_no = services.pool, [], 1
    while True:
        items, total = await candidates_service.search(pool, status="shortlisted", page=page_no, per_page=PAGE)
        found.extend(items)
        if len(found) >= total or not items:
            return found
        page_no += 1


class CampaignPages(Controller):
    path = "/campaigns"
    guards = [roles(*ANY_ROLE)]

    @get("/", operation_id="webCampaigns", include_in_schema=False)
    async def list_campaigns(self, request: Request, services: AppServices) -> Response:
        return page(request, "campaigns/list.html", campaigns=await service.list_all(services.pool))

    @get("/new", operation_id="webCampaignForm", include_in_schema=False, guards=[WG])
    async def new_form(self, request: Request) -> Response:
        return page(request, "campaigns/new.html", v=_defaults(), error=None)

    @post("/", operation_id="webCampaignCreate", include_in_schema=False, guards=[WG], opt={"form": True})
    async def create(self, request: Request, services: AppServices) -> Response:
        fields = await form_of(request)
        try:
            campaign = await service.create(services.pool, data=campaign_data(fields),
                                            actor=staff_of(request))
        except (InvalidRequest, Conflict) as exc:  # the form again, with what was typed
            return page(request, "campaigns/new.html", status=exc.status, v={**_defaults(), **fields},
                        error=exc)
        return see_other(f"/campaigns/{campaign['id']}?ok=campaign_created")

    @get("/{campaign_id:str}", operation_id="webCampaign", include_in_schema=False)
    async def campaign(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        campaign = await service.get(services.pool, campaign_id=cid)
        staff = staff_of(request)
        editable = campaign["state"] == "draft" and staff.has("working_group")
        on_ballot = {c["id"] for c in campaign["ballot"]}
        rows = [*campaign["ballot"], *(c for c in await _shortlisted(services) if c["id"] not in on_ballot)] \
            if editable else campaign["ballot"]
        # A long ballot is shown a page at a time (search, region, sphere, order from the query); the boxes
        # ticked on other pages travel with the form as hidden fields, so saving keeps them.
        rows = [{**c, "pos": n} for n, c in enumerate(rows)]
        listed = slice_rows(rows, request.query_params, sorts=BALLOT_SORTS)
        shown = {c["id"] for c in listed.items}
        return page(request, "campaigns/campaign.html", campaign=campaign, editable=editable, ls=listed,
                    selected=on_ballot, hidden_selected=[i for i in campaign["ballot"] if i["id"] not in shown],
                    ballot_sorts=[("ballot", "list.sort_ballot"), ("name", "list.sort_name")],
                    composition=composition_of(campaign["ballot"]))

    @post("/{campaign_id:str}/ballot/preview", operation_id="webBallotPreview", include_in_schema=False,
          guards=[WG], opt={"form": True})
    async def preview(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        """The composition of the boxes ticked so far (nothing is saved): htmx swaps it into the page."""
        cid = parse_id(campaign_id, "campaign")
        campaign = await service.get(services.pool, campaign_id=cid)
        wanted = set(await form_list(request, "candidate_id"))
        pool = {c["id"]: c for c in [*campaign["ballot"], *await _shortlisted(services)]}
        chosen = [pool[i] for i in wanted if i in pool]
        return page(request, "campaigns/_composition.html", composition=composition_of(chosen))

    @post("/{campaign_id:str}/ballot", operation_id="webBallotSave", include_in_schema=False, guards=[WG],
          opt={"form": True})
    async def save_ballot(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        ids = await form_list(request, "candidate_id")
        await service.set_ballot(services.pool, campaign_id=cid, candidate_ids=ids,
                                 actor=staff_of(request))
        return see_other(f"/campaigns/{cid}?ok=ballot")

    @post("/{campaign_id:str}/publish", operation_id="webCampaignPublish", include_in_schema=False,
          guards=[WG], opt={"form": True})
    async def publish(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        await service.publish(services.pool, services.redis, campaign_id=cid,
                              actor=staff_of(request))
        return see_other(f"/campaigns/{cid}?ok=published")

    @post("/{campaign_id:str}/close", operation_id="webCampaignClose", include_in_schema=False,
          guards=[WG], opt={"form": True})
    async def close(self, request: Request, services: AppServices, campaign_id: FromPath[str]) -> Response:
        cid = parse_id(campaign_id, "campaign")
        await service.close(services.pool, services.redis, campaign_id=cid,
                            actor=staff_of(request))
        return see_other(f"/campaigns/{cid}?ok=closed")
