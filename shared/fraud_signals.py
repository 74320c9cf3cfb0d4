"""Live fraud signals of one vote, cheap enough for the hot path (docs/fraud.md).

The voting service packs them into one string (``pack``) that vote.lua writes as the stream entry's ``s``
field; the flusher unpacks it (``unpack``) into the votes table's signal columns. Per vote that costs a clock
read, two dictionary look-ups (the User-Agent and Accept-Language headers are classified once per distinct
string, in bounded caches) and one f-string.

The phone's operator code and the keyed hash of its block of 100 numbers come from the voter token (put
there at sign-in, ``phone_block``): the vote never sees the phone.
"""

from __future__ import annotations

import hashlib
import hmac

from shared.crypto import b64u

UA_BROWSER, UA_HEADLESS, UA_SCRIPT = "b", "h", "s"
UA_CLASSES = {UA_BROWSER: "browser", UA_HEADLESS: "headless", UA_SCRIPT: "script"}

# Automation that says so in its User-Agent; a browser that is driven headless usually keeps one of these.
_HEADLESS = ("headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver", "electron",
             "slimerjs", "htmlunit", "lighthouse", "chrome-lighthouse")
# A browser's User-Agent starts with Mozilla/5.0; one that also names a crawler or an HTTP library is a script.
# Anything else (python-requests, curl, Go-http-client, okhttp, none at all...) is a script too.
_BROWSER_MARK = "mozilla/5.0"
_SCRIPT_IN_BROWSER = ("bot/", "spider", "crawler", "python", "curl/", "wget", "go-http-client", "okhttp",
                      "node-fetch", "axios", "scrapy")
_CACHE_MAX = 4096

_ua_cache: dict[str, str] = {}
_lang_cache: dict[str, str] = {}


def _classify_ua(ua: str) -> str:
    low = ua.lower()
    if any(m in low for m in _HEADLESS):
        return UA_HEADLESS
    if not low.startswith(_BROWSER_MARK) or any(m in low for m in _SCRIPT_IN_BROWSER):
        return UA_SCRIPT
    return UA_BROWSER


def ua_class(ua: str | None) -> str:
    """``b`` browser, ``h`` headless (automation that says so), ``s`` script (an HTTP library, a tool, none)."""
    if not ua:
        return UA_SCRIPT
    found = _ua_cache.get(ua)
    if found is None:
        if len(_ua_cache) >= _CACHE_MAX:  # unique strings (a bot randomising) pass through: start again
            _ua_cache.clear()
        found = _ua_cache[ua] = _classify_ua(ua[:512])
    return found


def _normalise_lang(raw: str) -> str:
    first = raw.split(",", 1)[0].split(";", 1)[0].strip()
    primary = first.split("-", 1)[0].split("_", 1)[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha() else ""


def accept_lang(raw: str | None) -> str:
    """The primary language of the first Accept-Language entry (``ru-RU,ru;q=0.9`` -> ``ru``); ``''`` when absent
    or not a language."""
    if not raw:
        return ""
    found = _lang_cache.get(raw)
    if found is None:
        if len(_lang_cache) >= _CACHE_MAX:
            _lang_cache.clear()
        found = _lang_cache[raw] = _normalise_lang(raw[:256])
    return found


def phone_block(key: bytes, e164: str) -> tuple[str, str, int]:
    """(operator code, keyed hash of the block of 100 numbers, position in the block 0-99) of a normalised
    ``+77011234567``. The hash (72 bits of HMAC-SHA256 under its own label) names the block without the
    number; the position is kept only next to that hash, in the sign-in window (voting_service/services/
    signin_risk.py)."""
    digits = e164[2:]
    mac = hmac.new(key, f"phone-block:{digits[:-2]}".encode(), hashlib.sha256).digest()
    return digits[:3], b64u(mac[:9]), int(digits[-2:])


def pack(signin_s: int, ua: str, page_token: bool, operator: str, lang: str, block: str, seq_run: int) -> str:
    """The stream entry's ``s`` field: ``signin_s|ua|page_token|operator|lang|block|seq_run``."""
    return f"{signin_s}|{ua}|{1 if page_token else 0}|{operator}|{lang}|{block}|{seq_run}"


Signals = tuple[int | None, str | None, bool | None, str | None, str | None, str | None, int | None]
NO_SIGNALS: Signals = (None, None, None, None, None, None, None)


def unpack(raw: str | None) -> Signals:
    """(signin_s, ua_class, page_token, operator, accept_lang, num_block, seq_run) for the votes table; all None
    for an entry written without signals (or a malformed one: a signal is never a reason to lose a vote)."""
    if not raw:
        return NO_SIGNALS
    parts = raw.split("|")
    if len(parts) != 7:
        return NO_SIGNALS
    dt, ua, pt, op, lang, block, seq = parts
    try:
        signin_s = max(-1, min(int(dt), 2_000_000_000)) if dt else None
        seq_run = max(0, min(int(seq), 100)) if seq else None
    except ValueError:
        return NO_SIGNALS
    return (signin_s, UA_CLASSES.get(ua), pt == "1" if pt in ("0", "1") else None, op[:3] or None, lang[:3],
            block[:16] or None, seq_run)
