"""A candidate's texts (summary, story, achievements) in the visitor's language, or the nearest one there is.

A candidate row carries its texts in one language in the columns ``summary``, ``story`` and ``achievements``
(``text_lang`` says which) and the other languages in ``texts`` (migration 0006):
``{"kk": {"summary": str, "story": str, "achievements": [{"claim", "evidence_url"}]}, "en": {...}}``.

``localized_texts(row, lang)`` takes the wanted language if the candidate has texts in it, else the first
of kk, ru, en (in that order, the wanted one left out) that it has, and says which one it used (``lang``),
so a page can label a fallback ("in Russian") and mark the passage with ``lang="ru"``. A language "has
texts" when its summary or its story is not blank; the three fields always come from that one language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
Lang = Literal["kk", "ru", "en"]
DEFAULT_TEXT_LANG = "ru"  # the column default of candidates.text_lang


class LocalizedTexts(msgspec.Struct, frozen=True, kw_only=True):
    summary: str
    story: str
    achievements: list[dict[str, Any]]
    lang: str  # the language of the three fields above
    wanted: str = ""  # the language asked for
    available: tuple[str, ...] = ()  # every language with texts, in kk, ru, en order

    @property
    def is_fallback(self) -> bool:
        """The texts are in another language than the one asked for."""
        return self.lang != self.wanted


def _get(row: Any, key: str, default: Any = None) -> Any:
    try:
        value = row[key]
    except (KeyError, IndexError):
        return default
    return default if value is None else value


def _json(value: Any, default: Any) -> Any:
    """jsonb from a connection without a JSON codec arrives as text."""
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value if value is not None else default


def _achievements(value: Any) -> list[dict[str, Any]]:
    items = _json(value, [])
    if not isinstance(items, list):
        return []
    return [dict(a) for a in items if isinstance(a, Mapping) and str(a.get("claim") or "").strip()]


def all_texts(row: Any) -> dict[str, dict[str, Any]]:
    """Every language's texts of ``row`` (a record or a mapping), blank languages left out:
    ``{lang: {"summary", "story", "achievements"}}``."""
    base_lang = _get(row, "text_lang", DEFAULT_TEXT_LANG)
    out: dict[str, dict[str, Any]] = {}
    others = _json(_get(row, "texts", {}), {})
    if isinstance(others, Mapping):
        for lang, entry in others.items():
            if lang in LANGUAGES and lang != base_lang and isinstance(entry, Mapping):
                out[lang] = {"summary": str(entry.get("summary") or ""), "story": str(entry.get("story") or ""),
                             "achievements": _achievements(entry.get("achievements"))}
    if base_lang in LANGUAGES:
        out[base_lang] = {"summary": str(_get(row, "summary", "")), "story": str(_get(row, "story", "")),
                          "achievements": _achievements(_get(row, "achievements", []))}
    return {lang: out[lang] for lang in LANGUAGES
            if lang in out and (out[lang]["summary"].strip() or out[lang]["story"].strip())}


def fallback_order(lang: str) -> tuple[str, ...]:
    """The wanted language first, then kk, ru, en without it."""
    return (lang, *(code for code in LANGUAGES if code != lang)) if lang in LANGUAGES else LANGUAGES


def localized_texts(row: Any, lang: str) -> LocalizedTexts:
    """``row``'s texts in ``lang`` or the first language of ``fallback_order(lang)`` it has; a candidate
    without any text gets empty fields in ``text_lang``."""
    have = all_texts(row)
    for code in fallback_order(lang):
        if code in have:
            entry = have[code]
            return LocalizedTexts(summary=entry["summary"], story=entry["story"],
                                  achievements=entry["achievements"], lang=code, wanted=lang,
                                  available=tuple(have))
    base_lang = _get(row, "text_lang", DEFAULT_TEXT_LANG)
    return LocalizedTexts(summary="", story="", achievements=[],
                          lang=base_lang if base_lang in LANGUAGES else DEFAULT_TEXT_LANG, wanted=lang)


_KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def guess_lang(text: str) -> str:
    """The language a citizen most likely wrote ``text`` in: ``kk`` if it has letters only Kazakh uses, ``ru``
    if it is otherwise Cyrillic, ``en`` if Latin; ``ru`` (the column default) when it cannot tell."""
    cyrillic = latin = 0
    for ch in text:
        if ch in _KAZAKH_LETTERS:
            return "kk"
        if "\u0400" <= ch <= "\u04ff":
            cyrillic += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    return "en" if latin > cyrillic else DEFAULT_TEXT_LANG
