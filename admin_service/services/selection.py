"""Who takes the seats: the selection policies of the finalisation, solved exactly. Pure: no I/O.

Policies (the ``policy`` object of POST .../finalise and .../finalise/preview):
- ``top_votes`` (default): the first ``seats`` candidates in the tie-break order (``finalise.rank_key``).
- ``bounds``: at least ``min`` and at most ``max`` seats for the candidates whose ``dimension`` (region,
  sphere, gender, ethnicity) equals ``value``.
- ``proportional``: for each listed dimension (region, gender, ethnicity: the ones with a population share in
  shared/data; sphere has none, so the request type refuses it with a 422) and each of its groups, a bound
  ``floor(share * seats * (1 - tolerance)) <= seats of the group <= ceil(share * seats * (1 + tolerance))``
  (rounded outward). Candidates without a declared ethnicity form no group and are not bounded.

The seats filled are ``k = min(seats, ballot size)``, as for ``top_votes``. Among the k-subsets of the ballot
that meet every bound, the chosen one has the largest sum of valid votes; of several with that sum, the one
that holds the better-ranked candidate (in the tie-break order) among those where they differ. That order on
sets is the lexicographic order of their 0/1 vectors along the ranking, so without bounds the chosen set is the
top k, which is ``top_votes`` exactly; and it is total, so the answer is unique: whatever optimum the solver
happens to find, the result is the same.

How it is solved (HiGHS, an integer program with one binary per candidate):
1. Max sum(valid_i x_i) s.t. sum(x_i) = k and min <= sum over a group <= max. Its optimum is V*.
2. Then, down the ranking, candidate r is fixed to 1 if the program with the fixes so far and x_r = 1 still
   reaches V*, else fixed to 0 (the greedy construction of the lexicographic maximum on the optimal face).
   A solve is needed only where the current optimal solution has x_r = 0, none once k are fixed to 1 and
   none for a candidate whose group is already at its max.
Every solution the solver returns is rounded and checked here in integers (the count, every bound, the sum).
If the program is infeasible, a deletion filter over the bounds finds a minimal set of bounds that cannot be
met together (an irreducible infeasible subset); the single-bound cases get their own plain message first.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from admin_service.services.solver import Program
from shared.composition import UNDECLARED
from shared.errors import InvalidRequest
from shared.reference import GENDERS, demographics, region_codes, regions, sphere_codes

Dimension = Literal["region", "sphere", "gender", "ethnicity"]
PopulationDimension = Literal["region", "gender", "ethnicity"]  # the ones with population shares (shared/data)
DIMENSIONS: tuple[str, ...] = ("region", "sphere", "gender", "ethnicity")
MAX_BOUNDS = 200
MAX_SEATS_BOUND = 100_000


class InfeasiblePolicy(InvalidRequest):
    code = "infeasible_policy"
    title = "The policy cannot be met"


# --- the policy objects (request models) ----------------------------------------------------------------


class Bound(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """At least ``min`` and at most ``max`` seats for the candidates whose ``dimension`` is ``value``."""
    dimension: Dimension
    value: Annotated[str, Meta(min_length=1, max_length=40, examples=["KZ-75"])]
    min: Annotated[int, Meta(ge=0, le=MAX_SEATS_BOUND)] = 0
    max: Annotated[int, Meta(ge=0, le=MAX_SEATS_BOUND)] | None = None


class TopVotesPolicy(msgspec.Struct, tag_field="kind", tag="top_votes", forbid_unknown_fields=True, frozen=True):
    """The ``seats`` candidates with the most valid votes (the documented tie-break)."""


class BoundsPolicy(msgspec.Struct, tag_field="kind", tag="bounds", forbid_unknown_fields=True, frozen=True):
    """Most valid votes such that every bound is met."""
    bounds: Annotated[list[Bound], Meta(max_length=MAX_BOUNDS)]


class ProportionalPolicy(msgspec.Struct, tag_field="kind", tag="proportional", forbid_unknown_fields=True,
                         frozen=True):
    """Most valid votes such that each group's seats are within ±tolerance of its population share of the
    seats, rounded outward. Spheres have no population share, so ``sphere`` is not a dimension here: use
    ``bounds`` for spheres."""
    dimensions: Annotated[list[PopulationDimension], Meta(min_length=1, max_length=3)]
    tolerance: Annotated[float, Meta(ge=0, le=1)] = 0.25


Policy = TopVotesPolicy | BoundsPolicy | ProportionalPolicy
TOP_VOTES = TopVotesPolicy()


def policy_of(value: Policy | str | None) -> Policy:
    """The request's ``policy``: an object, or (the form older clients send) the string ``"top_votes"``."""
    if value is None or value == "top_votes":
        return TOP_VOTES
    if isinstance(value, str):
        raise InvalidRequest(f"Unknown policy {value[:40]!r}: send an object with kind top_votes, bounds or "
                             "proportional.", extra={"field": "policy"}, key="policy_unknown")
    return value


