"""The diversity-aware selection against brute force: on small random campaigns (hypothesis) the solver's
choice has the largest sum of valid votes any k-subset meeting the bounds has, it is exactly the subset the
tie-break prefers among those (the lexicographically first along the ranking), and the policy is reported
infeasible exactly when no k-subset meets the bounds. Plus the proportional bounds and the report pieces."""

from __future__ import annotations

import datetime as dt
import itertools

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin_service.services import selection
from admin_service.services.finalise import rank, rank_key
from admin_service.services.selection import (
    Bound, BoundsPolicy, InfeasiblePolicy, Limit, ProportionalPolicy, choose, limits_of,
)
from shared.errors import InvalidRequest

REGIONS = ("KZ-10", "KZ-11", "KZ-75")
GENDERS = ("female", "male")
SPHERES = ("culture_sport", "healthcare")
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def brute_force(ordered, k, limits):
    """Every k-subset in lexicographic order along the ranking (itertools.combinations of range(n) yields
    them in exactly that order), keep the first with the largest sum: None when none meets the bounds."""
    best, best_sum = None, -1
    for combo in itertools.combinations(range(len(ordered)), k):
        ok = True
        for lim in limits:
            n = sum(1 for i in combo if selection.group_of(ordered[i], lim.dimension) == lim.value)
            if n < lim.min or (lim.max is not None and n > lim.max):
                ok = False
                break
        if not ok:
            continue
        s = sum(ordered[i]["raw"] - ordered[i]["invalidated"] for i in combo)
        if s > best_sum:
            best, best_sum = list(combo), s
    return best, best_sum


@st.composite
def campaigns(draw):
    n = draw(st.one_of(st.integers(min_value=1, max_value=10), st.integers(min_value=7, max_value=10)))  # C(10, 5) = 252 subsets at most
    rows = []
    for cid in range(1, n + 1):
        raw = draw(st.integers(min_value=0, max_value=6))  # few votes: many ties
        inv = draw(st.integers(min_value=0, max_value=raw))
        first = None if raw == inv else T0 + dt.timedelta(minutes=draw(st.integers(0, 3)))
        rows.append({"candidate_id": cid, "raw": raw, "invalidated": inv, "first_valid_at": first,
                     "region": draw(st.sampled_from(REGIONS)), "gender": draw(st.sampled_from(GENDERS)),
                     "sphere": draw(st.sampled_from(SPHERES)),
                     "ethnicity": draw(st.sampled_from(("kazakh", "russian", None)))})
    seats = draw(st.integers(min_value=1, max_value=5))
    dims = {"region": REGIONS, "gender": GENDERS, "sphere": SPHERES, "ethnicity": ("kazakh", "russian", "undeclared")}
    limits, seen = [], set()
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        dim = draw(st.sampled_from(sorted(dims)))
        value = draw(st.sampled_from(dims[dim]))
        if (dim, value) in seen:
            continue
        seen.add((dim, value))
        low = draw(st.sampled_from((0, 0, 0, 1, 1, 2)))  # mostly meetable, sometimes not
        high = draw(st.one_of(st.none(), st.integers(min_value=max(low, 1), max_value=3), st.just(low)))
        limits.append(Limit(dim, value, low, high))
    return sorted(rows, key=rank_key), seats, limits


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaigns())
def test_the_choice_is_the_brute_force_optimum_and_its_tie_break_best(campaign):
    ordered, seats, limits = campaign
    k = min(seats, len(ordered))
    expected, expected_sum = brute_force(ordered, k, limits)
    if expected is None:
        with pytest.raises(InfeasiblePolicy) as err:
            choose(ordered, seats, limits)
        named = err.value.extra["bounds"]
        assert named and all(b in [lim.as_dict() for lim in limits] for b in named)
        # the named bounds alone already cannot be met
        alone = [lim for lim in limits if lim.as_dict() in named]
        assert brute_force(ordered, k, alone)[0] is None
        return
    got = choose(ordered, seats, limits)
    assert sum(ordered[i]["raw"] - ordered[i]["invalidated"] for i in got) == expected_sum
    assert got == expected


def test_without_bounds_it_is_top_votes():
    rows = [{"candidate_id": i, "raw": 10 - i, "invalidated": 0, "first_valid_at": T0, "region": "KZ-10",
             "sphere": "healthcare", "gender": "male"} for i in range(1, 8)]
    ordered = sorted(rows, key=rank_key)
    assert choose(ordered, 3, []) == [0, 1, 2]
    assert choose(ordered, 30, []) == list(range(7))
