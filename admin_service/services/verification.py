"""Verification requests: the secretariat asks a regional internal-policy department whether an application
is truthful (employment or public activity real, achievements documented) and records the answer once.

Requests may be sent for a candidate in any status (a late doubt about a shortlisted candidate is still worth
checking); only the move to ``verified`` reads the answers (see ``lifecycle``).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from admin_service.auth.context import Staff
from admin_service.repos import candidates as candidates_repo
from admin_service.repos import verification as repo
from admin_service.services import audit
from admin_service.services.candidates import verification_view
from admin_service.services.common import clean
from shared.errors import Conflict, InvalidRequest, NotFound

OUTCOMES = ("confirmed", "refuted")


async def request(pool: asyncpg.Pool, *, candidate_id: int, authority: str, question: str,
                  actor: Staff) -> dict[str, Any]:
    authority, question = clean(authority), clean(question)
    if len(authority) < 2 or len(question) < 5:
        raise InvalidRequest("Name the authority and ask a question.", extra={"field": "question"},
                             key="verification_incomplete")
    async with pool.acquire() as conn:
        async with conn.transaction():
            if await candidates_repo.get(conn, candidate_id=candidate_id, lock="share") is None:
                raise NotFound(f"No candidate {candidate_id}.", key="no_candidate", params={"id": candidate_id})
            request_id = await repo.insert(conn, candidate_id=candidate_id, authority=authority, question=question,
                                           requested_by=actor.id)
            await audit.record(conn, actor=actor, action="verification.request", entity_type="candidate",
                               entity_id=candidate_id,
                               new={"request_id": request_id, "authority": authority, "question": question})
        return verification_view(await repo.get(conn, request_id=request_id))


async def record_outcome(pool: asyncpg.Pool, *, request_id: int, outcome: str, notes: str | None,
                         actor: Staff) -> dict[str, Any]:
    """The department's answer, once: a second answer is 409 ``conflict``."""
    if outcome not in OUTCOMES:
        raise InvalidRequest("outcome is 'confirmed' or 'refuted'.", extra={"field": "outcome"},
                             key="outcome_choose")
    notes = clean(notes)
    async with pool.acquire() as conn:
        async with conn.transaction():
            found = await repo.lock(conn, request_id=request_id)
            if found is None:
                raise NotFound(f"No verification request {request_id}.", key="no_verification_request",
                               params={"id": request_id})
            # Serialises with a concurrent move to 'verified', which reads the answers.
            await candidates_repo.get(conn, candidate_id=found["candidate_id"], lock="share")
            if not await repo.answer(conn, request_id=request_id, outcome=outcome, notes=notes, actor_id=actor.id):
                raise Conflict(f"Verification request {request_id} was already answered ({found['status']}).",
                               key="verification_answered", params={"outcome": found["status"]})
            await audit.record(conn, actor=actor, action="verification.outcome", entity_type="candidate",
                               entity_id=found["candidate_id"], old={"request_id": request_id, "status": "sent"},
                               new={"request_id": request_id, "status": outcome, "notes": notes})
        return verification_view(await repo.get(conn, request_id=request_id))
