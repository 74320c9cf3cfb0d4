"""Finalisation of the 100 (working group): rank the ballot by valid votes, freeze the result.

Preconditions (else 409 ``not_ready``, the detail says which): the campaign is ``closed`` (by hand), or
``published`` with ``closes_at`` in the past (it is then closed in the same transaction); its Redis streams
are drained into Postgres and the Redis tally of every candidate equals its Postgres count
(``shared.votestore.reconcile``). A finalised campaign is 409 ``conflict``.

Order: the state checks, then the wait for the flusher to drain (at most ``RECONCILE_WAIT_S``) with NO lock
held, then, in one transaction holding the campaign row's lock, the state checks again, the close if due, a
re-check (no waiting) that the streams are still empty and the tallies reconcile, and the snapshot.

Policy ``top_votes`` (the default; ``bounds`` and ``proportional``: services/selection.py, which keeps this
order for ties, and the snapshot's ``policy`` is then the policy object as canonical JSON): the ``seats``
ballot candidates with the most VALID votes (raw - invalidated). Ties are broken, in this order, by:
  1. more valid votes;
  2. more raw votes (recorded, invalidated included);
  3. the earlier first valid vote (min ``cast_at`` of its valid votes; a candidate without any comes last);
  4. the lower candidate id.
The order is total, so the same votes always give the same list.

The snapshot (table ``campaign_results``, which the database refuses to UPDATE or DELETE) holds:
- ``seats``: the selected candidates in rank order, ``counts``: every ballot candidate in rank order, each
  ``{rank, candidate_id, raw, invalidated, valid, first_valid_at, region, sphere, gender}`` (``seats`` items
  without further fields; ``counts`` items also ``selected``);
- ``digest``: SHA-256 (hex) of the canonical JSON of ``{"campaign_id", "policy", "seats", "counts"}`` —
  keys sorted, no whitespace (separators ``,`` and ``:``), non-ASCII escaped as ``\\uXXXX``, UTF-8; in
  Python ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``;
- ``merkle_root``: the root (hex) of the RFC 9162 Merkle tree over the COUNTED votes (valid votes for ballot
  candidates), leaves in byte order of the vote id, each leaf binding the receipt, the campaign and a hiding
  commitment to the candidate (shared/merkle.py, docs/verify.md); ``merkle_scheme`` = ``rfc9162-v1``. The tree
  is stored for O(log n) inclusion proofs and its head ``{campaign_id, tree_size, root_hash, digest}`` is signed
  with the admin service's Ed25519 key (admin_service/services/tree_head.py). Snapshots written before
  migration 0007 keep their earlier root (``legacy-v0``: SHA-256 of bare ids, odd node promoted; docs/verify.md);
- ``report``: the representation of the selected seats by region, sphere, gender (and ethnicity) next to
  the population's shares, the same for the whole ballot, the ties at the cut line and the totals.

In the same transaction: campaign -> ``finalised``, every ballot candidate ``on_ballot -> finalist`` (selected)
or ``not_selected`` with history and audit, and an audit entry with the digest and the root. After commit the
campaign is re-projected to Redis with state ``finalised`` (the vote script refuses votes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from admin_service.auth.context import Staff
from admin_service.repos import campaigns as campaigns_repo
from admin_service.repos import candidates as candidates_repo
from admin_service.repos import finalise as repo
from admin_service.repos import tree as tree_repo
from admin_service.services import audit, selection, tree_head
from admin_service.services.campaigns import project_after_commit
from admin_service.services.tree_head import TreeHeadSigner
from shared.composition import composition_of
from shared.errors import Conflict, NotFound, Unavailable
from shared.repos import campaigns as shared_repo
from shared.votestore import drain
from shared.votestore.projection import project
from shared.votestore.reconcile import reconcile

log = logging.getLogger("admin_service.finalise")

RECONCILE_WAIT_S = 5.0
CLOSE_REASON = "closes_at passed; closed at finalisation"
TIE_BREAK = ["more valid votes", "more raw votes", "earlier first valid vote (min cast_at)", "lower candidate id"]
_NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)


class NotReady(Conflict):
    code = "not_ready"
    title = "Not ready to finalise"


# --- the pure parts: anyone can re-run them on an export ------------------------------------------------


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


def digest_of(*, campaign_id: str, policy: str, seats: Sequence[Mapping[str, Any]],
              counts: Sequence[Mapping[str, Any]]) -> str:
    body = {"campaign_id": str(campaign_id), "policy": policy, "seats": list(seats), "counts": list(counts)}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def rank_key(row: Mapping[str, Any]) -> tuple:
    valid = row["raw"] - row["invalidated"]
    return (-valid, -row["raw"], row["first_valid_at"] or _NEVER, row["candidate_id"])


def rank(rows: Sequence[Mapping[str, Any]], seats: int,
         limits: Sequence[selection.Limit] = ()) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(seats, counts) as stored in the snapshot: see the module docstring; ``limits``: the bounds of the
    policy (none: top_votes), met by services/selection.py."""
    ordered = sorted(rows, key=rank_key)
    picked = set(selection.choose(ordered, seats, limits))
    counts = []
    for n, r in enumerate(ordered, start=1):
        counts.append({
            "rank": n, "candidate_id": str(r["candidate_id"]), "raw": r["raw"], "invalidated": r["invalidated"],
            "valid": r["raw"] - r["invalidated"], "first_valid_at": _iso(r["first_valid_at"]),
            "region": r["region"], "sphere": r["sphere"], "gender": r["gender"], "selected": n - 1 in picked,
        })
    chosen = [{k: v for k, v in c.items() if k != "selected"} for c in counts if c["selected"]]
    return chosen, counts


