"""The ceiling: what granian + Litestar + msgspec do on this machine with no I/O at all.

Same path, same request body and a response of the same shape as the real vote, so the one wrk script
drives all three servers; nothing is verified or stored. Whatever the voting service does per vote costs
the difference between this figure and its own.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Litestar, get, post
from msgspec import Meta

from shared.rsgi import ASGIOverRSGI


class VoteIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    candidate_id: Annotated[str, Meta(min_length=1, max_length=32)]


class VoteAccepted(msgspec.Struct):
    receipt: str
    candidate_id: str
    votes_left: int


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
