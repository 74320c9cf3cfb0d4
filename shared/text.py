"""Free text from outside, normalised and checked in one place for both services.

Request models (msgspec Structs) declare their text fields with ``line(...)`` (names, titles, slugs of one
line) or ``prose(...)`` (stories, claims, reasons: several lines). Their ``__post_init__`` calls
``clean_struct``, which, for each such field:

* normalises: Unicode NFC, line breaks to ``\\n`` (prose), surrounding whitespace trimmed;
* refuses (``ValueError``; msgspec turns it into a ``ValidationError`` naming the field and its path, which
  both services answer as 422 ``invalid_request``):
  - a blank value (empty or only whitespace) where the field is required;
  - control characters (Unicode Cc). Prose keeps ``\\n`` and ``\\t``: stories and claims have paragraphs;
  - bidi overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069): they make a name or a story read
    differently from what is stored ("Trojan Source");
  - in one-line fields also zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and line/paragraph
    separators: two names that look the same must be the same string. Prose keeps ZWJ/ZWNJ, which emoji and
    some scripts need;
  - lone surrogates (not storable text);
  - a length, after trimming, outside the declared ``min_length``/``max_length``.

The same rules are published in the OpenAPI document as a ``pattern`` (see ``line_pattern``) so a client
sees them before it sends; the server's checks give friendlier messages than a regex mismatch would.
"""

from __future__ import annotations

import functools
import hmac
import re
import typing
import unicodedata
from typing import Annotated, Any

import msgspec
from msgspec import Meta

TEXT_KIND = "text_kind"
LINE, PROSE = "line", "prose"

# Character classes as regex ranges (valid both in Python's ``re`` and in ECMA-262 JSON Schema patterns).
_CC = r"\x00-\x08\x0b-\x1f\x7f-\x9f"          # Cc without \t and \n
_TAB_NL = r"\t\n"
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_ZERO_WIDTH = r"\u200b-\u200d\u2060\ufeff"
_SEPARATORS = r"\u2028\u2029"
_SURROGATES = r"\ud800-\udfff"
# What ``str.strip()`` removes and is otherwise allowed: may not start or end a value.
_SPACE = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"

_FORBIDDEN = {
    LINE: _CC + _TAB_NL + _BIDI + _ZERO_WIDTH + _SEPARATORS,
    PROSE: _CC + _BIDI + r"\ufeff",
}
_EDGE = {LINE: _SPACE, PROSE: _SPACE + _TAB_NL + _SEPARATORS}


def pattern(kind: str, *, optional: bool = False) -> str:
    """The JSON Schema pattern of an already normalised value: no forbidden character, no whitespace at either
    end (the server trims; a document promises the canonical form)."""
    bad, edge = _FORBIDDEN[kind], _EDGE[kind]
    one = f"[^{bad}{edge}]([^{bad}]*[^{bad}{edge}])?"
    return f"^({one})?$" if optional else f"^{one}$"


@functools.cache
def _forbidden(kind: str) -> re.Pattern[str]:
    # Surrogates cannot arrive in JSON (msgspec refuses lone ones) but can in a form post; they are left out
    # of the published pattern, which other regex engines (Rust's, ECMA's with the u flag) cannot read.
    return re.compile(f"[{_FORBIDDEN[kind]}{_SURROGATES}]")


def _describe(ch: str) -> str:
    cp = ord(ch)
    if 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069:
        what = "a text-direction control character"
    elif cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF):
        what = "an invisible (zero-width) character"
    elif 0xD800 <= cp <= 0xDFFF:
        what = "an unpaired surrogate"
    elif cp in (0x2028, 0x2029, 0x0A, 0x09):
        what = "a line break or tab"
    else:
        what = "a control character"
    return f"{what} (U+{cp:04X})"


def clean(value: str, *, field: str, kind: str = LINE, min_length: int = 1,
          max_length: int | None = None) -> str:
    """``value`` normalised, or ``ValueError`` naming ``field`` and what is wrong."""
    text = value
    if kind == PROSE:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    trimmed = text.strip()
    if not trimmed:
        if min_length == 0:
            return ""
        raise ValueError(f"`{field}` is blank")
    if (bad := _forbidden(kind).search(trimmed)) is not None:
        raise ValueError(f"`{field}` contains {_describe(bad.group())}")
    # Length as the client counted it (before NFC, which may join a letter and its accent).
    if len(trimmed) < min_length:
        raise ValueError(f"`{field}` must have at least {min_length} characters besides surrounding spaces")
    out = unicodedata.normalize("NFC", trimmed)
    if max_length is not None and len(out) > max_length:
        raise ValueError(f"`{field}` must have at most {max_length} characters")
    return out


