"""The personal part of the ballot and candidate pages, put into the cached page's slot (cache.py) per request:
the outcome of the voter's last vote (once), their votes left, whom they chose (after a recent sign-in only,
as GET /my-votes; ``data-chosen`` lets static/portal.js mark those buttons), and the ``vote-form`` the page's
vote buttons submit (``<button form="vote-form">``) with this browser's CSRF token. Small on purpose: the rest
of the page is the same for everyone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from voting_service.portal import csrf, session
from voting_service.portal.forms import sayer, wait_text
from voting_service.portal.render import lang_of, render, request_context
from voting_service.services.directory import CampaignNotFound
from voting_service.state import Services

# Refusals of a vote (API.md) and the portal's own: each has a message ``vote.refused.<code>`` in every language.
REFUSALS = ("already_voted", "vote_limit_reached", "campaign_closed", "rate_limited", "unavailable",
            "candidate_not_on_ballot", "invalid_token", "campaign_not_found", "csrf_failed")


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def vote_notice(notice: dict[str, Any] | None, campaign_id: str) -> dict[str, Any] | None:
    if notice and notice.get("k") == "vote" and notice.get("campaign") == campaign_id:
        return notice
    return None


async def personal_ballot_block(request: Request, services: Services, campaign: Mapping[str, Any], *,
                                candidate_id: str | None = None) -> tuple[str, list[Cookie]] | None:
    """The slot's HTML for a signed-in voter (and the cookies to set), or None for everyone else."""
    claims = session.voter_claims(request, services)
    if claims is None:
        return None
    campaign_id = str(campaign["id"])
    try:
        chosen, left = await services.ballot_box.my_votes(campaign_id=int(campaign_id), voter=claims.voter)
    except CampaignNotFound:  # not (yet) in the vote store: the page everyone sees
        return None
    notice, cookies = session.take_notice(request, services)
    token, csrf_cookies = csrf.form_token(request, services)
    names = {str(r["id"]): r["full_name"] for r in await services.directory.ballot(int(campaign_id))}
    shown = session.fresh(claims, services)
    ctx = {
        **request_context(request, services.settings),
        "say": sayer(request),
        "campaign": campaign,
        "outcome": vote_notice(notice, campaign_id),
        "signed_in_now": bool(notice and notice.get("k") == "signed_in"),
        "votes_left": left,
        "votes_total": campaign["votes_per_voter"],
        "chosen": [(c, names.get(c, "")) for c in chosen] if shown else None,
        "this_chosen": shown and candidate_id is not None and candidate_id in chosen,
        "names": names,
        "csrf_token": token,
        "back": here(request),
        "lang": lang_of(request),
        "wait": wait_text,
    }
    return render("flows/_ballot_personal.html", ctx), [*cookies, *csrf_cookies]
