"""Citizens nominate somebody (or themselves); the secretariat triages in the admin service."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from shared.errors import InvalidRequest
from voting_service import metrics
from voting_service.deps import client_of, services
from voting_service.models import NominationIn, NominationReceived


async def strict(request: Request, kind: type[msgspec.Struct]) -> msgspec.Struct:
    """Litestar converts bodies leniently ("1988" becomes 1988); the API promises strict types, so the
    body is decoded once more, strictly. Cheap here: nominations are rare."""
    try:
        return msgspec.json.decode(await request.body(), type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc)) from exc


class NominationController(Controller):
    path = "/api/v1/nominations"
    tags = ["nominations"]

    @post("/", operation_id="submitNomination", status_code=202)
    async def submit(self, request: Request, data: JSONBody[NominationIn]) -> NominationReceived:
        data = await strict(request, NominationIn)  # type: ignore[assignment]
        nomination_id = await services(request).nominations.submit(data, ip_hash=client_of(request).ip_hash)
        metrics.nominations().inc()
        return NominationReceived(nomination_id=nomination_id)
