"""Triage of citizens' nominations by the secretariat: accept (a new card), merge into an existing card, or
reject with a reason. Each nomination is triaged once; a second decision is 409 ``conflict``.

The nominator's contact details (sealed by the voting service) are opened only for the secretariat and
admins. On accepting a self-nomination the nominator's phone becomes the candidate's sealed contact.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from admin_service.auth.context import Staff
from admin_service.repos import candidates as candidates_repo
from admin_service.repos import nominations as repo
from admin_service.services import audit
from admin_service.services.candidates import insert_card, validate
from admin_service.services.common import clean, seal, unseal
from shared.crypto import CANDIDATE_CONTACT, NOMINATION_CONTACT, ContactOpener
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.texts import guess_lang

STATUSES = ("received", "accepted", "merged", "rejected")
PER_PAGE = 50
SOURCE_NAME = "website"


def view(row: Any, *, viewer: Staff | None, sealer: ContactOpener | None) -> dict[str, Any]:
    nominator: dict[str, Any] = {"kind": row["nominator_kind"]}
    contact = unseal(sealer, row["nominator_sealed"], context=NOMINATION_CONTACT, viewer=viewer)
    if contact is not None:
        nominator.update(full_name=contact.get("full_name"), phone=contact.get("phone"))
    return {
        "id": str(row["id"]),
        "reference": row["reference"],
        "status": row["status"],
        "nominee": row["nominee"],
        "story": row["story"],
        "achievements": row["achievements"],
        "nominated_by": nominator,
        "created_at": row["created_at"],
        "candidate_id": str(row["candidate_id"]) if row["candidate_id"] is not None else None,
        "triage_reason": row["triage_reason"],
        "triaged_by": row["triaged_by_email"],
        "triaged_at": row["triaged_at"],
        "consent": row["consent"],
        "phone_confirmed": row["phone_confirmed"],
    }


async def queue(pool: asyncpg.Pool, *, page: int = 1, status: str | None = "received", per_page: int = PER_PAGE,
                viewer: Staff | None = None, sealer: ContactOpener | None = None) -> tuple[list[dict[str, Any]], int]:
    """Oldest first. Each item lists ``possible_duplicates``: cards with the nominee's exact name."""
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"Unknown status {status[:40]!r}.", extra={"field": "status"}, key="choose_from_list",
                             params={"field": "status"})
    if not 1 <= page <= 100_000 or not 1 <= per_page <= 200:
        raise InvalidRequest("page >= 1 and 1 <= per_page <= 200.", extra={"field": "page"}, key="invalid")
    async with pool.acquire() as conn:
        rows, total = await repo.queue(conn, status=status, limit=per_page, offset=(page - 1) * per_page)
        names = [str((r["nominee"] or {}).get("full_name", "")) for r in rows]
        matches = await repo.same_name(conn, names=names) if rows else []
    items = []
    for row, name in zip(rows, names, strict=True):
        item = view(row, viewer=viewer, sealer=sealer)
        item["possible_duplicates"] = [
            {"id": str(m["id"]), "full_name": m["full_name"], "region": m["region"], "status": m["status"]}
            for m in matches if m["full_name"].lower() == name.lower()]
        items.append(item)
    return items, total


async def get(pool: asyncpg.Pool, *, nomination_id: uuid.UUID, viewer: Staff | None = None,
              sealer: ContactOpener | None = None) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await repo.get(conn, nomination_id=nomination_id)
    if row is None:
        raise NotFound(f"No nomination {nomination_id}.", key="no_nomination", params={"id": nomination_id})
    return view(row, viewer=viewer, sealer=sealer)


async def _lock_received(conn: asyncpg.Connection, nomination_id: uuid.UUID) -> asyncpg.Record:
    found = await repo.lock(conn, nomination_id=nomination_id)
    if found is None:
        raise NotFound(f"No nomination {nomination_id}.", key="no_nomination", params={"id": nomination_id})
    if found["status"] != "received":
        raise Conflict(f"Nomination {nomination_id} was already triaged ({found['status']}).",
                       extra={"status": found["status"]}, key="nomination_triaged",
                       params={"nomination_status": found["status"]})
    return await repo.get(conn, nomination_id=nomination_id)


async def _finish(conn: asyncpg.Connection, *, nomination_id: uuid.UUID, status: str, candidate_id: int | None,
                  reason: str | None, actor: Staff) -> dict[str, Any]:
    await repo.triage(conn, nomination_id=nomination_id, status=status, candidate_id=candidate_id, reason=reason,
                      actor_id=actor.id)
    await audit.record(conn, actor=actor, action=f"nomination.{status}", entity_type="nomination",
                       entity_id=nomination_id, old={"status": "received"},
                       new={"status": status, "candidate_id": candidate_id}, reason=reason or "")
    return {"id": str(nomination_id), "status": status,
            "candidate_id": str(candidate_id) if candidate_id is not None else None, "triage_reason": reason}


async def accept(pool: asyncpg.Pool, *, nomination_id: uuid.UUID, actor: Staff,
                 sealer: ContactOpener | None = None) -> dict[str, Any]:
    """A new card (status ``nominated``, source ``self`` / ``third_party``) linked to the nomination."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            row = await _lock_received(conn, nomination_id)
            nominee = row["nominee"] if isinstance(row["nominee"], dict) else {}
            data = validate({
                **{k: nominee.get(k) for k in ("full_name", "region", "sphere", "gender", "birth_year")},
                "source": {"kind": row["nominator_kind"], "name": SOURCE_NAME},
                "story": row["story"], "achievements": row["achievements"],
                "text_lang": guess_lang(row["story"]),  # the citizen's language becomes the card's own
            })
            sealed = None
            if row["nominator_kind"] == "self" and sealer is not None:
                contact = unseal(sealer, row["nominator_sealed"], context=NOMINATION_CONTACT, viewer=actor)
                if contact and contact.get("phone"):
                    sealed = seal(sealer, {"phone": contact["phone"]}, context=CANDIDATE_CONTACT)
            candidate_id = await insert_card(conn, data=data, actor=actor, sealed=sealed,
                                             reason=f"nomination {nomination_id}")
            return await _finish(conn, nomination_id=nomination_id, status="accepted", candidate_id=candidate_id,
                                 reason=None, actor=actor)


async def merge(pool: asyncpg.Pool, *, nomination_id: uuid.UUID, duplicate_of: int, actor: Staff,
                reason: str | None = None) -> dict[str, Any]:
    """The nomination duplicates an existing card: link it there; no new card. An unknown card is 422."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            await _lock_received(conn, nomination_id)
            if await candidates_repo.get(conn, candidate_id=duplicate_of, lock="share") is None:
                raise InvalidRequest(f"No candidate {duplicate_of} to merge into.", extra={"field": "candidate_id"},
                                     key="merge_no_candidate", params={"id": duplicate_of})
            return await _finish(conn, nomination_id=nomination_id, status="merged", candidate_id=duplicate_of,
                                 reason=clean(reason) or None, actor=actor)


async def reject(pool: asyncpg.Pool, *, nomination_id: uuid.UUID, reason: str | None, actor: Staff) -> dict[str, Any]:
    reason = clean(reason)
    if len(reason) < 3:
        raise InvalidRequest("Rejecting a nomination needs a reason.", extra={"field": "reason"}, key="reject_reason")
    async with pool.acquire() as conn:
        async with conn.transaction():
            await _lock_received(conn, nomination_id)
            return await _finish(conn, nomination_id=nomination_id, status="rejected", candidate_id=None,
                                 reason=reason, actor=actor)
