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
    # up to 10 candidates (C(10, 5) = 252 subsets at most), often 7 or more so that bounds bite
    n = draw(st.one_of(st.integers(min_value=1, max_value=10), st.integers(min_value=7, max_value=10)))
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


def test_proportional_bounds_are_rounded_outward_from_the_population_shares():
    limits = {(lim.dimension, lim.value): lim
              for lim in limits_of(ProportionalPolicy(dimensions=["gender", "region"], tolerance=0.25), 100)}
    female = limits[("gender", "female")]
    assert 0.511 < female.population_share < 0.512  # 10 477 240 of 20 495 975 (shared/data/demographics.json)
    assert (female.min, female.max) == (38, 64)  # 51.12 * 0.75 = 38.3 -> 38; 51.12 * 1.25 = 63.9 -> 64
    almaty = limits[("region", "KZ-75")]
    assert (almaty.min, almaty.max) == (8, 15)  # 11.46 seats: 8.6 -> 8, 14.3 -> 15
    assert len(limits) == 2 + 20 and all(lim.min <= lim.target <= lim.max for lim in limits.values())
    exact = limits_of(ProportionalPolicy(dimensions=["gender"], tolerance=0.0), 4)
    assert [(lim.min, lim.max) for lim in exact] == [(2, 3), (1, 2)]  # 2.04 and 1.96, rounded outward
    assert [(lim.min, lim.max) for lim in limits_of(ProportionalPolicy(dimensions=["gender"], tolerance=1), 10)] \
        == [(0, 11), (0, 10)]


@pytest.mark.parametrize("bounds, field", [
    ([{"dimension": "region", "value": "KZ-00", "min": 1}], "policy.bounds[0].value"),
    ([{"dimension": "ethnicity", "value": "martian", "min": 1}], "policy.bounds[0].value"),
    ([{"dimension": "sphere", "value": "healthcare", "min": 2, "max": 1}], "policy.bounds[0].min"),
    ([{"dimension": "gender", "value": "male"}], "policy.bounds[0]"),
    ([{"dimension": "gender", "value": "male", "min": 1}, {"dimension": "gender", "value": "male", "max": 3}],
     "policy.bounds[1]"),
])
def test_malformed_bounds_name_the_field(bounds, field):
    policy = msgspec.convert({"kind": "bounds", "bounds": bounds}, selection.Policy)
    with pytest.raises(InvalidRequest) as err:
        selection.validate(policy)
    assert err.value.extra["field"] == field and err.value.code == "invalid_request"


def test_the_policy_text_is_canonical_and_the_old_string_form_still_works():
    assert selection.policy_of(None) is selection.TOP_VOTES and selection.policy_of("top_votes") is selection.TOP_VOTES
    with pytest.raises(InvalidRequest):
        selection.policy_of("diversity")
    policy = BoundsPolicy(bounds=[Bound("region", "KZ-75", 1, 3)])
    assert selection.policy_text(selection.TOP_VOTES) == "top_votes"
    assert selection.policy_text(policy) == \
        '{"bounds":[{"dimension":"region","max":3,"min":1,"value":"KZ-75"}],"kind":"bounds"}'
    assert msgspec.convert(msgspec.json.decode(selection.policy_text(policy)), selection.Policy) == policy


def test_single_bounds_that_cannot_be_met_say_why_in_plain_words():
    rows = sorted([{"candidate_id": i, "raw": i, "invalidated": 0, "first_valid_at": T0, "region": "KZ-75",
                    "sphere": "healthcare", "gender": "male" if i % 3 else "female"} for i in range(1, 7)],
                  key=rank_key)  # women: 3 and 6
    cases = [
        (Limit("region", "KZ-10", 1, None), "region KZ-10: min 1 but only 0 candidate(s) on the ballot"),
        (Limit("gender", "male", 5, None), "gender male: min 5 but only 4 candidate(s) on the ballot"),
        (Limit("region", "KZ-75", 4, None), "region KZ-75: min 4 but only 3 seat(s) to fill"),
        (Limit("gender", "male", 0, 0), "gender male: max 0, but the ballot has only 2 other candidate(s) for "
                                        "the other 3 of 3 seats"),
    ]
    for lim, words in cases:
        with pytest.raises(InfeasiblePolicy) as err:
            choose(rows, 3, [lim])
        assert words in err.value.detail and err.value.extra["bound"] == lim.as_dict()
        assert err.value.status == 422 and err.value.code == "infeasible_policy"


def test_the_report_names_who_entered_and_left_and_the_cost():
    rows = [{"candidate_id": i, "full_name": f"N{i}", "raw": 10 - i, "invalidated": 0, "first_valid_at": T0,
             "region": "KZ-75", "sphere": "healthcare", "gender": "female" if i == 5 else "male"}
            for i in range(1, 6)]
    seats, counts = rank(rows, 2, [Limit("gender", "female", 1, None)])
    assert [s["candidate_id"] for s in seats] == ["1", "5"]
    cmp = selection.comparison(counts, {str(r["candidate_id"]): r["full_name"] for r in rows}, 2)
    assert [(p["candidate_id"], p["full_name"], p["rank"]) for p in cmp["entered"]] == [("5", "N5", 5)]
    assert [p["candidate_id"] for p in cmp["left"]] == ["2"]
    assert (cmp["valid_votes_top_votes"], cmp["valid_votes_selected"], cmp["votes_cost"]) == (17, 14, 3)
    chosen = [r for r in rows if str(r["candidate_id"]) in ("1", "5")]
    assert selection.limits_report([Limit("gender", "female", 1, None), Limit("gender", "male", 0, 4)], chosen) \
        == [{"dimension": "gender", "value": "female", "min": 1, "max": None, "seats": 1, "binding": True},
            {"dimension": "gender", "value": "male", "min": 0, "max": 4, "seats": 1, "binding": False}]


def test_a_large_ballot_is_solved_exactly_and_quickly():
    """300 candidates, 100 seats, at most 3 per region and at least 45 women: the answer meets every bound and
    no single swap of a chosen candidate for an unchosen one (a necessary condition of the optimum) keeps the
    bounds and gains votes or wins the tie-break."""
    import random
    rng = random.Random(11)
    codes = sorted(selection.population_shares("region"))
    rows = sorted([{"candidate_id": i, "raw": rng.randint(0, 5000), "invalidated": 0, "first_valid_at": T0,
                    "region": codes[i % 20], "sphere": "social", "gender": rng.choice(GENDERS)}
                   for i in range(1, 301)], key=rank_key)
    limits = [Limit("region", c, 0, 6) for c in codes] + [Limit("gender", "female", 45, None)]
    got = set(choose(rows, 100, limits))
    assert len(got) == 100
    valid = [r["raw"] for r in rows]
    members = [[i for i, r in enumerate(rows) if selection.group_of(r, lim.dimension) == lim.value]
               for lim in limits]
    assert selection._meets(sorted(got), limits, members)
    for out in got:
        for into in set(range(len(rows))) - got:
            trial = sorted(got - {out} | {into})
            if selection._meets(trial, limits, members):
                assert valid[into] < valid[out] or (valid[into] == valid[out] and into > out)
