"""The candidate lifecycle: ONE table of the transitions staff may make, who may make each, and what it needs.

    nominated -> under_verification -> verified | rejected          secretariat (rejected: reason)
    verified -> under_review -> recommended | not_recommended       secretariat; then expert (reason)
    recommended -> shortlisted | declined                           working_group (declined: reason)
    shortlisted -> on_ballot, on_ballot -> finalist | not_selected  the system only (publication, finalisation)

Rules of ``transition``, checked in this order, nothing written unless all pass:
1. a target only the system reaches (on_ballot, finalist, not_selected) or no rule leads to -> 409
   ``invalid_transition``;
2. the actor holds none of the roles that may move a candidate to that target -> 403 ``forbidden``;
3. (current status, target) is not in the table -> 409 ``invalid_transition``;
4. the rule needs a reason and none was given -> 422 ``invalid_request``;
5. the rule's precondition fails -> 409 ``invalid_transition``:
   ``verified`` needs at least one verification request answered ``confirmed`` and none ``refuted``
   (requests still unanswered do not block); ``recommended`` / ``not_recommended`` need at least one
   expert review on the card.
The candidate row is locked (SELECT ... FOR UPDATE) for the whole check-and-write, so two concurrent
transitions of one candidate serialise and the second sees the first one's result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from admin_service.auth.context import Staff
from admin_service.repos import candidates as repo
from admin_service.repos import reviews as reviews_repo
from admin_service.repos import verification as verification_repo
from admin_service.services import audit
from admin_service.services.candidates import load_card
from admin_service.services.common import InvalidTransition, clean
from shared.crypto import ContactOpener
from shared.errors import Forbidden, InvalidRequest, NotFound


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    reason_required: bool = False
    requires: str | None = None  # "verification" | "review"


def _rule(*roles: str, reason: bool = False, requires: str | None = None) -> Rule:
    return Rule(frozenset(roles), reason, requires)


TRANSITIONS: dict[tuple[str, str], Rule] = {
    ("nominated", "under_verification"): _rule("secretariat"),
    ("under_verification", "verified"): _rule("secretariat", requires="verification"),
    ("under_verification", "rejected"): _rule("secretariat", reason=True),
    ("verified", "under_review"): _rule("secretariat"),
    ("under_review", "recommended"): _rule("expert", reason=True, requires="review"),
    ("under_review", "not_recommended"): _rule("expert", reason=True, requires="review"),
    ("recommended", "shortlisted"): _rule("working_group"),
    ("recommended", "declined"): _rule("working_group", reason=True),
}

# Made by the system, never through the transitions endpoint: publication of a ballot and finalisation.
SYSTEM_TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("shortlisted", "on_ballot"), ("on_ballot", "finalist"), ("on_ballot", "not_selected"),
})

TRANSITION_ROLES: frozenset[str] = frozenset().union(*(r.roles for r in TRANSITIONS.values()))


def roles_for_target(to: str) -> frozenset[str]:
    return frozenset().union(*(r.roles for (_, t), r in TRANSITIONS.items() if t == to))


def allowed_targets(status: str, roles: Iterable[str]) -> list[str]:
    """Targets a holder of ``roles`` may move a candidate in ``status`` to (in the table's order)."""
    held = frozenset(roles)
    return [to for (frm, to), rule in TRANSITIONS.items() if frm == status and rule.roles & held]


def reason_required(status: str, to: str) -> bool:
    rule = TRANSITIONS.get((status, to))
    return bool(rule and rule.reason_required)


async def _check_precondition(conn: asyncpg.Connection, rule: Rule, candidate_id: int) -> None:
    if rule.requires == "verification":
        counts = await verification_repo.outcomes(conn, candidate_id=candidate_id)
        if counts["refuted"]:
            raise InvalidTransition("A verification request was answered 'refuted'; the candidate cannot be "
                                    "verified.", extra={"requires": "verification"}, key="verification_refuted")
        if not counts["confirmed"]:
            raise InvalidTransition("Verified needs at least one verification request answered 'confirmed'.",
                                    extra={"requires": "verification"}, key="verification_needed")
    elif rule.requires == "review":
        if not await reviews_repo.count(conn, candidate_id=candidate_id):
            raise InvalidTransition("An expert conclusion needs at least one expert review on the card.",
                                    extra={"requires": "review"}, key="review_needed")


def check_role(to: str, actor: Staff) -> None:
    wanted = roles_for_target(to)
    if not wanted:
        raise InvalidTransition(f"No one moves a candidate to {to[:40]!r} by hand.", key="status_not_by_hand",
                                params={"to": to[:40]})
    if not actor.has(*wanted):
        raise Forbidden(f"Moving a candidate to {to!r} needs one of the roles: {', '.join(sorted(wanted))}.",
                        key="status_role", params={"to": to, "roles": sorted(wanted)})


async def transition(pool: asyncpg.Pool, *, candidate_id: int, to: str, reason: str | None, actor: Staff,
                     sealer: ContactOpener | None = None) -> dict[str, Any]:
    """Move one candidate along the table; returns the updated card (see the module docstring)."""
    reason = clean(reason)
    check_role(to, actor)
    async with pool.acquire() as conn:
        async with conn.transaction():
            row = await repo.get(conn, candidate_id=candidate_id, lock="update")
            if row is None:
                raise NotFound(f"No candidate {candidate_id}.", key="no_candidate", params={"id": candidate_id})
            frm = row["status"]
            rule = TRANSITIONS.get((frm, to))
            if rule is None:
                raise InvalidTransition(f"A candidate cannot go from {frm!r} to {to!r}.",
                                        extra={"from": frm, "to": to,
                                               "allowed": allowed_targets(frm, actor.roles)},
                                        key="status_move", params={"from": frm, "to": to})
            if rule.reason_required and not reason:
                raise InvalidRequest(f"Moving a candidate to {to!r} needs a reason.", extra={"field": "reason"},
                                     key="status_reason", params={"to": to})
            await _check_precondition(conn, rule, candidate_id)
            await repo.set_status(conn, candidate_id=candidate_id, status=to)
            await repo.insert_transition(conn, candidate_id=candidate_id, from_status=frm, to_status=to,
                                         reason=reason, actor=actor.email, actor_id=actor.id)
            await audit.record(conn, actor=actor, action="candidate.transition", entity_type="candidate",
                               entity_id=candidate_id, old={"status": frm}, new={"status": to}, reason=reason)
        return await load_card(conn, candidate_id=candidate_id, viewer=actor, sealer=sealer)