def policy_text(policy: Policy) -> str:
    """What the snapshot's ``policy`` holds (and the digest covers): ``top_votes``, or the policy object as
    canonical JSON (keys sorted, no whitespace), so the bounds of a frozen result cannot be disputed."""
    if isinstance(policy, TopVotesPolicy):
        return "top_votes"
    return json.dumps(msgspec.to_builtins(policy), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _values(dimension: str) -> frozenset[str]:
    if dimension == "region":
        return region_codes()
    if dimension == "sphere":
        return sphere_codes()
    if dimension == "gender":
        return frozenset(GENDERS)
    return frozenset(demographics()["ethnicity"]["shares_pct"]) | {UNDECLARED}


def validate(policy: Policy) -> None:
    """What the types cannot say: known values, min <= max, no bound twice, no sphere in proportional."""
    if isinstance(policy, BoundsPolicy):
        seen: dict[tuple[str, str], int] = {}
        for n, b in enumerate(policy.bounds):
            field = f"policy.bounds[{n}]"
            if b.value not in _values(b.dimension):
                raise InvalidRequest(f"Unknown {b.dimension} {b.value[:40]!r} in bound {n}.",
                                     key="bound_unknown_group", params={"row": n + 1},
                                     extra={"field": f"{field}.value",
                                            "allowed": sorted(_values(b.dimension))})
            if b.max is not None and b.min > b.max:
                raise InvalidRequest(f"Bound {n} ({b.dimension} {b.value}): min {b.min} is above max {b.max}.",
                                     key="bound_min_above_max", params={"dimension": b.dimension, "value": b.value,
                                                                        "min": b.min, "max": b.max},
                                     extra={"field": f"{field}.min"})
            if b.min == 0 and b.max is None:
                raise InvalidRequest(f"Bound {n} ({b.dimension} {b.value}) sets neither min nor max.",
                                     key="bound_empty", params={"dimension": b.dimension, "value": b.value},
                                     extra={"field": field})
            if (b.dimension, b.value) in seen:
                raise InvalidRequest(f"Bounds {seen[(b.dimension, b.value)]} and {n} are both for "
                                     f"{b.dimension} {b.value}: give one bound per group.",
                                     key="bound_twice", params={"dimension": b.dimension, "value": b.value},
                                     extra={"field": field})
            seen[(b.dimension, b.value)] = n
    elif isinstance(policy, ProportionalPolicy):
        if len(set(policy.dimensions)) != len(policy.dimensions):
            raise InvalidRequest("A dimension is listed twice.", extra={"field": "policy.dimensions"},
                                 key="dimension_twice")


# --- the bounds a policy means --------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    dimension: str
    value: str
    min: int
    max: int | None
    population_share: float | None = None  # proportional only
    target: float | None = None  # share * seats

    def describe(self) -> str:
        parts = [f"min {self.min}"] if self.min else []
        if self.max is not None:
            parts.append(f"max {self.max}")
        return f"{self.dimension} {self.value}: {', '.join(parts)}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dimension": self.dimension, "value": self.value, "min": self.min, "max": self.max}
        if self.population_share is not None:
            out.update(population_share=round(self.population_share, 6), target=round(self.target or 0.0, 3))
        return out


