"""Campaigns (working group): create a draft, set its ballot from shortlisted candidates, publish, close.

Publication is one transaction (state ``published``, every ballot candidate ``shortlisted -> on_ballot`` with
history and audit, the campaign's vote partition) and THEN, after commit, the projection into Redis from
which the voting service serves the ballot and accepts votes: the voting service never sees a ballot that
could still roll back. If Redis fails after the commit the answer says ``projected: false`` and the
flusher's periodic re-projection repairs it within seconds. Closing works the same way (the projection's
state ``closed`` makes the vote script refuse votes with ``campaign_closed``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from admin_service.auth.context import Staff
from admin_service.models_domain import CampaignIn
from admin_service.repos import campaigns as repo
from admin_service.repos import candidates as candidates_repo
from admin_service.services import audit
from admin_service.services.campaign_reports import composition, results
from admin_service.services.common import InvalidTransition, coerce, parse_body_id
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.repos import campaigns as shared_repo
from shared.votestore.projection import project

log = logging.getLogger("admin_service.campaigns")

PUBLISH_REASON = "ballot published"
MAX_WINDOW = dt.timedelta(days=366)

__all__ = ["close", "composition", "create", "get", "list_all", "publish", "results", "set_ballot"]


def view(row: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    now_ms = int((now or dt.datetime.now(dt.UTC)).timestamp() * 1000)
    return {
        "id": str(row["id"]),
        "slug": row["slug"],
        "title": row["title"],
        "state": row["state"],
        "status": shared_repo.public_status(row, now_ms),
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "votes_per_voter": row["votes_per_voter"],
        "seats": row["seats"],
        "live_results": row["live_results"],
        "shards": row["shards"],
        "ballot_size": row["ballot_size"],
        "created_at": row["created_at"],
        "published_at": row["published_at"],
        "closed_at": row["closed_at"],
        "finalised_at": row["finalised_at"],
    }


async def _get(conn: asyncpg.Connection, campaign_id: int) -> dict[str, Any]:
    row = await repo.get(conn, campaign_id=campaign_id)
    if row is None:
        raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
    return view(row)


def _check_window(data: CampaignIn) -> None:
    if data.closes_at <= data.opens_at:
        raise InvalidRequest("closes_at must be after opens_at.", extra={"field": "closes_at"},
                             key="closes_before_opens")
    if data.closes_at <= dt.datetime.now(dt.UTC):
        raise InvalidRequest("closes_at is in the past.", extra={"field": "closes_at"}, key="closes_in_past")
    if data.closes_at - data.opens_at > MAX_WINDOW:
        raise InvalidRequest("A campaign lasts at most a year.", extra={"field": "closes_at"}, key="campaign_too_long")
    if any(not v.strip() for v in (data.title.kk, data.title.ru, data.title.en)):
        raise InvalidRequest("The title is needed in kk, ru and en.", extra={"field": "title"},
                             key="title_three_languages")


async def create(pool: asyncpg.Pool, *, data: CampaignIn | dict[str, Any], actor: Staff) -> dict[str, Any]:
    """A draft campaign; a slug already taken is 409 ``conflict``."""
    data = coerce(data, CampaignIn)
    _check_window(data)
    title = {k: v.strip() for k, v in msgspec.to_builtins(data.title).items()}
    async with pool.acquire() as conn:
        async with conn.transaction():
            try:
                async with conn.transaction():
                    campaign_id = await repo.insert(
                        conn, slug=data.slug, title=title, opens_at=data.opens_at, closes_at=data.closes_at,
                        votes_per_voter=data.votes_per_voter, seats=data.seats, live_results=data.live_results,
                        shards=data.shards, created_by=actor.id)
            except asyncpg.UniqueViolationError:
                raise Conflict(f"A campaign with slug {data.slug!r} exists.", extra={"field": "slug"},
                               key="slug_taken", params={"slug": data.slug}) from None
            campaign = await _get(conn, campaign_id)
            await audit.record(conn, actor=actor, action="campaign.create", entity_type="campaign",
                               entity_id=campaign_id, new=campaign)
    return campaign


async def list_all(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        now = dt.datetime.now(dt.UTC)
        return [view(r, now) for r in await repo.list_all(conn)]


def ballot_view(row: Any) -> dict[str, Any]:
    return {"id": str(row["id"]), "position": row["position"], "full_name": row["full_name"],
            "region": row["region"], "sphere": row["sphere"], "gender": row["gender"],
            "ethnicity": row["ethnicity"], "birth_year": row["birth_year"], "status": row["status"],
            "summary": row["summary"]}


async def get(pool: asyncpg.Pool, *, campaign_id: int) -> dict[str, Any]:
    """The campaign with its ballot (in ballot order)."""
    async with pool.acquire() as conn:
        campaign = await _get(conn, campaign_id)
        campaign["ballot"] = [ballot_view(r) for r in await repo.ballot(conn, campaign_id=campaign_id)]
    return campaign


async def _lock(conn: asyncpg.Connection, campaign_id: int) -> asyncpg.Record:
    row = await repo.lock(conn, campaign_id=campaign_id)
    if row is None:
        raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
    return row


async def _offenders(conn: asyncpg.Connection, candidate_ids: list[int]) -> list[str]:
    """Ids (as strings) of the candidates that are not, or no longer, shortlisted; rows are locked."""
    found = {r["id"]: r["status"] for r in await candidates_repo.lock_many(conn, candidate_ids=candidate_ids)}
    return [str(i) for i in candidate_ids if found.get(i) != "shortlisted"]


async def set_ballot(pool: asyncpg.Pool, *, campaign_id: int, candidate_ids: list[int | str],
                     actor: Staff) -> dict[str, Any]:
    """Replace the draft's ballot (in the given order). Every candidate must be shortlisted, else 409
    ``invalid_transition`` naming the offenders in ``candidates``; a published campaign is 409 ``conflict``."""
    ids = [parse_body_id(i, "candidate_ids") for i in candidate_ids]
    if len(set(ids)) != len(ids):
        raise InvalidRequest("A candidate is on a ballot once.", extra={"field": "candidate_ids"},
                             key="ballot_duplicate")
    async with pool.acquire() as conn:
        async with conn.transaction():
            camp = await _lock(conn, campaign_id)
            if camp["state"] != "draft":
                raise Conflict(f"The ballot of a {camp['state']} campaign cannot change.",
                               extra={"state": camp["state"]}, key="ballot_frozen", params={"state": camp["state"]})
            offenders = await _offenders(conn, ids)
            if offenders:
                raise InvalidTransition("Only shortlisted candidates go on a ballot: "
                                        f"{', '.join(offenders[:50])}.", extra={"candidates": offenders},
                                        key="ballot_not_shortlisted", params={"ids": offenders[:50]})
            before = await repo.ballot_ids(conn, campaign_id=campaign_id)
            await repo.replace_ballot(conn, campaign_id=campaign_id, candidate_ids=ids)
            await audit.record(conn, actor=actor, action="campaign.ballot", entity_type="campaign",
                               entity_id=campaign_id, old={"candidate_ids": before}, new={"candidate_ids": ids})
    return await get(pool, campaign_id=campaign_id)


async def project_after_commit(redis: aioredis.Redis, conn: asyncpg.Connection, campaign_id: int) -> bool:
    """After commit: the campaign as the voting service reads it from Redis. False if Redis failed (the
    flusher re-projects every few seconds)."""
    try:
        for projection in await shared_repo.projections(conn, campaign_id=campaign_id):
            await project(redis, projection)
    except (redis_errors.RedisError, OSError, TimeoutError) as exc:
        log.warning("campaign %s committed but not projected (the flusher will retry): %r", campaign_id, exc)
        return False
    return True


async def publish(pool: asyncpg.Pool, redis: aioredis.Redis, *, campaign_id: int, actor: Staff) -> dict[str, Any]:
    """Draft -> published; 409 ``conflict`` if not a draft, the ballot is empty or the window has passed;
    409 ``invalid_transition`` if a ballot candidate is no longer shortlisted."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            camp = await _lock(conn, campaign_id)
            if camp["state"] != "draft":
                raise Conflict(f"Campaign {campaign_id} is already {camp['state']}.", extra={"state": camp["state"]},
                               key="campaign_already", params={"state": camp["state"]})
            ids = await repo.ballot_ids(conn, campaign_id=campaign_id)
            if not ids:
                raise Conflict("The ballot is empty: set it before publishing.", key="ballot_empty")
            if camp["closes_at"] <= dt.datetime.now(dt.UTC):
                raise Conflict("The campaign's window has passed; it cannot be published.", key="window_passed")
            offenders = await _offenders(conn, ids)
            if offenders:  # e.g. put on another campaign's ballot, published meanwhile
                raise InvalidTransition(f"No longer shortlisted: {', '.join(offenders[:50])}.",
                                        extra={"candidates": offenders}, key="ballot_not_shortlisted",
                                        params={"ids": offenders[:50]})
            await shared_repo.mark_published(conn, campaign_id=campaign_id)
            await candidates_repo.insert_transitions(
                conn, [(i, "shortlisted", "on_ballot", PUBLISH_REASON, actor.email, actor.id) for i in ids])
            for i in ids:
                await audit.record(conn, actor=actor, action="candidate.transition", entity_type="candidate",
                                   entity_id=i, old={"status": "shortlisted"}, new={"status": "on_ballot"},
                                   reason=f"{PUBLISH_REASON}: campaign {campaign_id}")
            await audit.record(conn, actor=actor, action="campaign.publish", entity_type="campaign",
                               entity_id=campaign_id, old={"state": "draft"},
                               new={"state": "published", "candidate_ids": ids})
        projected = await project_after_commit(redis, conn, campaign_id)
        campaign = await _get(conn, campaign_id)
    campaign["projected"] = projected
    return campaign


async def close(pool: asyncpg.Pool, redis: aioredis.Redis, *, campaign_id: int, actor: Staff) -> dict[str, Any]:
    """Published -> closed now (before ``closes_at`` if need be); anything else is 409 ``conflict``."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            camp = await _lock(conn, campaign_id)
            if not await repo.close(conn, campaign_id=campaign_id):
                raise Conflict(f"Only a published campaign can be closed (this one is {camp['state']}).",
                               extra={"state": camp["state"]}, key="close_not_published",
                               params={"state": camp["state"]})
            await audit.record(conn, actor=actor, action="campaign.close", entity_type="campaign",
                               entity_id=campaign_id, old={"state": "published"}, new={"state": "closed"})
        projected = await project_after_commit(redis, conn, campaign_id)
        campaign = await _get(conn, campaign_id)
    campaign["projected"] = projected
    return campaign
