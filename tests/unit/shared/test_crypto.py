import os

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from shared.crypto import Sealer, VoterTokens, b64u, pseudonym, unb64u

KEY = os.urandom(32)


def test_pseudonym_is_stable_keyed_and_compact():
    a = pseudonym(KEY, "phone", "+77011234567")
    assert a == pseudonym(KEY, "phone", "+77011234567")
    assert a != pseudonym(os.urandom(32), "phone", "+77011234567")
    assert a != pseudonym(KEY, "voter", "+77011234567")
    assert len(a) == 16 and "7011234567" not in a
    assert len(unb64u(a)) == 12


def test_token_round_trip():
    tokens = VoterTokens(KEY, ttl_s=60)
    token, exp = tokens.issue("abcdefghijklmnop", now=1_000_000)
    assert exp == 1_000_060
    assert tokens.verify(token, now=1_000_059) == "abcdefghijklmnop"


def test_expired_token_is_refused():
    tokens = VoterTokens(KEY, ttl_s=60)
    token, _ = tokens.issue("abcdefghijklmnop", now=1_000_000)
    assert tokens.verify(token, now=1_000_060) is None


def test_token_from_another_key_is_refused():
    token, _ = VoterTokens(os.urandom(32), 60).issue("abcdefghijklmnop")
    assert VoterTokens(KEY, 60).verify(token) is None


def test_tampered_payload_is_refused():
    tokens = VoterTokens(KEY, ttl_s=3600)
    token, _ = tokens.issue("abcdefghijklmnop")
    payload, mac = token.split(".")
    forged = VoterTokens(KEY, ttl_s=3600)._mac(b"x")  # a MAC of something else
    assert tokens.verify(f"{b64u(b'other')}.{mac}") is None
    assert tokens.verify(f"{payload}.{b64u(forged)}") is None


_B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TOKENS = VoterTokens(KEY, ttl_s=3600)


@given(voter=st.text(alphabet=_B64U, min_size=16, max_size=16), data=st.data())
def test_a_token_changed_in_any_one_character_is_refused(voter, data):
    """Including changes that leave the decoded bytes as they were (the unused low bits of a base64
    string's last character): the issued spelling is the only one that verifies."""
    token, _ = _TOKENS.issue(voter)
    i = data.draw(st.integers(0, len(token) - 1))
    c = data.draw(st.sampled_from(_B64U + ".=").filter(lambda c: c != token[i]))
    assert _TOKENS.verify(token[:i] + c + token[i + 1:]) is None
    assert _TOKENS.verify(token) == voter


def test_a_non_canonical_spelling_of_a_valid_token_is_refused():
    token, _ = _TOKENS.issue("abcdefghijklmnop")
    payload, mac = token.split(".")
    # 16 MAC bytes are 22 characters; the last one carries 2 bits, the other 4 are unused.
    last = _B64U.index(mac[-1])
    same_bytes = _B64U[last | 0b0101]
    assert same_bytes != mac[-1] and unb64u(mac[:-1] + same_bytes) == unb64u(mac)
    assert _TOKENS.verify(f"{payload}.{mac[:-1]}{same_bytes}") is None


@given(st.text(max_size=300))
def test_garbage_never_verifies_and_never_raises(garbage):
    assert VoterTokens(KEY, 60).verify(garbage) is None


def test_sealer_round_trip_and_context_binding():
    sealer = Sealer(KEY)
    sealed = sealer.seal(b"+77011234567", context=b"nomination-contact")
    assert b"7011234567" not in sealed
    assert sealer.open(sealed, context=b"nomination-contact") == b"+77011234567"
    with pytest.raises(InvalidTag):
        sealer.open(sealed, context=b"other")
    assert sealer.seal(b"x") != sealer.seal(b"x")  # fresh nonce every time