def population_shares(dimension: str) -> dict[str, float]:
    if dimension == "region":
        total = sum(r["population"] for r in regions())
        return {r["code"]: r["population"] / total for r in regions()}
    demo = demographics()
    if dimension == "gender":
        total = sum(demo["gender"][g] for g in GENDERS)
        return {g: demo["gender"][g] / total for g in GENDERS}
    if dimension == "ethnicity":
        return {e: pct / 100 for e, pct in demo["ethnicity"]["shares_pct"].items()}
    raise ValueError(f"no population share for {dimension}")


def limits_of(policy: Policy, seats: int) -> list[Limit]:
    """The bounds ``policy`` sets when ``seats`` seats are filled."""
    if isinstance(policy, BoundsPolicy):
        return [Limit(b.dimension, b.value, b.min, b.max) for b in policy.bounds]
    if isinstance(policy, ProportionalPolicy):
        out = []
        eps = 1e-9  # 0.25 * 40 must floor to 10, not 9 (binary floating point)
        for dim in policy.dimensions:
            for value, share in population_shares(dim).items():
                target = share * seats
                low = max(0, math.floor(target * (1 - policy.tolerance) + eps))
                high = math.ceil(target * (1 + policy.tolerance) - eps)
                out.append(Limit(dim, value, low, high, share, target))
        return out
    return []


def group_of(row: Mapping[str, Any], dimension: str) -> str:
    return str(row.get(dimension) or UNDECLARED)


# --- the choice -----------------------------------------------------------------------------------------


def choose(ordered: Sequence[Mapping[str, Any]], seats: int, limits: Sequence[Limit]) -> list[int]:
    """Indices into ``ordered`` (the ballot in tie-break order, best first; rows with ``raw``,
    ``invalidated`` and the dimensions) of the chosen candidates, ascending. Raises InfeasiblePolicy."""
    k = min(seats, len(ordered))
    if not limits:
        return list(range(k))
    valid = [int(r["raw"]) - int(r["invalidated"]) for r in ordered]
    members = [[i for i, r in enumerate(ordered) if group_of(r, lim.dimension) == lim.value] for lim in limits]
    _check_each(limits, members, n=len(ordered), k=k)
    top = list(range(k))
    if _meets(top, limits, members):  # the top k have the most votes and win every tie: nothing to solve
        return top
    program = Program(valid, k, members, limits)
    first = program.solve()
    if first is None:
        raise _infeasible(program, limits, members, k)
    best = _check(first, valid, k, limits, members)
    incumbent = first
    fixed_in = 0
    room = [lim.max for lim in limits]  # seats left under each max after the fixes so far (None: no max)
    limits_of_row: list[list[int]] = [[] for _ in ordered]
    for j, group in enumerate(members):
        for i in group:
            limits_of_row[i].append(j)
    for r in range(len(ordered)):
        if fixed_in == k or any(room[j] == 0 for j in limits_of_row[r]):  # no seat left for r: no solve
            program.fix(r, 0)
            continue
        if not incumbent[r]:
            program.fix(r, 1)
            trial = program.solve()
            if trial is None or _check(trial, valid, k, limits, members) != best:
                program.fix(r, 0)
                continue
            incumbent = trial
        program.fix(r, 1)
        fixed_in += 1
        for j in limits_of_row[r]:
            if room[j] is not None:
                room[j] -= 1
    chosen = [i for i in range(len(ordered)) if incumbent[i]]
    if _check(incumbent, valid, k, limits, members) != best:  # cannot happen: each step kept the optimum
        raise RuntimeError("selection lost the optimum")
    return chosen


def _meets(chosen: Sequence[int], limits: Sequence[Limit], members: Sequence[Sequence[int]]) -> bool:
    picked = set(chosen)
    for lim, group in zip(limits, members, strict=True):
        n = sum(1 for i in group if i in picked)
        if n < lim.min or (lim.max is not None and n > lim.max):
            return False
    return True


def _check(x: Sequence[int], valid: Sequence[int], k: int, limits: Sequence[Limit],
           members: Sequence[Sequence[int]]) -> int:
    """The solver's (rounded) answer checked in integers; its sum of valid votes."""
    chosen = [i for i, v in enumerate(x) if v]
    if len(chosen) != k or not _meets(chosen, limits, members):
        raise RuntimeError("the solver returned a selection that breaks a bound")
    return sum(valid[i] for i in chosen)


