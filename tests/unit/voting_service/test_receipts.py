from hypothesis import given
from hypothesis import strategies as st

from shared.votestore.keys import voter_route
from shared.votestore.receipts import make_receipt, new_nonce, parse_receipt


def test_receipt_round_trip():
    nonce = new_nonce()
    r = make_receipt(17, 3, "1732640000000-12", nonce)
    assert parse_receipt(r) == (17, 3, "1732640000000-12", nonce)


@given(st.text(max_size=120))
def test_parse_never_raises(text):
    parse_receipt(text)


def test_voter_route_is_stable_and_in_range():
    voter = "AAECAwQFBgcICQoL"
    assert voter_route(voter, 4, 1000) == voter_route(voter, 4, 1000)
    shard, bucket = voter_route(voter, 4, 1000)
    assert 0 <= shard < 4 and 0 <= bucket < 1000
