"""Candidate cards: intake by the secretariat, search, and the full card (history, reviews, verification).

Contact details are sealed (AES-GCM) at intake and opened only on the card, only for the secretariat and
admins; they never enter a list, the audit log or a response to anybody else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import msgspec

from admin_service.auth.context import Staff
from admin_service.models_domain import CandidateIn, CandidateStatus, LangTexts
from admin_service.repos import candidates as repo
from admin_service.repos import reviews as reviews_repo
from admin_service.repos import verification as verification_repo
from admin_service.services import audit
from admin_service.services.common import clean, coerce, seal, unseal
from shared.crypto import CANDIDATE_CONTACT, ContactOpener
from shared.errors import InvalidRequest, NotFound
from shared.identity import normalise_kz_mobile
from shared.reference import region_codes, sphere_codes
from shared.texts import LANGUAGES, all_texts

STATUSES: tuple[str, ...] = CandidateStatus.__args__  # type: ignore[attr-defined]
MIN_AGE = 14
MAX_PER_PAGE = 200


def check_region(region: str | None, field: str = "region") -> None:
    if region is not None and region not in region_codes():
        raise InvalidRequest(f"Unknown region {region[:20]!r}.", extra={"field": field}, key="choose_from_list",
                             params={"field": field})


def check_sphere(sphere: str | None) -> None:
    if sphere is not None and sphere not in sphere_codes():
        raise InvalidRequest(f"Unknown sphere {sphere[:40]!r}.", extra={"field": "sphere"}, key="choose_from_list",
                             params={"field": "sphere"})


def check_birth_year(year: int) -> None:
    if not 1900 <= year <= dt.date.today().year - MIN_AGE:
        raise InvalidRequest(f"A candidate must be at least {MIN_AGE} years old.", extra={"field": "birth_year"},
                             key="too_young", params={"n": MIN_AGE})


def summary_view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "full_name": row["full_name"],
        "region": row["region"],
        "sphere": row["sphere"],
        "gender": row["gender"],
        "birth_year": row["birth_year"],
        "ethnicity": row["ethnicity"],
        "summary": row["summary"],
        "source": {"kind": row["source_kind"], "name": row["source_name"]},
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _contact(data: CandidateIn) -> dict[str, str] | None:
    if data.contact is None:
        return None
    out: dict[str, str] = {}
    if data.contact.phone:
        phone = normalise_kz_mobile(data.contact.phone)
        if phone is None:
            raise InvalidRequest("Enter a Kazakhstan mobile number (+77xxxxxxxxx).", extra={"field": "contact.phone"},
                                 key="phone_kz")
        out["phone"] = phone
    if data.contact.email:
        out["email"] = data.contact.email.strip().lower()
    return out or None


def validate(data: CandidateIn | dict[str, Any]) -> CandidateIn:
    """The checks msgspec cannot make: reference data, the clock, blank text."""
    data = coerce(data, CandidateIn)
    check_region(data.region)
    check_birth_year(data.birth_year)
    if len(clean(data.full_name)) < 2 or len(clean(data.story)) < 20:
        raise InvalidRequest("full_name and story must not be blank.", key="name_story_blank")
    if data.text_lang in data.texts:
        raise InvalidRequest(f"`texts` must not repeat the card's own language {data.text_lang!r}: summary, story "
                             "and achievements are in it.", extra={"field": f"texts.{data.text_lang}"},
                             key="texts_repeat_language", params={"lang": data.text_lang})
    return data


def lang_texts(texts: LangTexts) -> dict[str, Any]:
    """One language's texts as stored (trimmed; achievements as plain objects)."""
    return {"summary": clean(texts.summary), "story": clean(texts.story),
            "achievements": [msgspec.to_builtins(a) for a in texts.achievements]}


def _other_texts(data: CandidateIn) -> dict[str, Any]:
    out = {}
    for lang, texts in data.texts.items():
        entry = lang_texts(texts)
        if entry["summary"] or entry["story"] or entry["achievements"]:
            out[lang] = entry
    return out


