"""Citizens' nominations: validated, contact details sealed to the admin service's public key (HPKE), stored for
the secretariat's triage, with the nominator's consent and a reference to look the status up.

Both doors use this service: the JSON API (``POST /api/v1/nominations``, voting_service/api/nominations.py)
and the portal's form (``/nominate``). A form handler does::

    data = services.nominations.parse(fields)            # a mapping shaped like the JSON body; InvalidRequest
    receipt = await services.nominations.submit(          # with extra["field"], e.g. "nominee.birth_year"
        data, ip_hash=client.ip_hash, voter=claims.voter)  # claims of the signed-in voter's token, or None
    # receipt.reference ("NF-7K3F-9QXD"), receipt.phone_confirmed
    await services.nominations.status("nf-7k3f-9qxd", ip_hash=client.ip_hash)  # {reference, status,
                                                          # received_at}; 404 otherwise, 429 if too many

Refusals are ``InvalidRequest`` (422 ``invalid_request``) whose ``extra["field"]`` names the field with a
dotted path (``nominee.full_name``, ``achievements[0].claim``, ``nominated_by.phone``, ``consent.processing``,
``consent.nominee_will_be_asked``), and ``RateLimited`` (429) per client network.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis

from shared import ratelimit
from shared.client_ip import Client
from shared.crypto import NOMINATION_CONTACT, ContactSealer, pseudonym
from shared.errors import InvalidRequest, NotFound
from shared.identity import normalise_kz_mobile
from shared.reference import region_codes
from shared.settings import Settings
from voting_service import redis_keys as keys
from voting_service.models import NominationIn
from voting_service.repos import nominations as repo
from voting_service.services.guard import Guard

# The version of the consent text the nominator agreed to (the portal shows this text; change the version
# whenever the wording changes, so each stored consent says which text it was).
CONSENT_TEXT_VERSION = "nomination-consent-2026-12"
STATUS_LOOKUPS_PER_IP_HOUR = 120

NO_CONSENT = "Consent to the processing of the personal data in the nomination is required to send it."

_FIELD = re.compile(r" - at `\$\.?(.*)`$")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKE = str.maketrans({"O": "0", "I": "1", "L": "1"})


class NominationNotFound(NotFound):
    code = "nomination_not_found"
    title = "Nomination not found"


@dataclass(frozen=True)
class NominationReceipt:
    nomination_id: str
    reference: str
    phone_confirmed: bool
    status: str = "received"


def _whole_floats_as_ints(value: Any) -> Any:
    """JSON Schema counts 1988.0 as an integer (and schema-driven clients send it); keep it one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(v) for v in value]
    return value


