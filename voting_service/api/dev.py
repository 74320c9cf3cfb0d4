"""Development only: read the SMS outbox. Registered only when SMS_BACKEND=outbox (never in production)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from shared.errors import NotFound
from shared.identity import E164_KZ_MOBILE
from voting_service.models import OutboxEntry
from voting_service.services.otp import normalise_or_raise
from voting_service.services.sms import OutboxSender
from voting_service.state import AppServices


class DevOutboxController(Controller):
    path = "/api/v1/dev"
    tags = ["development"]

    @get("/sms-outbox", operation_id="smsOutbox", cache=False, opt={"problems": (404,)})
    async def outbox(self, phone: Annotated[str, Parameter(schema_extra={"pattern": E164_KZ_MOBILE})],
                     services: AppServices) -> list[OutboxEntry]:
        if not isinstance(services.sms, OutboxSender):  # registered only with the outbox; belt and braces
            raise NotFound("No SMS outbox in this configuration.")
        e164 = normalise_or_raise(phone)
        messages = await services.sms.read(services.otp.outbox_pseudonym(e164))
        return [OutboxEntry(phone=e164, text=m.text, code=m.code, sent_at=m.sent_at) for m in messages]
