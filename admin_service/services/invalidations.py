"""Fraud review marks votes invalid (never deletes them). Results then show raw, invalidated and valid counts;
the voter's receipt says ``invalidated``. Refused once the campaign is finalised: the result is frozen."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import asyncpg

from admin_service.auth.context import Staff
from admin_service.repos import campaigns as campaigns_repo
from admin_service.repos import fraud as fraud_repo
from admin_service.repos import invalidations as repo
from admin_service.services import audit, fraud
from admin_service.services.campaign_reports import results
from shared.errors import Conflict, InvalidRequest, NotFound

MAX_VOTES = 10_000


async def _lock_unfinalised(conn: asyncpg.Connection, campaign_id: int) -> None:
    """Lock the campaign row (finalisation waits for us, or we for it) and refuse once it is finalised."""
    camp = await campaigns_repo.lock(conn, campaign_id=campaign_id)
    if camp is None:
        raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
    if camp["state"] == "finalised":
        raise Conflict("The campaign is finalised; its result is frozen.", key="campaign_frozen")


async def invalidate(pool: asyncpg.Pool, *, campaign_id: int, vote_ids: list[str], reason: str,
                     actor: Staff) -> dict[str, Any]:
    reason = reason.strip()
    if not reason:
        raise InvalidRequest("Say why these votes are invalid.", extra={"field": "reason"}, key="reason_needed")
    ids = sorted(set(vote_ids))
    if not ids or len(ids) > MAX_VOTES:
        raise InvalidRequest(f"Give between 1 and {MAX_VOTES} vote ids.", extra={"field": "vote_ids"},
                             key="vote_ids_count", params={"n": MAX_VOTES})
    async with pool.acquire() as conn, conn.transaction():
        await _lock_unfinalised(conn, campaign_id)
        known = await repo.known(conn, campaign_id=campaign_id, vote_ids=ids)
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise NotFound(f"{len(unknown)} vote id(s) are not recorded in this campaign.",
                           extra={"unknown": unknown[:50]}, key="vote_ids_unknown", params={"n": len(unknown)})
        marked = await repo.invalidate(conn, campaign_id=campaign_id, vote_ids=ids, reason=reason,
                                       actor_email=actor.email)
        await fraud.record_invalidated(conn, campaign_id, marked)
        per_candidate = Counter(str(r["candidate_id"]) for r in marked)
        await audit.record(conn, actor=actor, action="votes.invalidate", entity_type="campaign",
                           entity_id=campaign_id, new={"invalidated": len(marked), "per_candidate": per_candidate,
                                                       "vote_ids": [r["vote_id"] for r in marked]},
                           reason=reason)
    return {"invalidated": len(marked), "already_invalid": len(ids) - len(marked),
            "per_candidate": dict(per_candidate)}


async def invalidate_cluster(pool: asyncpg.Pool, *, campaign_id: int, cluster_id: str, reason: str,
                             actor: Staff) -> dict[str, Any]:
    """Every still-valid vote of one fraud cluster (``net:<cidr>`` or ``ip:<ip_hash>``) as of now: votes the
    flusher records later from the same network are not touched."""
    reason = reason.strip()
    if not reason:
        raise InvalidRequest("Say why these votes are invalid.", extra={"field": "reason"}, key="reason_needed")
    cluster = fraud.parse_cluster_id(cluster_id)
    kind, key = cluster.kind, cluster.key
    async with pool.acquire() as conn, conn.transaction():
        await _lock_unfinalised(conn, campaign_id)
        before = await fraud.cluster_exists(conn, campaign_id=campaign_id, cluster=cluster)
        marked = await fraud_repo.invalidate_cluster(conn, campaign_id=campaign_id, kind=kind, args=cluster.args,
                                                     reason=reason, actor_email=actor.email)
        await fraud.record_invalidated(conn, campaign_id, marked)
        per_candidate = Counter(str(r["candidate_id"]) for r in marked)
        ids = [r["vote_id"] for r in marked]
        await audit.record(conn, actor=actor, action="votes.invalidate", entity_type="campaign",
                           entity_id=campaign_id,
                           new={"cluster_id": f"{kind}:{key}", "invalidated": len(marked),
                                "per_candidate": per_candidate,
                                # the votes themselves carry reason, actor and time when the list is too long
                                "vote_ids": ids if len(ids) <= MAX_VOTES else None},
                           reason=reason)
    return {"invalidated": len(marked), "already_invalid": before["invalid"], "cluster_id": f"{kind}:{key}",
            "per_candidate": dict(per_candidate)}


async def export_csv(pool: asyncpg.Pool, *, campaign_id: int) -> str:
    data = await results(pool, campaign_id=campaign_id)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["rank", "candidate_id", "full_name", "region", "sphere", "gender", "raw", "invalidated", "valid"])
    for rank, c in enumerate(data["candidates"], start=1):
        w.writerow([rank, c["candidate_id"], _cell(c["full_name"]), c["region"], c["sphere"], c["gender"],
                    c["raw"], c["invalidated"], c["valid"]])
    return out.getvalue()


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: neutralise them (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
