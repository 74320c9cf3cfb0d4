"""The portal's message catalogues: Kazakh (default), Russian, English.

One folder per language, one JSON file per area of the site (``kk/home.json``, ``kk/signin.json``, …), merged
per language by shared/i18n.py; a key may be defined in one file only. tests/unit/voting_service/portal checks
that every language has every key and that every key a template uses exists.
"""

from __future__ import annotations

from shared.i18n import Catalogues

LANGUAGES = ("kk", "ru", "en")
DEFAULT = "kk"
COOKIE = "faces_lang"

CATALOGUES = Catalogues(__name__, languages=LANGUAGES, default=DEFAULT)
