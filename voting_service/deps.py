"""What handlers get besides the request: the app's services (shared/wiring.py), and per-request helpers for
the voter from the bearer token and the client's address."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter
from litestar import Request

from shared.crypto import VoterClaims
from shared.client_ip import Client, client_for, forwarded_for_lines
from shared.errors import AppError
from voting_service.state import Services


class InvalidToken(AppError):
    status = 401
    code = "invalid_token"
    title = "Missing, forged or expired voter token"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="vote"'})


def voter_claims_of(request: Request, services: Services) -> VoterClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("Sign in with your phone to vote.")
    claims = services.tokens.claims(token.strip())
    if claims is None:
        raise InvalidToken("Your sign-in has expired or is not valid; sign in again.")
    return claims


def voter_of(request: Request, services: Services) -> str:
    return voter_claims_of(request, services).voter


def client_of(request: Request, services: Services) -> Client:
    peer = request.client.host if request.client else None
    return client_for(services.client_ips, services.settings.secrets.pseudonym_key, peer,
                      forwarded_for_lines(request.headers))



# The optional proof-of-work header of the protected routes (voting_service/services/challenge.py), documented
# in OpenAPI as a header parameter: ``solution: ChallengeSolution = None`` in a handler's signature.
ChallengeSolution = Annotated[str | None, HeaderParameter(
    name="X-Challenge-Solution", required=False,
    description="After a 428 challenge_required: base64 of the JSON {algorithm, challenge, number, salt, "
                "signature} solving the challenge. A wrong, stale or replayed one is 403 challenge_failed.")]