def parse(raw: Mapping[str, Any]) -> NominationIn:
    """A nomination from a decoded JSON body or a form's mapping of the same shape, converted strictly (a
    birth year is a number, never "1988"); the first problem is ``InvalidRequest`` naming its field."""
    try:
        return msgspec.convert(_whole_floats_as_ints(dict(raw)), NominationIn, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        m = _FIELD.search(message)
        extra = {"field": m.group(1)} if m and m.group(1) else {}
        raise InvalidRequest(message, extra=extra) from exc


def normalise_reference(text: str) -> str | None:
    """``NF-XXXX-XXXX`` from what a person types: any case, spaces or dashes, with or without ``NF``, the
    letters O, I, L read as 0, 1, 1 (Crockford); None if it cannot be a reference."""
    chars = "".join(ch for ch in str(text)[:40].upper() if ch.isascii() and ch.isalnum())
    if len(chars) == 10 and chars.startswith("NF"):
        chars = chars[2:]
    chars = chars.translate(_LOOKALIKE)
    if len(chars) != 8 or any(ch not in _CROCKFORD for ch in chars):
        return None
    return f"NF-{chars[:4]}-{chars[4:]}"


class NominationService:
    def __init__(self, *, settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis,
                 status_lookups_per_ip_hour: int = STATUS_LOOKUPS_PER_IP_HOUR, guard: Guard | None = None) -> None:
        self._s = settings
        self._guard = guard if guard is not None else Guard(settings=settings, redis=redis)
        self._pool = pool
        self._redis = redis
        self._status_limit = status_lookups_per_ip_hour
        self._sealer = ContactSealer(settings.secrets.contact_public_key)  # seals; cannot open

    parse = staticmethod(parse)

    def _consent(self, data: NominationIn, text_version: str) -> dict[str, Any] | None:
        consent = data.consent
        if consent is None:
            return None
        if consent.processing is not True:
            raise InvalidRequest(NO_CONSENT, extra={"field": "consent.processing"})
        if data.nominated_by.kind == "third_party" and not consent.nominee_will_be_asked:
            raise InvalidRequest("When you nominate someone else, confirm that you know the nominee will be "
                                 "asked for consent before anything about them is published.",
                                 extra={"field": "consent.nominee_will_be_asked"})
        return {"processing": True, "nominee_will_be_asked": consent.nominee_will_be_asked,
                "text_version": text_version, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}

    async def submit(self, data: NominationIn, *, ip_hash: str, voter: str | None = None,
                     consent_text_version: str = CONSENT_TEXT_VERSION, client: Client | None = None,
                     solution: str | None = None) -> NominationReceipt:
        """Store ``data`` for triage. ``voter``: the pseudonym of a valid voter token sent with it (the
        signed-in citizen), or None; the nomination is ``phone_confirmed`` when it is the nominator's phone's.
        ``data.consent``, when given, must agree to the processing (and, for a third party, state that the
        nominee will be asked); it is stored with ``consent_text_version`` and the time. ``client`` (the
        request's; tools may leave it out: then the address alone is its network) passes the layered limits
        with ``solution`` (voting_service/services/guard.py)."""
        nominee = data.nominee
        if nominee.region not in region_codes():
            raise InvalidRequest(f"Unknown region {nominee.region!r}.", extra={"field": "nominee.region"})
        if nominee.birth_year > dt.date.today().year - 14:
            raise InvalidRequest("The nominee must be at least 14 years old.", extra={"field": "nominee.birth_year"})
        phone = normalise_kz_mobile(data.nominated_by.phone)
        if phone is None:
            raise InvalidRequest("Enter the nominator's Kazakhstan mobile number.",
                                 extra={"field": "nominated_by.phone"})
        consent = self._consent(data, consent_text_version)
        if client is None:
            client = Client(ip_hash=ip_hash, net=f"a:{ip_hash}", scope=f"a:{ip_hash}")
        await self._guard.admit("nomination", client, solution)
        key = self._s.secrets.pseudonym_key
        confirmed = voter is not None and voter == pseudonym(key, "voter", phone)
        contact = msgspec.json.encode({"full_name": data.nominated_by.full_name, "phone": phone})
        async with self._pool.acquire() as conn:
            nomination_id, reference = await repo.insert(
                conn,
                nominee=msgspec.to_builtins(nominee),
                story=data.story,
                achievements=msgspec.to_builtins(data.achievements),
                nominator_kind=data.nominated_by.kind,
                nominator_sealed=self._sealer.seal(contact, context=NOMINATION_CONTACT),
                nominator_pseudonym=pseudonym(key, "phone", phone),
                ip_hash=ip_hash,
                consent=consent,
                phone_confirmed=confirmed,
            )
        return NominationReceipt(nomination_id=nomination_id, reference=reference, phone_confirmed=confirmed)

    async def status(self, reference: str, *, ip_hash: str | None = None) -> dict[str, Any]:
        """``{reference, status, received_at}`` of the nomination with this reference (typed loosely, see
        ``normalise_reference``); nothing else about it. ``NominationNotFound`` (404) otherwise. With
        ``ip_hash`` (the client's), lookups are limited per network (``RateLimited``, 429): references have
        40 random bits, the limit keeps anyone from even trying to guess."""
        if ip_hash is not None:
            await ratelimit.hit(self._redis, keys.rl_nomination_status_ip(ip_hash), limit=self._status_limit,
                                window_s=3600, detail="Too many status lookups from this network; try later.")
        ref = normalise_reference(reference)
        row = None
        if ref is not None:
            async with self._pool.acquire() as conn:
                row = await repo.status(conn, reference=ref)
        if row is None:
            raise NominationNotFound("No nomination has this reference; check it on your confirmation.")
        return {"reference": row["reference"], "status": row["status"], "received_at": row["created_at"]}
