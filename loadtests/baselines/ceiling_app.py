"""The ceiling: what granian + Litestar + msgspec do on this machine with no I/O at all.

Same path, same request body and a response of the same shape as the real vote, so the one wrk script
drives all three servers; nothing is verified or stored. Whatever the voting service does per vote costs
the difference between this figure and its own.
"""

from __future__ import annotations

from litestar import Litestar, get, post

from shared.rsgi import ASGIOverRSGI
from voting_service.models import (  # the service's own request and answer shapes
    InclusionProof, Receipt, ReceiptTreeHead, VoteAccepted, VoteIn,
)


@post("/api/v1/campaigns/{campaign_id:str}/votes", status_code=201)
async def cast(campaign_id: str, data: VoteIn) -> VoteAccepted:
    return VoteAccepted(receipt=f"{campaign_id}.0.0-0.ceiling", candidate_id=data.candidate_id, votes_left=2)


# The receipt lookup's ceiling (loadtests/finalise_bench.py): a GET answering a fixed receipt with a proof of
# the length a 5,000,000-leaf tree gives (23 hashes), no I/O, the service's own answer type.
_PROOF = Receipt(receipt="1.0.1767000000000-0.ceilingceil", campaign_id="1", status="recorded",
                 proof=InclusionProof(leaf_index=4_000_000, tree_size=5_000_000, leaf_hash="ab" * 32,
                                      audit_path=["cd" * 32] * 23, commitment="ef" * 32),
                 tree_head=ReceiptTreeHead(tree_size=5_000_000, root_hash="01" * 32, digest="23" * 32,
                                           signature="A" * 86 + "==", key_id="0123456789abcdef", public_key="B" * 43 + "="))


@get("/api/v1/receipts/{receipt:str}", cache=False)
async def receipt(receipt: str) -> Receipt:
    return _PROOF


@get("/health/ready", cache=False)
async def ready() -> dict[str, str]:
    return {"status": "ready"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[cast, receipt, ready], openapi_config=None, debug=False)


def create_rsgi_app() -> ASGIOverRSGI:
    """The same app as granian serves the voting service: RSGI, through shared/rsgi.py."""
    return ASGIOverRSGI(create_app())
