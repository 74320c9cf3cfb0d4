"""Expert reviews: each expert writes one motivated conclusion per candidate, while the candidate is under
review. A candidate in any other status is 409 ``conflict`` (as is a second review by the same expert); a
motivation shorter than 20 characters (after trimming) is 422 ``invalid_request``."""

from __future__ import annotations

from typing import Any

import asyncpg

from admin_service.auth.context import Staff
from admin_service.repos import candidates as candidates_repo
from admin_service.repos import reviews as repo
from admin_service.services import audit
from admin_service.services.candidates import review_view
from admin_service.services.common import clean
from shared.errors import Conflict, InvalidRequest, NotFound

MIN_MOTIVATION = 20


async def add(pool: asyncpg.Pool, *, candidate_id: int, recommend: bool, motivation: str | None,
              actor: Staff) -> dict[str, Any]:
    motivation = clean(motivation)
    if len(motivation) < MIN_MOTIVATION:
        raise InvalidRequest(f"A conclusion is motivated: write at least {MIN_MOTIVATION} characters.",
                             key="motivation_short", params={"n": MIN_MOTIVATION},
                             extra={"field": "motivation"})
    if not isinstance(recommend, bool):
        raise InvalidRequest("recommend is true or false.", extra={"field": "recommend"}, key="recommend_choose")
    async with pool.acquire() as conn:
        async with conn.transaction():
            # FOR SHARE: the status cannot move on while the review is written.
            row = await candidates_repo.get(conn, candidate_id=candidate_id, lock="share")
            if row is None:
                raise NotFound(f"No candidate {candidate_id}.", key="no_candidate", params={"id": candidate_id})
            if row["status"] != "under_review":
                raise Conflict(f"Reviews are written while a candidate is under review (this one is "
                               f"{row['status']!r}).", key="review_not_now", params={"status": row["status"]},
                               extra={"status": row["status"]})
            try:
                async with conn.transaction():
                    review = await repo.insert(conn, candidate_id=candidate_id, expert_id=actor.id,
                                               recommend=recommend, motivation=motivation)
            except asyncpg.UniqueViolationError:
                raise Conflict("You have already reviewed this candidate.", key="review_twice") from None
            await audit.record(conn, actor=actor, action="review.add", entity_type="candidate",
                               entity_id=candidate_id,
                               new={"review_id": review["id"], "recommend": recommend, "motivation": motivation})
    out = review_view(review)
    out["expert"] = actor.email
    return out
