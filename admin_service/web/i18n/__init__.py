"""The admin UI's message catalogue: Russian (default), Kazakh (Cyrillic) and English, one JSON file each.

Every string a page shows comes from here; ``translator(lang)`` gives the ``t(key, **values)`` function the
templates call. A key missing from a language falls back to Russian, then to the key itself, so a gap shows
up as a readable key instead of an error page (tests check that the three files have the same keys).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

LANGUAGES = ("ru", "kk", "en")
DEFAULT = "ru"
COOKIE = "faces_admin_lang"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads(resources.files(__package__).joinpath(f"{lang}.json").read_text("utf-8"))


def pick(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def translator(lang: str) -> Callable[..., str]:
    lang = pick(lang)
    own, fallback = catalogue(lang), catalogue(DEFAULT)

    def t(key: str, /, **values: Any) -> str:
        text = own.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t


def name_in(names: dict[str, str], lang: str) -> str:
    """A reference-data name ({kk, ru, en}) in the page's language."""
    return names.get(lang) or names.get(DEFAULT) or next(iter(names.values()), "")
