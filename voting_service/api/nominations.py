"""Citizens nominate somebody (or themselves); the secretariat triages in the admin service."""

from __future__ import annotations

from litestar.params import JSONBody
from litestar import Controller, Request, post

from voting_service import metrics
from voting_service.deps import client_of, services
from voting_service.models import NominationIn, NominationReceived


class NominationController(Controller):
    path = "/api/v1/nominations"
    tags = ["nominations"]

    @post("/", operation_id="submitNomination", status_code=202)
    async def submit(self, request: Request, data: JSONBody[NominationIn]) -> NominationReceived:
        nomination_id = await services(request).nominations.submit(data, ip_hash=client_of(request).ip_hash)
        metrics.nominations().inc()
        return NominationReceived(nomination_id=nomination_id)