def _report(rows: Sequence[Mapping[str, Any]], seats: list[dict[str, Any]], counts: list[dict[str, Any]],
            *, policy: str, seats_wanted: int, counted_votes: int) -> dict[str, Any]:
    by_id = {str(r["candidate_id"]): r for r in rows}
    chosen = [dict(by_id[s["candidate_id"]]) for s in seats]
    ties: list[dict[str, Any]] = []
    if seats and len(counts) > len(seats):
        cut = seats[-1]["valid"]
        ties = [{"candidate_id": c["candidate_id"], "rank": c["rank"], "valid": c["valid"], "raw": c["raw"],
                 "first_valid_at": c["first_valid_at"], "selected": c["selected"]}
                for c in counts if c["valid"] == cut]
        if all(t["selected"] for t in ties):
            ties = []
    return {
        "policy": policy,
        "tie_break": TIE_BREAK,
        "seats_wanted": seats_wanted,
        "seats_filled": len(seats),
        "ballot_size": len(counts),
        "counted_votes": counted_votes,
        "totals": {k: sum(c[k] for c in counts) for k in ("raw", "invalidated", "valid")},
        "ties_at_cut": ties,
        "seated": [{"rank": s["rank"], "candidate_id": s["candidate_id"],
                    "full_name": by_id[s["candidate_id"]]["full_name"]} for s in seats],
        "representation": composition_of(chosen),
        "ballot_representation": composition_of([dict(r) for r in rows]),
    }


