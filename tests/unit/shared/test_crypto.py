import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.crypto import (
    NOMINATION_CONTACT,
    ContactOpener,
    ContactSealer,
    KeyRing,
    SealedDataError,
    VoterTokens,
    b64u,
    contact_public_key,
    new_contact_keypair,
    pseudonym,
    unb64u,
)

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
    kid, payload, mac = token.split(".")
    forged = VoterTokens(KEY, ttl_s=3600)._mac(KEY, kid, b"x")  # a MAC of something else
    assert tokens.verify(f"{kid}.{b64u(b'other')}.{mac}") is None
    assert tokens.verify(f"{kid}.{payload}.{b64u(forged)}") is None
    assert tokens.verify(f"other.{payload}.{mac}") is None  # an unknown key id


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
    kid, payload, mac = token.split(".")
    # 16 MAC bytes are 22 characters; the last one carries 2 bits, the other 4 are unused.
    last = _B64U.index(mac[-1])
    same_bytes = _B64U[last | 0b0101]
    assert same_bytes != mac[-1] and unb64u(mac[:-1] + same_bytes) == unb64u(mac)
    assert _TOKENS.verify(f"{kid}.{payload}.{mac[:-1]}{same_bytes}") is None


@given(st.text(max_size=300))
def test_garbage_never_verifies_and_never_raises(garbage):
    assert VoterTokens(KEY, 60).verify(garbage) is None


def test_tokens_carry_the_key_id_and_the_sign_in_time():
    tokens = VoterTokens(KeyRing((("k2", KEY),)), ttl_s=900)
    token, exp = tokens.issue("abcdefghijklmnop", now=1_000_000)
    assert token.startswith("k2.") and exp == 1_000_900
    claims = tokens.claims(token, now=1_000_100)
    assert claims is not None and claims.iat == 1_000_000 and claims.voter == "abcdefghijklmnop"


def test_rotation_accepts_the_previous_key_and_signs_with_the_new_one():
    old_key, new_key = os.urandom(32), os.urandom(32)
    before = VoterTokens(KeyRing((("k1", old_key),)), 900)
    during = VoterTokens(KeyRing((("k2", new_key), ("k1", old_key))), 900)
    after = VoterTokens(KeyRing((("k2", new_key),)), 900)
    old_token, _ = before.issue("abcdefghijklmnop")
    new_token, _ = during.issue("abcdefghijklmnop")
    assert new_token.startswith("k2.")
    assert during.verify(old_token) == during.verify(new_token) == "abcdefghijklmnop"
    assert after.verify(old_token) is None and after.verify(new_token) == "abcdefghijklmnop"
    # An id cannot be pointed at another key: the MAC covers the id.
    kid, payload, mac = old_token.split(".")
    assert during.verify(f"k2.{payload}.{mac}") is None


def test_sealed_contacts_open_only_with_the_private_key_and_in_their_context():
    private, public = new_contact_keypair()
    assert contact_public_key(private) == public
    sealer = ContactSealer(public)  # all the voting service holds
    sealed = sealer.seal(b"+77011234567", context=NOMINATION_CONTACT)
    assert b"7011234567" not in sealed and not hasattr(sealer, "open")
    opener = ContactOpener([private])
    assert opener.open(sealed, context=NOMINATION_CONTACT) == b"+77011234567"
    with pytest.raises(SealedDataError):
        opener.open(sealed, context=b"candidate-contact")
    with pytest.raises(SealedDataError):
        opener.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), context=NOMINATION_CONTACT)
    with pytest.raises(SealedDataError):
        ContactOpener([new_contact_keypair()[0]]).open(sealed, context=NOMINATION_CONTACT)
    assert sealer.seal(b"x", context=b"c") != sealer.seal(b"x", context=b"c")  # fresh ephemeral key every time


def test_contact_key_rotation_opens_both_and_seals_to_the_new_one():
    old_private, old_public = new_contact_keypair()
    new_private, new_public = new_contact_keypair()
    old_sealed = ContactSealer(old_public).seal(b"old", context=b"c")
    opener = ContactOpener([new_private, old_private])
    assert opener.open(old_sealed, context=b"c") == b"old"
    resealed = opener.seal(b"new", context=b"c")
    assert ContactOpener([new_private]).open(resealed, context=b"c") == b"new"
    assert opener.key_id == ContactSealer(new_public).key_id
