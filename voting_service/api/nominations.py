"""Citizens nominate somebody (or themselves); the secretariat triages in the admin service. The nominator
keeps a reference to look the status up (voting_service/services/nominations.py does the work)."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from shared.errors import InvalidRequest
from voting_service import metrics
from voting_service.deps import client_of, ChallengeSolution
from voting_service.models import NominationIn, NominationReceived, NominationStatus
from voting_service.services.nominations import parse
from voting_service.state import AppServices


def _voter_if_signed_in(request: Request, services: AppServices) -> str | None:
    """The pseudonym of a valid voter token in ``Authorization: Bearer``; None without one or for a bad one
    (the nomination is then simply not ``phone_confirmed``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    claims = services.tokens.claims(token.strip())
    return claims.voter if claims is not None else None


class NominationController(Controller):
    path = "/api/v1/nominations"
    tags = ["nominations"]

    @post("/", operation_id="submitNomination", status_code=202, opt={"problems": (403, 428, 429)})
    async def submit(self, request: Request, data: JSONBody[NominationIn], services: AppServices,
                     solution: ChallengeSolution = None) -> NominationReceived:
        """Optional ``Authorization: Bearer <voter token>``: when the token is the nominator's phone's, the
        nomination is ``phone_confirmed``. Optional ``consent``: ``processing`` must be true."""
        # Litestar converts bodies leniently ("1988" becomes 1988); the API promises strict types, so the body
        # is converted once more, strictly. Cheap here: nominations are rare.
        try:
            raw = msgspec.json.decode(await request.body())
        except msgspec.DecodeError as exc:
            raise InvalidRequest(str(exc)) from exc
        if not isinstance(raw, dict):
            raise InvalidRequest("Expected a JSON object.")
        client = client_of(request, services)
        receipt = await services.nominations.submit(parse(raw), ip_hash=client.ip_hash,
                                                    voter=_voter_if_signed_in(request, services), client=client,
                                                    solution=solution)
        metrics.nominations().inc()
        return NominationReceived(nomination_id=receipt.nomination_id, reference=receipt.reference,
                                  phone_confirmed=receipt.phone_confirmed)

    @get("/status/{reference:str}", operation_id="nominationStatus", cache=False, opt={"problems": (404, 429)})
    async def status(self, request: Request, reference: FromPath[str], services: AppServices) -> NominationStatus:
        """The status of a nomination by its reference (``NF-XXXX-XXXX``, typed in any case): never what it says
        or who sent it."""
        return NominationStatus(**await services.nominations.status(
            reference, ip_hash=client_of(request, services).ip_hash))
