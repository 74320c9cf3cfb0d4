"""The admin UI's message catalogue: Russian (default), Kazakh (Cyrillic) and English, one JSON file each.

Every string a page shows comes from here; ``translator(lang)`` gives the ``t(key, **values)`` function the
templates call (shared/i18n.py: a missing key falls back to Russian, then to the key itself; tests check that
the three files have the same keys).
"""

from __future__ import annotations

from collections.abc import Callable

from shared import i18n

LANGUAGES = ("ru", "kk", "en")
DEFAULT = "ru"
COOKIE = "faces_admin_lang"

CATALOGUES = i18n.Catalogues(__name__, languages=LANGUAGES, default=DEFAULT)


def catalogue(lang: str) -> dict[str, str]:
    return CATALOGUES.catalogue(lang)


def pick(lang: str | None) -> str:
    return CATALOGUES.pick(lang)


def translator(lang: str) -> Callable[..., str]:
    return CATALOGUES.translator(lang)


def name_in(names: dict[str, str], lang: str) -> str:
    return i18n.name_in(names, lang, DEFAULT)
