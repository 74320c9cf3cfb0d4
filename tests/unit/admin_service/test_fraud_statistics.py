"""The fraud review's significance tests: exact Poisson and binomial tails (checked against direct sums), the
burst floor growing with the number of candidate-buckets tested, and the thresholds they put on a bucket and a
cluster."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admin_service.services import fraud


def _poisson_sf_direct(x: int, lam: float) -> float:
    return 1.0 - sum(math.exp(-lam) * lam ** k / math.factorial(k) for k in range(x))


def _binomial_sf_direct(x: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(x, n + 1))


@given(st.integers(0, 60), st.floats(0.01, 30))
def test_poisson_tail_matches_the_direct_sum(x, lam):
    direct = _poisson_sf_direct(x, lam)
    if direct > 1e-9:  # the direct sum loses the far tail to cancellation; the log-space sum does not
        assert fraud.poisson_sf(x, lam) == pytest.approx(direct, rel=1e-6, abs=1e-12)


def test_poisson_far_tail_is_exact_where_one_minus_the_sum_is_zero():
    # P(X >= 40 | 1) = sum_{k>=40} e^-1 / k!, dominated by its first term
    first = math.exp(-1 - math.lgamma(41))
    assert fraud.poisson_sf(40, 1.0) == pytest.approx(first * (1 + 1 / 41 + 1 / (41 * 42)), rel=1e-6)
    assert fraud.poisson_sf(1200, 1000.0) < 1e-9 < fraud.poisson_sf(1100, 1000.0) < 0.01
    assert fraud.poisson_sf(0, 3.0) == 1.0 and fraud.poisson_sf(1, 0.0) == 0.0


@given(st.integers(1, 40), st.integers(1, 60), st.floats(0.001, 0.6))
def test_binomial_tail_matches_the_direct_sum(x, n, p):
    assert fraud.binomial_sf(x, n, p) == pytest.approx(_binomial_sf_direct(x, n, p), rel=1e-6, abs=1e-15)


def test_the_burst_floor_grows_with_the_candidate_buckets_tested():
    # a few hundred candidate-buckets (the harness's run): BURST_MIN; a national campaign (100 candidates over
    # 23 days of minutes, 3.3 M): 12, where P(X >= 12 | 1) is below 0.01 / 3.3 M
    assert fraud.burst_floor(360) == fraud.BURST_MIN == 8
    floors = [fraud.burst_floor(n) for n in (10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6, 3_312_000, 10 ** 8)]
    assert floors == sorted(floors) and floors[-2] == 12
    assert fraud.poisson_sf(12, 1.0) <= fraud.BURST_ALPHA / 3_312_000 < fraud.poisson_sf(11, 1.0)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert fraud.burst_tests(100, start, start + dt.timedelta(days=23, seconds=-1), 60) == 100 * 23 * 1440
    assert fraud.burst_tests(3, start, start, 60) == 3 and fraud.burst_tests(0, None, None, 60) == 1


def test_a_bucket_needs_the_ratio_the_floor_and_significance():
    tests = 3_312_000
    # a quiet candidate (expected under one vote, counted as one): the significance floor decides
    assert fraud._needed(0.2, tests) == 12
    # a busy one: five times the expected votes decides, far above the Poisson noise
    assert fraud._needed(40.0, tests) == 200
    # in between, significance can ask for more than the ratio
    e = 2.0
    assert fraud._needed(e, tests) > fraud.BURST_RATIO * e
    assert fraud.poisson_sf(fraud._needed(e, tests), e) <= fraud.BURST_ALPHA / tests


def _cluster_row(votes: int, top: int, top_total: int, kind: str = "blk") -> dict:
    return {"kind": kind, "key": "k", "votes": votes, "voters": votes, "top_votes": top, "top_candidate": 1,
            "top_candidate_total": top_total, "auto_votes": 0, "fast_votes": 0, "seq_votes": 0, "dt_n": 0,
            "dt_sum": 0.0, "dt_sq": 0.0, "tokenless_votes": 0, "nets": None, "invalid_votes": 0}


def test_same_candidates_is_corrected_for_the_clusters_of_its_kind_tested():
    # 11 of a block's 16 votes for a candidate with 12 % of the campaign: P ~ 2e-7. Alone in its kind it is
    # a farm; among 1.9 M number blocks a few such leads are chance.
    row = _cluster_row(16, 11, 12 * 30_000_000 // 100)
    _, alone = fraud._cluster_signals(row, mean_votes=16, total_votes=30_000_000, fast_s=5, clusters=1)
    _, among_many = fraud._cluster_signals(row, mean_votes=16, total_votes=30_000_000, fast_s=5,
                                           clusters=1_900_000)
    assert alone and not among_many
    # a farm's 60 of 180 votes for a candidate with 1 % is significant among any number of clusters
    farm = _cluster_row(180, 60, 300_000, kind="net")
    signals, suspicious = fraud._cluster_signals(farm, mean_votes=750, total_votes=30_000_000, fast_s=5,
                                                 clusters=40_000)
    assert suspicious and signals[0]["signal"] == "same_candidates" and signals[0]["score"] > 5
