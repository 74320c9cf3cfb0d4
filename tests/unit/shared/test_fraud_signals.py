"""The live signals' pure parts: User-Agent classes, Accept-Language, the number block, packing for the stream
and unpacking in the flusher (a malformed entry loses its signals, never its vote)."""

from __future__ import annotations

import base64
import hashlib
import json

from hypothesis import given, strategies as st

from loadtests.pow import solution_header
from shared import fraud_signals as fs


def test_user_agents_fall_in_three_classes():
    assert fs.ua_class("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36") == "b"
    assert fs.ua_class("Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36") == "b"  # a phone brand
    assert fs.ua_class("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0") == "h"
    assert fs.ua_class("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)") == "s"
    for ua in ("python-requests/2.32", "curl/8.5.0", "Go-http-client/1.1", "okhttp/4.12", "", None):
        assert fs.ua_class(ua) == "s", ua


def test_accept_language_is_the_primary_language_of_the_first_entry():
    assert fs.accept_lang("ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert fs.accept_lang("kk") == "kk" and fs.accept_lang("EN_us") == "en"
    assert fs.accept_lang("*") == "" and fs.accept_lang(None) == "" and fs.accept_lang("x" * 300) == ""


def test_the_number_block_hides_the_number_and_groups_its_hundred():
    op, block, pos = fs.phone_block(b"k" * 32, "+77011234567")
    assert (op, pos) == ("701", 67) and "1234567" not in block and len(block) == 12
    assert fs.phone_block(b"k" * 32, "+77011234500")[1] == block
    assert fs.phone_block(b"k" * 32, "+77011234600")[1] != block
    assert fs.phone_block(b"j" * 32, "+77011234567")[1] != block  # keyed


@given(dt=st.integers(-1, 10**6), ua=st.sampled_from("bhs"), pt=st.booleans(), op=st.sampled_from(["", "701", "747"]),
       lang=st.sampled_from(["", "ru", "kk"]), block=st.text("abcXYZ09-_", max_size=12), seq=st.integers(0, 100))
def test_pack_and_unpack_round_trip(dt, ua, pt, op, lang, block, seq):
    assert fs.unpack(fs.pack(dt, ua, pt, op, lang, block, seq)) == (
        dt, fs.UA_CLASSES[ua], pt, op or None, lang, block or None, seq)


@given(st.text(max_size=60))
def test_a_malformed_field_unpacks_to_no_signals_or_valid_ones(raw):
    out = fs.unpack(raw)
    assert out == fs.NO_SIGNALS or (len(out) == 7 and out[1] in (None, "browser", "headless", "script"))


def test_the_harness_solves_an_altcha_challenge():
    salt, number = "s4lt?expires=1", 4321
    challenge = {"algorithm": "SHA-256", "challenge": hashlib.sha256(f"{salt}{number}".encode()).hexdigest(),
                 "salt": salt, "maxnumber": 10_000, "signature": "sig"}
    sent = json.loads(base64.b64decode(solution_header(challenge)))
    assert sent == {"algorithm": "SHA-256", "challenge": challenge["challenge"], "number": number, "salt": salt,
                    "signature": "sig"}
