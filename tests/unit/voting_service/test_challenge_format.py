"""The proof-of-work header parser and the difficulty curve (voting_service/services/challenge.py), without I/O."""

from __future__ import annotations

import base64
import json

from hypothesis import given, strategies as st

from voting_service.services.challenge import _parse, _salt_params, difficulty


@given(st.text(max_size=3000))
def test_any_header_text_parses_to_a_solution_or_a_reason_never_an_exception(text):
    payload, reason = _parse(text)
    assert (payload is None) == bool(reason)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                        max_size=5), max_leaves=10)


@given(st.dictionaries(st.sampled_from(["algorithm", "challenge", "number", "salt", "signature", "x"]), json_values))
def test_any_json_object_is_shape_checked(obj):
    header = base64.b64encode(json.dumps(obj).encode()).decode()
    payload, _ = _parse(header)
    if payload is not None:
        assert all(isinstance(payload[k], str) for k in ("algorithm", "challenge", "salt", "signature"))
        assert isinstance(payload["number"], int) and payload["number"] >= 0


def test_a_repeated_salt_parameter_counts_as_none():
    assert _salt_params("abc?expires=1&r=vote&") == {"expires": "1", "r": "vote"}
    assert _salt_params("abc?expires=9999999999&expires=1&r=vote&") == {}


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_difficulty_never_falls_as_risk_rises_and_stays_within_bounds(a, b):
    lo, hi = sorted((a, b))
    d_lo, d_hi = difficulty(lo, base=1000, ceiling=10**6), difficulty(hi, base=1000, ceiling=10**6)
    assert 1000 <= d_lo <= d_hi <= 10**6
    assert difficulty(1.0, base=1000, ceiling=10**6) == 1000 and difficulty(2.0, base=1000, ceiling=10**6) == 2000
