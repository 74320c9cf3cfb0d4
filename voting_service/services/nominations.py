"""Citizens' nominations: validated, contact details sealed to the admin service's public key (HPKE), stored for the secretariat's triage."""

from __future__ import annotations

import datetime as dt

import asyncpg
import msgspec
import redis.asyncio as aioredis

from shared import ratelimit
from shared.crypto import NOMINATION_CONTACT, ContactSealer, pseudonym
from shared.errors import InvalidRequest
from shared.identity import normalise_kz_mobile
from shared.reference import region_codes
from shared.settings import Settings
from voting_service import redis_keys as keys
from voting_service.models import NominationIn
from voting_service.repos import nominations as repo


class NominationService:
    def __init__(self, *, settings: Settings, pool: asyncpg.Pool, redis: aioredis.Redis) -> None:
        self._s = settings
        self._pool = pool
        self._redis = redis
        self._sealer = ContactSealer(settings.secrets.contact_public_key)  # seals; cannot open

    async def submit(self, data: NominationIn, *, ip_hash: str) -> str:
        nominee = data.nominee
        if nominee.region not in region_codes():
            raise InvalidRequest(f"Unknown region {nominee.region!r}.", extra={"field": "nominee.region"})
        if nominee.birth_year > dt.date.today().year - 14:
            raise InvalidRequest("The nominee must be at least 14 years old.", extra={"field": "nominee.birth_year"})
        phone = normalise_kz_mobile(data.nominated_by.phone)
        if phone is None:
            raise InvalidRequest("Enter the nominator's Kazakhstan mobile number.",
                                 extra={"field": "nominated_by.phone"})
        await ratelimit.hit(self._redis, keys.rl_nomination_ip(ip_hash), limit=self._s.nominations_per_ip_hour,
                            window_s=3600, detail="Too many nominations from this network; try later.")
        contact = msgspec.json.encode({"full_name": data.nominated_by.full_name, "phone": phone})
        async with self._pool.acquire() as conn:
            return await repo.insert(
                conn,
                nominee=msgspec.to_builtins(nominee),
                story=data.story,
                achievements=msgspec.to_builtins(data.achievements),
                nominator_kind=data.nominated_by.kind,
                nominator_sealed=self._sealer.seal(contact, context=NOMINATION_CONTACT),
                nominator_pseudonym=pseudonym(self._s.secrets.pseudonym_key, "phone", phone),
                ip_hash=ip_hash,
            )