async def insert_card(conn: asyncpg.Connection, *, data: CandidateIn, actor: Staff, sealed: bytes | None,
                      reason: str) -> int:
    """Insert a validated card in status ``nominated`` with its first history row and audit entry."""
    full_name = clean(data.full_name)
    candidate_id = await repo.insert(
        conn, full_name=full_name, region=data.region, sphere=data.sphere, gender=data.gender,
        birth_year=data.birth_year, ethnicity=data.ethnicity, summary=clean(data.summary), story=clean(data.story),
        achievements=[msgspec.to_builtins(a) for a in data.achievements], photo_url=data.photo_url,
        source_kind=data.source.kind, source_name=clean(data.source.name), contact_sealed=sealed,
        text_lang=data.text_lang, texts=_other_texts(data))
    await repo.insert_transition(conn, candidate_id=candidate_id, from_status=None, to_status="nominated",
                                 reason=reason, actor=actor.email, actor_id=actor.id)
    await audit.record(conn, actor=actor, action="candidate.create", entity_type="candidate",
                       entity_id=candidate_id, reason=reason, new={
                           "full_name": full_name, "region": data.region, "sphere": data.sphere,
                           "gender": data.gender, "source": msgspec.to_builtins(data.source),
                           "status": "nominated", "contact": "sealed" if sealed else None,
                           "text_lang": data.text_lang, "languages": sorted({data.text_lang, *data.texts})})
    return candidate_id


async def create(pool: asyncpg.Pool, *, data: CandidateIn | dict[str, Any], actor: Staff,
                 sealer: ContactOpener | None = None) -> dict[str, Any]:
    """A new card in status ``nominated``; ``data`` is a ``CandidateIn`` or a mapping of its fields.
    Contact details need ``sealer`` (they are stored only sealed)."""
    data = validate(data)
    contact = _contact(data)
    if contact is not None and sealer is None:
        raise InvalidRequest("Contact details cannot be stored without the data key.", extra={"field": "contact"},
                             key="contact_key_missing")
    sealed = seal(sealer, contact, context=CANDIDATE_CONTACT) if contact and sealer else None
    async with pool.acquire() as conn:
        async with conn.transaction():
            candidate_id = await insert_card(conn, data=data, actor=actor, sealed=sealed, reason="intake")
        return await load_card(conn, candidate_id=candidate_id, viewer=actor, sealer=sealer)


async def search(pool: asyncpg.Pool, *, status: str | None = None, region: str | None = None,
                 sphere: str | None = None, q: str | None = None, page: int = 1,
                 per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    status, region, sphere, q = (v or None for v in (status, region, sphere, clean(q)))
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"Unknown status {status[:40]!r}.", extra={"field": "status"}, key="choose_from_list",
                             params={"field": "status"})
    check_region(region)
    check_sphere(sphere)
    if q is not None and len(q) > 200:
        raise InvalidRequest("Search text is limited to 200 characters.", extra={"field": "q"}, key="search_long",
                             params={"n": 200})
    if not 1 <= page <= 100_000 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidRequest(f"page >= 1 and 1 <= per_page <= {MAX_PER_PAGE}.", extra={"field": "page"}, key="invalid")
    async with pool.acquire() as conn:
        rows, total = await repo.search(conn, status=status, region=region, sphere=sphere, q=q, limit=per_page,
                                        offset=(page - 1) * per_page)
    return [summary_view(r) for r in rows], total


def history_view(row: Any) -> dict[str, Any]:
    return {"from": row["from_status"], "to": row["to_status"], "reason": row["reason"], "actor": row["actor"],
            "actor_id": str(row["actor_id"]) if row["actor_id"] is not None else None, "at": row["at"]}


def review_view(row: Any) -> dict[str, Any]:
    return {"id": str(row["id"]), "candidate_id": str(row["candidate_id"]), "expert_id": str(row["expert_id"]),
            "expert": row.get("expert_email"), "recommend": row["recommend"], "motivation": row["motivation"],
            "created_at": row["created_at"]}


