"""``/my-votes``: per campaign, the votes left, whom the voter chose (after a recent sign-in only, as
GET /api/v1/campaigns/{id}/my-votes: a buyer of votes gets no proof from an old sign-in) and the receipts this
browser kept. Signed-in voters only; others are sent through the sign-in and back."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from voting_service.portal import csrf, session
from voting_service.portal.forms import flow_page
from voting_service.portal.reads import status_now
from voting_service.portal.render import see_other
from voting_service.services.directory import CampaignNotFound
from voting_service.state import AppServices


class MyVotesPage(Controller):
    path = "/my-votes"
    tags = ["portal"]

    @get("/", operation_id="portalMyVotes", name="portal:my-votes")
    async def my_votes(self, request: Request, services: AppServices) -> Response[Any]:
        claims = session.voter_claims(request, services)
        if claims is None:
            return see_other("/signin?next=/my-votes")
        fresh = session.fresh(claims, services)
        kept = session.receipts_of(request, services, claims.voter)
        campaigns = []
        for row in await services.portal.campaigns():
            status = status_now(row)
            if status == "scheduled":
                continue
            try:
                chosen, left = await services.ballot_box.my_votes(campaign_id=row["id"], voter=claims.voter)
            except CampaignNotFound:  # no vote store for it (any more): nothing to show
                continue
            receipts = [r for c, r in kept if c == str(row["id"])]
            if status != "open" and not chosen and not receipts:
                continue
            names = {str(c["id"]): c["full_name"] for c in await services.directory.ballot(row["id"])}
            campaigns.append({"row": row, "status": status, "left": left, "used": len(chosen),
                              "chosen": [(c, names.get(c, "")) for c in chosen] if fresh else None,
                              "receipts": receipts})
        notice, cookies = session.take_notice(request, services)
        token, csrf_cookies = csrf.form_token(request, services)
        return flow_page(request, services, "flows/my_votes.html", campaigns=campaigns, fresh=fresh,
                         notice=notice, csrf_token=token, cookies=[*cookies, *csrf_cookies])
