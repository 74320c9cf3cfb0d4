"""The ceiling: what granian + Litestar + msgspec do on this machine with no I/O at all.

Same path, same request body and a response of the same shape as the real vote, so the one wrk script
drives all three servers; nothing is verified or stored. Whatever the voting service does per vote costs
the difference between this figure and its own.
"""

from __future__ import annotations

from litestar import Litestar, Response, get, post

from shared.rsgi import ASGIOverRSGI
from voting_service.models import (  # the service's own request and answer shapes
    InclusionProof, OtpRequest, OtpSent, OtpVerify, Receipt, ReceiptTreeHead, VoteAccepted, VoteIn,
)


@post("/api/v1/campaigns/{campaign_id:str}/votes", status_code=201)
async def cast(campaign_id: str, data: VoteIn) -> VoteAccepted:
    return VoteAccepted(receipt=f"{campaign_id}.0.0-0.ceiling", candidate_id=data.candidate_id, votes_left=2)


# The sign-in path's ceiling (the bench's sign-in phase, wrk/signin.lua): the code request and the code check,
# bodies decoded into the service's own request types, answered with the service's shapes and statuses (the
# check as the bench's wrong code gets it: a 401 problem document), no I/O.
@post("/api/v1/auth/otp", status_code=202)
async def request_otp(data: OtpRequest) -> OtpSent:
    return OtpSent(expires_in=300, resend_after=60)


_INVALID_CODE = (b'{"type":"https://errors.100faces.kz/invalid_code","title":"Wrong or expired code","status":401,'
                 b'"detail":"The code is wrong or has expired.","code":"invalid_code","attempts_left":4}')


@post("/api/v1/auth/otp/verify", status_code=401)
async def verify_otp(data: OtpVerify) -> Response[bytes]:
    return Response(_INVALID_CODE, status_code=401, media_type="application/problem+json")


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
    return Litestar(route_handlers=[cast, request_otp, verify_otp, receipt, ready], openapi_config=None, debug=False)


def create_rsgi_app() -> ASGIOverRSGI:
    """The same app as granian serves the voting service: RSGI, through shared/rsgi.py."""
    return ASGIOverRSGI(create_app())
