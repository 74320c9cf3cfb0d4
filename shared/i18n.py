"""Message catalogues, names from reference data and dates in the reader's language: one module for both web UIs.

A catalogue is JSON (``{"key": "text with {placeholders}"}``) kept in a package, either one file per language
(``<package>/ru.json``: the admin UI) or one folder per language holding a file per area of the site
(``<package>/kk/home.json``, ``<package>/kk/signin.json``, …: the portal), merged per language so that people
working on different pages never edit the same file. A key found in two files of one language is an error.

``translator(lang)`` gives the ``t(key, **values)`` the templates call. A key missing from a language falls back
to the default language, then to the key itself, so a gap shows as a readable key instead of an error page
(each app's tests check that every language has every key).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any


class Catalogues:
    def __init__(self, package: str, *, languages: tuple[str, ...], default: str) -> None:
        self.package = package
        self.languages = languages
        self.default = default
        self._cache: dict[str, dict[str, str]] = {}
        self._translators: dict[str, Callable[..., str]] = {}

    def catalogue(self, lang: str) -> dict[str, str]:
        found = self._cache.get(lang)
        if found is None:
            found = self._cache[lang] = self._load(lang)
        return found

    def _load(self, lang: str) -> dict[str, str]:
        root = resources.files(self.package)
        single = root.joinpath(f"{lang}.json")
        if single.is_file():
            return json.loads(single.read_text("utf-8"))
        merged: dict[str, str] = {}
        folder = root.joinpath(lang)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".json"):
                continue
            for key, text in json.loads(entry.read_text("utf-8")).items():
                if key in merged:
                    raise ValueError(f"catalogue key {key!r} of {lang!r} is defined twice (again in {entry.name})")
                merged[key] = text
        return merged

    def areas(self, lang: str) -> dict[str, dict[str, str]]:
        """A folder catalogue file by file (``{"home": {...}, ...}``): for the completeness tests."""
        folder = resources.files(self.package).joinpath(lang)
        return {e.name.removesuffix(".json"): json.loads(e.read_text("utf-8"))
                for e in folder.iterdir() if e.name.endswith(".json")}

    def pick(self, lang: str | None) -> str:
        return lang if lang in self.languages else self.default

    def translator(self, lang: str) -> Callable[..., str]:
        lang = self.pick(lang)
        made = self._translators.get(lang)
        if made is not None:
            return made
        own, fallback = self.catalogue(lang), self.catalogue(self.default)

        def t(key: str, /, **values: Any) -> str:
            text = own.get(key) or fallback.get(key) or key
            return text.format(**values) if values else text

        self._translators[lang] = t
        return t


def name_in(names: Mapping[str, str], lang: str, default: str = "ru") -> str:
    """A reference-data name ({kk, ru, en}) in the page's language."""
    return names.get(lang) or names.get(default) or next(iter(names.values()), "")


@functools.cache
def _months() -> dict[str, tuple[str, ...]]:
    return {
        # Kazakh: "2026 ж. 2 желтоқсан" (nominative month after the day); Russian: genitive "2 декабря 2026 г."
        "kk": ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан",
               "қараша", "желтоқсан"),
        "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
               "ноября", "декабря"),
        "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"),
    }


def format_date(value: dt.date | dt.datetime | None, lang: str, *, tz: dt.tzinfo | None = None) -> str:
    """"2026 ж. 2 желтоқсан" / "2 декабря 2026 г." / "2 December 2026" (a datetime is shown in ``tz``)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and tz is not None and value.tzinfo is not None:
        value = value.astimezone(tz)
    month = _months().get(lang, _months()["en"])[value.month - 1]
    if lang == "kk":
        return f"{value.year} ж. {value.day} {month}"
    if lang == "ru":
        return f"{value.day} {month} {value.year} г."
    return f"{value.day} {month} {value.year}"


def format_datetime(value: dt.datetime | None, lang: str, *, tz: dt.tzinfo | None = None) -> str:
    """The date as ``format_date`` and the time as HH:MM (24 h, every language)."""
    if value is None:
        return ""
    if tz is not None and value.tzinfo is not None:
        value = value.astimezone(tz)
    return f"{format_date(value, lang)}, {value:%H:%M}"
