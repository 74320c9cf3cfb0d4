"""The vote and the voter's own choices."""

from __future__ import annotations

import time

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from shared.errors import AppError
from voting_service import metrics
from voting_service.deps import client_of, ChallengeSolution, voter_claims_of
from voting_service.models import MyVotes, VoteAccepted, VoteIn
from voting_service.services.ballot_box import PAGE_TOKEN_HEADER, signals_of
from voting_service.services.directory import parse_campaign_id
from voting_service.state import AppServices


class VoteController(Controller):
    path = "/api/v1/campaigns/{campaign_id:str}"
    tags = ["vote"]

    @post("/votes", operation_id="castVote", status_code=201, opt={"problems": (401, 403, 409, 428, 429)})
    async def cast(self, request: Request, campaign_id: FromPath[str], data: JSONBody[VoteIn],
                   services: AppServices, solution: ChallengeSolution = None) -> VoteAccepted:
        claims = voter_claims_of(request, services)
        client = client_of(request, services)
        h = request.headers
        try:
            accepted = await services.ballot_box.cast(
                campaign_id=parse_campaign_id(campaign_id), voter=claims.voter, candidate_id=data.candidate_id,
                ip_hash=client.ip_hash, ip_net=client.net, scope=client.scope, solution=solution,
                signals=signals_of(claims, h.get("user-agent"), h.get("accept-language"),
                                   PAGE_TOKEN_HEADER in h, time.time()),
            )
        except AppError as exc:
            metrics.votes().labels(exc.code).inc()
            raise
        metrics.votes().labels("accepted").inc()
        return VoteAccepted(receipt=accepted.receipt, candidate_id=accepted.candidate_id,
                            votes_left=accepted.votes_left)

    @get("/my-votes", operation_id="myVotes", cache=False, opt={"problems": (401,)})
    async def my_votes(self, request: Request, campaign_id: FromPath[str], services: AppServices) -> MyVotes:
        claims = voter_claims_of(request, services)
        ids, left = await services.ballot_box.my_votes(campaign_id=parse_campaign_id(campaign_id), voter=claims.voter)
        if time.time() - claims.iat > services.settings.my_votes_fresh_s:
            return MyVotes(votes_left=left, fresh_sign_in_needed=True)  # vote buying: no proof from old tokens
        return MyVotes(candidate_ids=ids, votes_left=left)