def _select(rows: Sequence[Mapping[str, Any]], seats_wanted: int, policy: selection.Policy
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(seats, counts) under ``policy`` and what the report adds: the policy, its bounds with the seats each
    group got, and who entered and who left compared with top_votes at what cost in valid votes."""
    filled = min(seats_wanted, len(rows))
    limits = selection.limits_of(policy, filled)
    seats, counts = rank(rows, seats_wanted, limits)
    names = {str(r["candidate_id"]): r["full_name"] for r in rows}
    by_id = {str(r["candidate_id"]): r for r in rows}
    return seats, counts, {
        "policy": policy.__struct_config__.tag,
        "policy_spec": msgspec.to_builtins(policy),
        "bounds": selection.limits_report(limits, [by_id[s["candidate_id"]] for s in seats]),
        "compared_with_top_votes": selection.comparison(counts, names, filled),
    }


def view(row: Mapping[str, Any], head: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The snapshot, with its signed tree head (``tree_size, signature, key_id, public_key``) when it has one."""
    signed = {} if head is None else {k: head[k] for k in ("tree_size", "signature", "key_id", "public_key")}
    return {**signed,
        "campaign_id": str(row["campaign_id"]),
        "finalised_at": row["finalised_at"],
        "finalised_by": row["finalised_by"],
        "policy": row["policy"],
        "seats": row["seats"],
        "counts": row["counts"],
        "digest": row["digest"],
        "merkle_root": row["merkle_root"],
        "merkle_scheme": row["merkle_scheme"],
        "counted_votes": row["counted_votes"],
        "report": row["report"],
    }


# --- the action ----------------------------------------------------------------------------------------


def _refuse(camp: Mapping[str, Any] | None, campaign_id: int) -> None:
    """The state checks, the same before the wait and again under the lock."""
    if camp is None:
        raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
    state = camp["state"]
    if state == "finalised":
        raise Conflict(f"Campaign {campaign_id} is already finalised; its result is frozen.",
                       extra={"state": state}, key="campaign_frozen")
    if state == "draft":
        raise NotReady("Not ready: the campaign is a draft (never published).",
                       extra={"reason": "draft", "state": state}, key="finalise_draft")
    if state == "published" and camp["closes_at"] > dt.datetime.now(dt.UTC):
        raise NotReady(f"Not ready: the campaign is open until {camp['closes_at'].isoformat()}; "
                       "close it first.", extra={"reason": "open", "state": state}, key="finalise_open",
                       params={"until": camp["closes_at"]})


async def _wait_for_drain(pool: asyncpg.Pool, redis: aioredis.Redis, campaign_id: int) -> None:
    """Before the lock: project the campaign as Postgres has it (closed, or published past its window: either
    way vote.lua refuses votes, even if an earlier projection failed), then wait up to ``RECONCILE_WAIT_S``
    for the flusher to empty its streams. No lock is held meanwhile: invalidations, the campaign pages and
    the flusher's own reads of the campaign carry on."""
    try:
        async with pool.acquire() as conn:
            projections = await shared_repo.projections(conn, campaign_id=campaign_id)
        for projection in projections:
            await project(redis, projection)
        left = await drain.wait_drained(redis, campaign_id, await drain.campaign_shards(redis, campaign_id),
                                        RECONCILE_WAIT_S)
    except (redis_errors.RedisError, OSError, TimeoutError) as exc:
        log.warning("finalisation of campaign %s: Redis failed: %r", campaign_id, exc)
        raise Unavailable("Redis does not answer: the streams cannot be checked; try again.",
                          key="vote_store_down") from None
    if left:
        raise _not_drained(left)


def _not_drained(undrained: int) -> NotReady:
    return NotReady(f"Not drained: {undrained} accepted vote(s) are still in the Redis streams waiting "
                    "for the flusher; try again when it has written them.",
                    extra={"reason": "not_drained", "undrained": undrained}, key="not_drained",
                    params={"n": undrained})


async def _check_reconciled(pool: asyncpg.Pool, redis: aioredis.Redis, campaign_id: int) -> None:
    """Under the lock, without waiting: the streams are still empty and every tally equals its count."""
    try:
        (rep,) = await reconcile(pool, redis, campaign_id=campaign_id, wait_s=0)
    except (redis_errors.RedisError, OSError, TimeoutError) as exc:
        log.warning("finalisation of campaign %s: Redis failed: %r", campaign_id, exc)
        raise Unavailable("Redis does not answer: the streams cannot be checked; try again.",
                          key="vote_store_down") from None
    if rep.undrained:
        raise _not_drained(rep.undrained)
    if rep.differences:
        raise NotReady(f"Not reconciled: the Redis tally differs from the Postgres count for "
                       f"{len(rep.differences)} candidate(s); run `python -m voting_service reconcile`.",
                       extra={"reason": "not_reconciled",
                              "differences": {k: {"redis": a, "postgres": b}
                                              for k, (a, b) in list(rep.differences.items())[:50]}},
                       key="not_reconciled", params={"n": len(rep.differences)})


async def finalise(pool: asyncpg.Pool, redis: aioredis.Redis, *, campaign_id: int,
                   policy: selection.Policy | str | None = None, actor: Staff,
                   signer: TreeHeadSigner) -> dict[str, Any]:
    chosen_policy = selection.policy_of(policy)
    selection.validate(chosen_policy)
    policy = selection.policy_text(chosen_policy)  # what the snapshot and its digest hold
    async with pool.acquire() as conn:
        _refuse(await campaigns_repo.get(conn, campaign_id=campaign_id), campaign_id)
    await _wait_for_drain(pool, redis, campaign_id)  # the slow part, before any lock
    async with pool.acquire() as conn:
        async with conn.transaction():
            camp = await campaigns_repo.lock(conn, campaign_id=campaign_id)  # invalidations wait for us
            _refuse(camp, campaign_id)  # it may have changed while we waited
            if camp["state"] == "published":  # past its window (else _refuse said so): close it here
                await campaigns_repo.close(conn, campaign_id=campaign_id)
                await audit.record(conn, actor=actor, action="campaign.close", entity_type="campaign",
                                   entity_id=campaign_id, old={"state": "published"}, new={"state": "closed"},
                                   reason=CLOSE_REASON)
            await _check_reconciled(pool, redis, campaign_id)

            seats_wanted = (await campaigns_repo.get(conn, campaign_id=campaign_id))["seats"]
            rows = [dict(r) for r in await repo.counts(conn, campaign_id=campaign_id)]
            seats, counts, extra_report = _select(rows, seats_wanted, chosen_policy)
            tree = await tree_head.build_tree(conn, campaign_id=campaign_id)  # streamed from a cursor
            if tree.size != sum(c["valid"] for c in counts):  # cannot happen: both read the same snapshot
                raise NotReady("Not reconciled: the counted votes do not add up; try again.",
                               extra={"reason": "not_reconciled"}, key="counts_do_not_add_up")
            root, n_counted = tree.root_hash, tree.size
            digest = digest_of(campaign_id=str(campaign_id), policy=policy, seats=seats, counts=counts)
            report = _report(rows, seats, counts, policy=policy, seats_wanted=seats_wanted,
                             counted_votes=n_counted) | extra_report
            at = await repo.insert_snapshot(conn, campaign_id=campaign_id, finalised_by=actor.email,
                                            finalised_by_id=actor.id, policy=policy, seats=seats, counts=counts,
                                            digest=digest, merkle_root=root, counted_votes=n_counted,
                                            report=report)
            head = await tree_head.sign_and_store(conn, signer, campaign_id=campaign_id, tree=tree, digest=digest,
                                                  invalidated_votes=sum(c["invalidated"] for c in counts))
            if not await repo.mark_finalised(conn, campaign_id=campaign_id, at=at):
                raise Conflict("The campaign changed state meanwhile; try again.", key="changed_meanwhile")
            await _move_candidates(conn, counts, campaign_id=campaign_id, actor=actor)
            await audit.record(conn, actor=actor, action="campaign.finalise", entity_type="campaign",
                               entity_id=campaign_id, old={"state": "closed"},
                               new={"state": "finalised", "policy": policy, "digest": digest, "merkle_root": root,
                                    "counted_votes": n_counted, "key_id": head["key_id"],
                                    "seats": [s["candidate_id"] for s in seats]})
            snapshot = await repo.snapshot(conn, campaign_id=campaign_id)
        projected = await project_after_commit(redis, conn, campaign_id)
    out = view(snapshot, head)
    out["projected"] = projected
    return out


async def preview(pool: asyncpg.Pool, redis: aioredis.Redis, *, campaign_id: int,
                  policy: selection.Policy | str | None = None, actor: Staff) -> dict[str, Any]:
    """What ``finalise`` would freeze now, under the same checks (not_ready, already finalised), with nothing
    frozen and no state changed: no close, no snapshot, no candidate moved. The Merkle root is left out (it is
    computed over every counted vote at the freeze). An audit entry records who previewed which policy, so
    trying policy after policy before freezing one is on the record."""
    chosen_policy = selection.policy_of(policy)
    selection.validate(chosen_policy)
    text = selection.policy_text(chosen_policy)
    async with pool.acquire() as conn:
        _refuse(await campaigns_repo.get(conn, campaign_id=campaign_id), campaign_id)
    await _wait_for_drain(pool, redis, campaign_id)
    async with pool.acquire() as conn:
        async with conn.transaction():
            camp = await campaigns_repo.get(conn, campaign_id=campaign_id)
            _refuse(camp, campaign_id)
            await _check_reconciled(pool, redis, campaign_id)
            rows = [dict(r) for r in await repo.counts(conn, campaign_id=campaign_id)]
            seats, counts, extra_report = _select(rows, camp["seats"], chosen_policy)
            counted = sum(c["valid"] for c in counts)
            digest = digest_of(campaign_id=str(campaign_id), policy=text, seats=seats, counts=counts)
            report = _report(rows, seats, counts, policy=text, seats_wanted=camp["seats"],
                             counted_votes=counted) | extra_report
            await audit.record(conn, actor=actor, action="campaign.finalise_preview", entity_type="campaign",
                               entity_id=campaign_id, new={"policy": text, "digest": digest,
                                                           "seats": [s["candidate_id"] for s in seats]})
    return {"campaign_id": str(campaign_id), "previewed_at": dt.datetime.now(dt.UTC), "previewed_by": actor.email,
            "frozen": False, "policy": text, "seats": seats, "counts": counts, "digest": digest,
            "counted_votes": counted, "report": report}


async def _move_candidates(conn: asyncpg.Connection, counts: list[dict[str, Any]], *, campaign_id: int,
                           actor: Staff) -> None:
    ids = [int(c["candidate_id"]) for c in counts]
    await candidates_repo.lock_many(conn, candidate_ids=ids)
    by_id = {int(c["candidate_id"]): c for c in counts}
    for to, wanted in (("finalist", [i for i in ids if by_id[i]["selected"]]),
                       ("not_selected", [i for i in ids if not by_id[i]["selected"]])):
        moved = await repo.move_from_on_ballot(conn, candidate_ids=wanted, to=to)
        rows = []
        for i in wanted:
            if i not in moved:
                continue
            c = by_id[i]
            reason = (f"finalisation of campaign {campaign_id}: rank {c['rank']} of {len(counts)}, "
                      f"{c['valid']} valid vote(s)")
            rows.append((i, "on_ballot", to, reason, actor.email, actor.id))
            await audit.record(conn, actor=actor, action="candidate.transition", entity_type="candidate",
                               entity_id=i, old={"status": "on_ballot"}, new={"status": to}, reason=reason)
        if rows:
            await candidates_repo.insert_transitions(conn, rows)




async def get(pool: asyncpg.Pool, *, campaign_id: int) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await repo.snapshot(conn, campaign_id=campaign_id)
        if row is None:
            if await campaigns_repo.get(conn, campaign_id=campaign_id) is None:
                raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
            raise NotFound(f"Campaign {campaign_id} is not finalised.", key="not_finalised")
        head = await tree_repo.head(conn, campaign_id=campaign_id)
    return view(row, head)


async def counted_votes_lines(pool: asyncpg.Pool, *, campaign_id: int):
    """The counted vote ids of a finalised campaign (one per line, byte order), streamed; checks first."""
    async with pool.acquire() as conn:
        if await repo.snapshot(conn, campaign_id=campaign_id) is None:
            if await campaigns_repo.get(conn, campaign_id=campaign_id) is None:
                raise NotFound(f"No campaign {campaign_id}.", key="no_campaign", params={"id": campaign_id})
            raise NotFound(f"Campaign {campaign_id} is not finalised: its counted votes are not fixed yet.",
                           key="not_finalised")

    async def lines():
        async for chunk in repo.stream_counted_ids(pool, campaign_id=campaign_id):
            yield "".join(f"{v}\n" for v in chunk)

    return lines()
