"""Every message a staff page can show comes from the three catalogues (issue 14, item 1).

Errors carry a ``key`` (``msg.<key>`` in the catalogues) and ``params`` (shared/errors.py); the web layer renders
them in the reader's language (admin_service/web/messages.py). These tests read the source: every error the
admin service raises names a key; every key, and every field a message can name, is in kk, ru and en; every
placeholder a text uses is a param the raise site gives. The pages themselves are checked in
tests/integration/admin/test_web_messages.py.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import msgspec
import pytest

from admin_service import models, models_domain
from admin_service.services.common import invalid_input
from admin_service.web.i18n import LANGUAGES, catalogue
from admin_service.web.messages import message
from shared.errors import AppError, InvalidRequest, NotFound

ROOT = Path(__file__).resolve().parents[4]
SOURCES = sorted((ROOT / "admin_service").rglob("*.py"))
ERRORS = {"AppError", "InvalidRequest", "BadRequest", "Unauthorized", "InvalidCode", "Forbidden", "NotFound",
          "Conflict", "RateLimited", "Unavailable", "WeakPassword", "CsrfFailed", "LoginRequired",
          "PasswordChangeRequired", "MfaEnrolmentRequired", "InvalidTransition", "LastAdmin", "InvalidCredentials",
          "MfaRequired", "AlreadyEnrolled", "NoEnrolment", "NotReady", "InfeasiblePolicy"}
# Keys built by f-strings, with every value they can take.
BUILT = {"no_{}": {"candidate", "campaign", "nomination", "verification_request"},
         "bound_{}_number": {"min", "max"}}
# Params the renderer adds or fills in (messages.localised / message).
DERIVED = {"group", "field"}


def raise_sites() -> list[tuple[str, ast.Call, str]]:
    out = []
    for path in SOURCES:
        text = path.read_text("utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS:
                out.append((f"{path.relative_to(ROOT)}:{node.lineno}", node, text))
    return out


def keys_of(node: ast.Call) -> set[str]:
    kw = {k.arg: k.value for k in node.keywords}
    value = kw.get("key")
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.JoinedStr):
        pattern = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in value.values)
        assert pattern in BUILT, f"an f-string key not listed in BUILT: {pattern}"
        return {pattern.format(v) for v in BUILT[pattern]}
    if isinstance(value, ast.Name) and value.id == "key":  # selection._one(..., key, params): checked below
        return set()
    raise AssertionError(f"no literal key: {ast.dump(node)[:200]}")


def params_of(node: ast.Call) -> set[str] | None:
    """The param names a raise site gives (None: not literal, e.g. built by a helper)."""
    kw = {k.arg: k.value for k in node.keywords}
    names: set[str] = set()
    if "params" in kw:
        if not isinstance(kw["params"], ast.Dict):
            return None
        for k in kw["params"].keys:
            if k is None:
                return None  # **spread: a helper's
            names.add(k.value)
    return names


def test_every_error_the_admin_service_raises_names_a_message_key():
    missing = [where for where, node, _ in raise_sites() if not any(k.arg == "key" for k in node.keywords)]
    assert not missing, f"errors without key= (their message would not be translated): {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_key_is_in_every_catalogue_with_only_the_params_given(lang):
    own = catalogue(lang)
    problems = []
    for where, node, _ in raise_sites():
        for key in keys_of(node):
            text = own.get(f"msg.{key}")
            if text is None:
                problems.append(f"{where}: msg.{key} missing")
                continue
            given = params_of(node)
            if given is None:
                continue
            wanted = set(re.findall(r"{(\w+)}", text)) - DERIVED
            if not wanted <= given:
                problems.append(f"{where}: msg.{key} names {sorted(wanted - given)}, not given")
    assert not problems, "\n".join(problems)


# selection._one(lim, message, key, params) and the invalid_input keys: literal keys outside the raise itself.
INDIRECT = {"infeasible_min_ballot", "infeasible_min_seats", "infeasible_max", "required", "too_short",
            "too_long", "bad_characters", "choose_from_list", "invalid", "closes_before_opens", "date_range"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_indirect_keys_are_in_every_catalogue(lang):
    assert not {k for k in INDIRECT if f"msg.{k}" not in catalogue(lang)}
    text = (ROOT / "admin_service/services/selection.py").read_text("utf-8")
    found = set(re.findall(r'"(infeasible_[a-z_]+)",\s*{', text))
    assert found and found <= INDIRECT


def struct_paths(kind: type, prefix: str = "") -> set[str]:
    """Every field path of an input Struct (nested Structs, lists and dicts of them), without list indexes."""
    out: set[str] = set()
    for field in msgspec.structs.fields(kind):
        path = f"{prefix}{field.encode_name}"
        out.add(path)
        for inner in _structs_in(field.type):
            out |= struct_paths(inner, f"{path}.")
    return out


def _structs_in(tp: object) -> list[type]:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return [tp]
    found = []
    for arg in getattr(tp, "__args__", ()) or ():
        found += _structs_in(arg)
    origin = getattr(tp, "__origin__", None)
    if origin is not None and getattr(tp, "__metadata__", None):
        found += _structs_in(origin)
    return found


INPUTS = [models_domain.CandidateIn, models_domain.LangTexts, models_domain.TransitionIn,
          models_domain.VerificationRequestIn, models_domain.VerificationOutcomeIn, models_domain.ReviewIn,
          models_domain.MergeIn, models_domain.RejectIn, models_domain.CampaignIn, models_domain.BallotIn,
          models.UserIn, models.UserPatchIn, models.PasswordChangeIn]


def field_names_used() -> set[str]:
    """Fields the forms' structs have, and every literal field a raise site names."""
    names: set[str] = set()
    for kind in INPUTS:
        names |= struct_paths(kind)
    for _, node, _ in raise_sites():
        for kw in node.keywords:
            if kw.arg in ("params", "extra") and isinstance(kw.value, ast.Dict):
                for k, v in zip(kw.value.keys, kw.value.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value == "field" and isinstance(v, ast.Constant):
                        names.add(v.value)
    return {n for n in names if not n.startswith(("bound_", "dimension_", "texts."))}  # keyed messages


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_field_a_message_can_name_is_in_every_catalogue(lang):
    own = catalogue(lang)
    missing = sorted(n for n in field_names_used()
                     if f"field.{n}" not in own and f"field.{n.rsplit('.', 1)[-1]}" not in own)
    assert not missing, f"{lang}: field names without a catalogue entry: {missing}"


def test_validation_errors_become_keyed_messages_naming_the_field_in_the_readers_language():
    base = {"full_name": "Ерлан Жаксылыков", "region": "KZ-75", "sphere": "social", "gender": "male",
            "birth_year": 1980, "source": {"kind": "ngo"}, "story": "x" * 30, "achievements": [{"claim": "abc"}]}
    cases = [({"region": "KZ-99"}, "choose_from_list", "region"), ({"story": "short"}, "too_short", "story"),
             ({"achievements": [{"claim": "a"}]}, "too_short", "achievements.claim"),
             ({"full_name": "ab\x01c"}, "bad_characters", "full_name"),
             ({"source": {"kind": "website"}}, "choose_from_list", "source.kind")]
    for change, key, field in cases:
        with pytest.raises(msgspec.ValidationError) as caught:
            msgspec.convert({**base, **change}, models_domain.CandidateIn, strict=False)
        exc = invalid_input(caught.value)
        assert (exc.key, exc.params["field"], exc.code, exc.status) == (key, field, "invalid_request", 422)
        for lang in LANGUAGES:
            text = message(exc, lang)
            assert text and "`" not in text and "$." not in text and "Expected" not in text, (lang, text)
        assert "Регион" in message(invalid_input(_error({"region": "KZ-99"}, base)), "ru")
        assert "Өңір" in message(invalid_input(_error({"region": "KZ-99"}, base)), "kk")


def _error(change: dict, base: dict) -> msgspec.ValidationError:
    try:
        msgspec.convert({**base, **change}, models_domain.CandidateIn, strict=False)
    except msgspec.ValidationError as exc:
        return exc
    raise AssertionError("no error")


def test_message_falls_back_without_ever_showing_the_english_detail():
    secret = "An English detail for API clients"
    assert message(NotFound(secret, key="no_candidate", params={"id": 99999}), "kk") == "99999 кандидат табылмады."
    assert message(NotFound(secret, key="no_candidate", params={"id": 99999}), "en") == "No candidate 99999."
    for exc in (AppError(secret), InvalidRequest(secret, key="no_such_key"), InvalidRequest(secret, key="invalid"),
                InvalidRequest(secret, extra={"field": "slug"})):
        for lang in LANGUAGES:
            assert secret not in message(exc, lang)
    assert message(InvalidRequest(secret, extra={"field": "slug"}), "ru") == "Проверьте поле «Код кампании»."


# Latin words a Kazakh or Russian staff page may show: product names, standard abbreviations, format examples.
LATIN_ALLOWED = {"FreeOTP", "Google", "Authenticator", "Microsoft", "QR-", "UTC", "season-2026", "English",
                 "xxxxxxxxx", "SMS-", "SMS", "SHA-256", "https"}
JARGON = re.compile(r"redis|postgres|argon|slug|json|\bapi\b|hash|stream|flusher|totp|csrf|http", re.I)


def plain(text: str) -> str:
    """The text without its placeholders and its links' scheme."""
    return re.sub(r"{[a-z_]+}|https", "", text)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_kazakh_and_russian_texts_have_no_english_words_or_jargon(lang):
    found = {}
    for key, text in catalogue(lang).items():
        words = set(re.findall(r"[A-Za-z][A-Za-z0-9-]{2,}", plain(text))) - LATIN_ALLOWED
        if words or JARGON.search(plain(text)):
            found[key] = text
    assert not found, found


def test_english_texts_have_no_jargon():
    allowed = {"results.digest"}  # "Digest (SHA-256)": what an observer recomputes
    found = {k: v for k, v in catalogue("en").items()
             if k not in allowed and JARGON.search(plain(v))}
    assert not found, found