# http(s) URLs without whitespace, control, bidi or zero-width characters (a link must show where it goes).
URL_PATTERN = (r"^https?://[^\s/$.?#\x00-\x1f\x7f-\x9f" + _BIDI + _ZERO_WIDTH + r"][^\s\x00-\x1f\x7f-\x9f"
               + _BIDI + _ZERO_WIDTH + r"]*$")

# An e-mail address: one @, a dot in the domain, no whitespace, control, bidi or zero-width characters.
_NOT_IN_EMAIL = r"@\s\x00-\x1f\x7f-\x9f" + _BIDI + _ZERO_WIDTH
EMAIL_PATTERN = f"^[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]+\\.[^{_NOT_IN_EMAIL}]+$"


def email(*, description: str | None = None) -> Any:
    """An e-mail address field (checked by msgspec against EMAIL_PATTERN; trimmed and NFC like a line)."""
    return Annotated[str, Meta(min_length=3, max_length=254, pattern=EMAIL_PATTERN, extra={TEXT_KIND: LINE},
                               description=description, examples=["secretariat@example.kz"])]

# Free-text query parameters (search, filters): anything but NUL, which Postgres text cannot hold.
NO_NUL = r"^[^\x00]*$"


def _meta_of(annotation: Any) -> Meta | None:
    """The text Meta of ``Annotated[str, Meta(extra={TEXT_KIND: ...})]``, also inside ``X | None``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Annotated:
        for m in annotation.__metadata__:
            if isinstance(m, Meta) and m.extra and TEXT_KIND in m.extra:
                return m
        return None
    for arm in args:  # a union such as ``Name | None``
        if (m := _meta_of(arm)) is not None:
            return m
    return None


@functools.cache
def _text_fields(cls: type) -> tuple[tuple[str, str, int, int | None], ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for name in cls.__struct_fields__:  # type: ignore[attr-defined]
        meta = _meta_of(hints[name])
        if meta is not None:
            out.append((name, meta.extra[TEXT_KIND], meta.min_length or 0, meta.max_length))
    return tuple(out)


def clean_struct(obj: msgspec.Struct) -> None:
    """Normalise ``obj``'s text fields in place (frozen Structs too); ``ValueError`` on the first bad one."""
    for name, kind, lo, hi in _text_fields(type(obj)):
        value = getattr(obj, name)
        if isinstance(value, str):
            msgspec.structs.force_setattr(obj, name, clean(value, field=name, kind=kind, min_length=lo,
                                                           max_length=hi))


def _text(kind: str, min_length: int, max_length: int, description: str | None,
          examples: list[str] | None) -> Any:
    schema: dict[str, Any] = {"extra": {"pattern": pattern(kind, optional=min_length == 0)}}
    if description:
        schema["description"] = description
    if examples:
        schema["examples"] = examples
    return Annotated[str, Meta(min_length=min_length, max_length=max_length, extra={TEXT_KIND: kind},
                               extra_json_schema=schema)]


def line(min_length: int = 1, max_length: int = 200, *, description: str | None = None,
         examples: list[str] | None = None) -> Any:
    """A one-line text field (a name, a title). ``min_length=0``: may be empty (a blank value becomes "")."""
    return _text(LINE, min_length, max_length, description, examples)


def prose(min_length: int = 1, max_length: int = 4000, *, description: str | None = None,
          examples: list[str] | None = None) -> Any:
    """A text of several lines (a story, a claim, a reason)."""
    return _text(PROSE, min_length, max_length, description, examples)


class CleanInput(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base of request bodies: unknown fields refused, text fields normalised and checked on decoding."""

    def __post_init__(self) -> None:
        clean_struct(self)


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison of a token a client sent with the expected one. ``hmac.compare_digest`` on
    ``str`` raises TypeError for non-ASCII text (a header decoded as latin-1, a form field), which would be a
    500; compared as UTF-8 bytes any text is simply unequal."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
