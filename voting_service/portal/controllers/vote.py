"""A vote from the portal's form: the same BallotBox as ``POST /api/v1/campaigns/{id}/votes`` (caps, dedup,
rate limits and metrics are one), then 303 back to the page the voter was on, where the outcome is shown once
(personal.py), receipt included, or the refusal explained."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import redis.exceptions
from litestar import Controller, Request, Response, post
from litestar.params import FromPath

from shared.errors import AppError, RateLimited
from voting_service import metrics
from voting_service.deps import client_of
from voting_service.portal import csrf, session
from voting_service.portal.forms import fields_of, flow_page, next_path, one
from voting_service.portal.challenge import FIELD as CHALLENGE_FIELD, challenge_page
from voting_service.services.challenge import ChallengeFailed, ChallengeRequired
from voting_service.portal.flows_blocks import REFUSALS
from voting_service.portal.render import see_other
from voting_service.services.ballot_box import signals_of
from voting_service.state import AppServices

OUTAGES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, TimeoutError)


def _back(slug: str, wanted: str) -> str:
    """The ballot or candidate page the vote came from (with its filters), else the ballot."""
    home = f"/campaigns/{slug}"
    path = next_path(wanted, home)
    if path != home and not path.startswith(home + "/") and not path.startswith(home + "?"):
        return home
    return path.split("#", 1)[0]


class VotePages(Controller):
    path = "/campaigns"
    tags = ["portal"]

    @post("/{slug:str}/vote", operation_id="portalVote", opt={"form": True}, status_code=303)
    async def vote(self, request: Request, slug: FromPath[str], services: AppServices) -> Response[Any]:
        fields = await fields_of(request)
        back = _back(slug, one(fields, "back"))
        campaign = await services.portal.by_slug(slug)  # 404 page for an unknown campaign
        campaign_id = str(campaign["id"])
        candidate_id = one(fields, "candidate_id")[:32]
        notice: dict[str, Any] = {"k": "vote", "campaign": campaign_id, "cand": candidate_id}
        try:
            csrf.verify(request, services, one(fields, csrf.FIELD))
        except csrf.CsrfFailed:
            return see_other(back + "#outcome", cookies=[session.notice_cookie(
                request, services, {**notice, "code": "csrf_failed"})])
        claims = session.voter_claims(request, services)
        if claims is None:  # signed out, or the sign-in expired: sign in, then back to this page
            return see_other(f"/signin?next={quote(back, safe='/')}", cookies=[session.notice_cookie(
                request, services, {**notice, "code": "invalid_token"})])
        cookies = []
        if not candidate_id:
            notice["code"] = "candidate_not_on_ballot"
        else:
            client = client_of(request, services)
            try:
                accepted = await services.ballot_box.cast(
                    campaign_id=int(campaign_id), voter=claims.voter, candidate_id=candidate_id,
                    ip_hash=client.ip_hash, ip_net=client.net, scope=client.scope,
                    solution=one(fields, CHALLENGE_FIELD) or None,
                    signals=signals_of(claims, request.headers.get("user-agent"),
                                       request.headers.get("accept-language"), True, time.time()))
            except ChallengeRequired as exc:
                metrics.votes().labels(exc.code).inc()
                return challenge_page(request, services, route="vote", action=f"/campaigns/{slug}/vote",
                                      fields=fields, challenge=exc.challenge)
            except ChallengeFailed as exc:
                metrics.votes().labels(exc.code).inc()
                return challenge_page(request, services, route="vote", action=f"/campaigns/{slug}/vote",
                                      fields=fields, failed=True)
            except RateLimited as exc:
                metrics.votes().labels(exc.code).inc()
                notice.update(code=exc.code, wait=exc.retry_after)  # shown as "45 s"
            except AppError as exc:
                metrics.votes().labels(exc.code).inc()
                notice.update(code=exc.code if exc.code in REFUSALS else "unavailable",
                              left=exc.extra.get("votes_left"))
            except OUTAGES:
                metrics.votes().labels("unavailable").inc()
                notice["code"] = "unavailable"
            else:
                metrics.votes().labels("accepted").inc()
                notice.update(code="accepted", left=accepted.votes_left, receipt=accepted.receipt)
                cookies.append(session.remember_receipt(request, services, claims.voter, campaign_id,
                                                        accepted.receipt))
        if notice["code"] == "campaign_closed":
            # The ballot of a campaign that is not open has no personal part to show the outcome in: say it here.
            return flow_page(request, services, "flows/vote_refused.html", status=403, code="campaign_closed",
                             back=back, campaign=campaign)
        cookies.append(session.notice_cookie(request, services, notice))
        return see_other(back + "#outcome", cookies=cookies)
