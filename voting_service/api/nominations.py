"""Citizens nominate somebody (or themselves); the secretariat triages in the admin service."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from shared.errors import InvalidRequest
from voting_service import metrics
from voting_service.deps import client_of
from voting_service.models import NominationIn, NominationReceived
from voting_service.state import AppServices


def _whole_floats_as_ints(value: Any) -> Any:
    """JSON Schema counts 1988.0 as an integer (and schema-driven clients send it); keep it one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(v) for v in value]
    return value


async def strict(request: Request, kind: type[msgspec.Struct]) -> msgspec.Struct:
    """Litestar converts bodies leniently ("1988" becomes 1988); the API promises strict types, so the
    body is converted once more, strictly (a whole float such as 1988.0 is an integer, as in JSON Schema).
    Cheap here: nominations are rare."""
    try:
        return msgspec.convert(_whole_floats_as_ints(msgspec.json.decode(await request.body())), kind, strict=True)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequest(str(exc)) from exc


class NominationController(Controller):
    path = "/api/v1/nominations"
    tags = ["nominations"]

    @post("/", operation_id="submitNomination", status_code=202, opt={"problems": (429,)})
    async def submit(self, request: Request, data: JSONBody[NominationIn], services: AppServices) -> NominationReceived:
        data = await strict(request, NominationIn)  # type: ignore[assignment]
        nomination_id = await services.nominations.submit(data, ip_hash=client_of(request, services).ip_hash)
        metrics.nominations().inc()
        return NominationReceived(nomination_id=nomination_id)