def verification_view(row: Any) -> dict[str, Any]:
    return {"id": str(row["id"]), "candidate_id": str(row["candidate_id"]), "authority": row["authority"],
            "question": row["question"], "status": row["status"], "notes": row["notes"],
            "requested_by": row.get("requested_by_email"), "requested_at": row["requested_at"],
            "answered_by": row.get("answered_by_email"), "answered_at": row["answered_at"]}


async def load_card(conn: asyncpg.Connection, *, candidate_id: int, viewer: Staff | None = None,
                    sealer: ContactOpener | None = None) -> dict[str, Any]:
    from admin_service.services.lifecycle import allowed_targets  # lifecycle imports this module

    row = await repo.get(conn, candidate_id=candidate_id)
    if row is None:
        raise NotFound(f"No candidate {candidate_id}.", key="no_candidate", params={"id": candidate_id})
    reviews = [review_view(r) for r in await reviews_repo.for_candidate(conn, candidate_id=candidate_id)]
    card = summary_view(row)
    card.update({
        "story": row["story"],
        "achievements": row["achievements"],
        "photo_url": row["photo_url"],
        "text_lang": row["text_lang"],
        "texts": {lang: entry for lang, entry in (row["texts"] or {}).items() if lang != row["text_lang"]},
        "duplicate_of": str(row["duplicate_of"]) if row["duplicate_of"] is not None else None,
        "has_contact": row["contact_sealed"] is not None,
        "history": [history_view(h) for h in await repo.history(conn, candidate_id=candidate_id)],
        "reviews": reviews,
        "review_summary": {"recommend": sum(r["recommend"] for r in reviews),
                           "against": sum(not r["recommend"] for r in reviews)},
        "verification_requests": [verification_view(v) for v in
                                  await verification_repo.for_candidate(conn, candidate_id=candidate_id)],
        "allowed_transitions": allowed_targets(row["status"], viewer.roles) if viewer else [],
    })
    contact = unseal(sealer, row["contact_sealed"], context=CANDIDATE_CONTACT, viewer=viewer)
    if contact is not None:
        card["contact"] = contact
    return card


async def card(pool: asyncpg.Pool, *, candidate_id: int, viewer: Staff | None = None,
               sealer: ContactOpener | None = None) -> dict[str, Any]:
    """The full card; ``contact`` only when ``viewer`` may read it and ``sealer`` is given."""
    async with pool.acquire() as conn:
        return await load_card(conn, candidate_id=candidate_id, viewer=viewer, sealer=sealer)


async def set_texts(pool: asyncpg.Pool, *, candidate_id: int, lang: str, data: LangTexts | dict[str, Any],
                    actor: Staff, sealer: ContactOpener | None = None) -> dict[str, Any]:
    """The card's texts in ``lang`` (secretariat), audited; returns the card. In the card's own language
    (``text_lang``) they replace summary, story and achievements, and the story stays required (20
    characters); in another language they set that language's entry, and all fields blank remove it."""
    if lang not in LANGUAGES:
        raise NotFound(f"No language {lang[:10]!r}; use one of {', '.join(LANGUAGES)}.", key="no_language")
    entry = lang_texts(coerce(data, LangTexts))
    async with pool.acquire() as conn:
        async with conn.transaction():
            row = await repo.get(conn, candidate_id=candidate_id, lock="update")
            if row is None:
                raise NotFound(f"No candidate {candidate_id}.", key="no_candidate", params={"id": candidate_id})
            base = lang == row["text_lang"]
            before = all_texts(row).get(lang)
            if base and len(entry["story"]) < 20:
                raise InvalidRequest(f"The story in the card's own language ({lang}) is required: at least 20 "
                                     "characters.", extra={"field": "story"}, key="story_required",
                                     params={"lang": lang, "n": 20})
            blank = not (entry["summary"] or entry["story"] or entry["achievements"])
            await repo.set_texts(conn, candidate_id=candidate_id, lang=lang, base=base,
                                 texts=None if blank and not base else entry)
            await audit.record(conn, actor=actor, action="candidate.texts", entity_type="candidate",
                               entity_id=candidate_id, old={"lang": lang, "texts": before},
                               new={"lang": lang, "texts": None if blank and not base else entry})
        return await load_card(conn, candidate_id=candidate_id, viewer=actor, sealer=sealer)