def _check_each(limits: Sequence[Limit], members: Sequence[Sequence[int]], *, n: int, k: int) -> None:
    """The bounds that cannot be met even alone, in plain words."""
    for lim, group in zip(limits, members, strict=True):
        have = len(group)
        if lim.min > have:
            raise _one(lim, f"{lim.dimension} {lim.value}: min {lim.min} but only {have} candidate(s) on the "
                            "ballot", "infeasible_min_ballot", {"min": lim.min, "have": have})
        if lim.min > k:
            raise _one(lim, f"{lim.dimension} {lim.value}: min {lim.min} but only {k} seat(s) to fill",
                       "infeasible_min_seats", {"min": lim.min, "k": k})
        if lim.max is not None and lim.max + (n - have) < k:
            raise _one(lim, f"{lim.dimension} {lim.value}: max {lim.max}, but the ballot has only {n - have} "
                            f"other candidate(s) for the other {k - lim.max} of {k} seats", "infeasible_max",
                       {"max": lim.max, "others": n - have, "rest": k - lim.max, "k": k})


def _one(lim: Limit, message: str, key: str, params: dict[str, object]) -> InfeasiblePolicy:
    return InfeasiblePolicy(f"The policy cannot be met: {message}.", key=key,
                            params={"dimension": lim.dimension, "value": lim.value, **params},
                            extra={"field": "policy", "bound": lim.as_dict(), "bounds": [lim.as_dict()]})


def _infeasible(program: Program, limits: Sequence[Limit], members: Sequence[Sequence[int]],
                k: int) -> InfeasiblePolicy:
    """A minimal set of bounds that cannot be met together (deletion filter: drop each bound in turn and keep
    it dropped if the rest is still infeasible)."""
    needed = []
    for j in range(len(limits)):
        program.relax(j)
        if program.solve() is not None:  # without bound j it can be met: j is part of the conflict
            program.restore(j)
            needed.append(j)
    words = "; ".join(f"{limits[j].describe()} ({len(members[j])} on the ballot)" for j in needed)
    return InfeasiblePolicy(f"The policy cannot be met: these bounds cannot all hold with {k} seat(s): {words}.",
                            key="infeasible_together",
                            params={"k": k, "groups": [(limits[j].dimension, limits[j].value) for j in needed]},
                            extra={"field": "policy", "bound": limits[needed[0]].as_dict(),
                                   "bounds": [limits[j].as_dict() for j in needed]})


# --- the report -----------------------------------------------------------------------------------------


def comparison(counts: Sequence[Mapping[str, Any]], names: Mapping[str, str], seats: int) -> dict[str, Any]:
    """Who entered and who left compared with ``top_votes`` (the first ``seats`` of ``counts``, which are in
    rank order with ``selected``), and the valid votes that cost."""
    top = counts[:seats]
    top_ids = {c["candidate_id"] for c in top}
    chosen = [c for c in counts if c["selected"]]

    def person(c: Mapping[str, Any]) -> dict[str, Any]:
        return {"candidate_id": c["candidate_id"], "full_name": names.get(c["candidate_id"]), "rank": c["rank"],
                "valid": c["valid"], "region": c["region"], "sphere": c["sphere"], "gender": c["gender"]}

    valid_top = sum(c["valid"] for c in top)
    valid_chosen = sum(c["valid"] for c in chosen)
    return {
        "entered": [person(c) for c in chosen if c["candidate_id"] not in top_ids],
        "left": [person(c) for c in top if not c["selected"]],
        "valid_votes_top_votes": valid_top,
        "valid_votes_selected": valid_chosen,
        "votes_cost": valid_top - valid_chosen,
    }


def limits_report(limits: Sequence[Limit], chosen: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each bound with the seats its group got (``binding``: at its min or max)."""
    got = {dim: Counter(group_of(c, dim) for c in chosen) for dim in DIMENSIONS}
    out = []
    for lim in limits:
        n = got[lim.dimension][lim.value]
        out.append({**lim.as_dict(), "seats": n,
                    "binding": n == lim.min and lim.min > 0 or (lim.max is not None and n == lim.max)})
    return out
