"""The ceiling: what granian + Litestar + msgspec do on this machine with no I/O at all.

Same path, same request body and a response of the same shape as the real vote, so the one wrk script
drives all three servers; nothing is verified or stored. Whatever the voting service does per vote costs
the difference between this figure and its own.
"""

from __future__ import annotations

from litestar import Litestar, get, post

from shared.rsgi import ASGIOverRSGI
from voting_service.models import VoteAccepted, VoteIn  # the service's own request and answer shapes


@post("/api/v1/campaigns/{campaign_id:str}/votes", status_code=201)
async def cast(campaign_id: str, data: VoteIn) -> VoteAccepted:
    return VoteAccepted(receipt=f"{campaign_id}.0.0-0.ceiling", candidate_id=data.candidate_id, votes_left=2)


@get("/health/ready", cache=False)
async def ready() -> dict[str, str]:
    return {"status": "ready"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[cast, ready], openapi_config=None, debug=False)


def create_rsgi_app() -> ASGIOverRSGI:
    """The same app as granian serves the voting service: RSGI, through shared/rsgi.py."""
    return ASGIOverRSGI(create_app())
