"""The portal's catalogues: every key in every language, every key a page uses exists, dates and reference
names in the reader's language (no servers needed)."""

from __future__ import annotations

import datetime as dt
import re
import typing
from pathlib import Path
from types import SimpleNamespace

import pytest

from shared.i18n import Catalogues, format_date, format_datetime, name_in
from shared.reference import GENDERS
from voting_service.models import NominationStatus, Receipt
from voting_service.portal.controllers.site import cookies_set
from voting_service.portal.flows_blocks import REFUSALS
from voting_service.portal.i18n import CATALOGUES, LANGUAGES
from voting_service.portal.render import KZ_TIME

PORTAL = Path(__file__).resolve().parents[4] / "voting_service" / "portal"
LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")  # literal keys, not prefixes
# A key built in a template: t("prefix." ~ value) or say("prefix." ~ value, ...).
BUILT = re.compile(r"""\b(?:t|say)\(\s*["']([a-z0-9_.]+)["']\s*~""")
STATUSES = ("draft", "scheduled", "open", "closed", "finalised")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*PORTAL.glob("templates/**/*.html"), *PORTAL.glob("**/*.py")]:
        keys.update(LITERAL.findall(path.read_text("utf-8")))
    return keys


def dynamic_keys() -> set[str]:
    """Keys built from values (``t("campaign.status." ~ status)`` and the like), each family from the values
    the code can give it, so that a missing translation of any of them fails the test."""
    receipt_statuses = typing.get_args(typing.get_type_hints(Receipt)["status"])
    nomination_statuses = typing.get_args(typing.get_type_hints(NominationStatus)["status"])
    keys = {f"campaign.status.{s}" for s in STATUSES}
    keys |= {f"lang.{code}" for code in LANGUAGES}
    keys |= {f"text.in_{code}" for code in LANGUAGES}
    keys |= {f"gender.{g}" for g in GENDERS}
    keys |= {f"final.by_{d}" for d in ("gender", "region")}
    keys |= {f"errors.{kind}.{n}" for kind in ("title", "text") for n in (400, 403, 404, 405, 413, 415, 422, 429,
                                                                          500, 503)}
    keys |= {f"vote.refused.{code}" for code in REFUSALS}
    keys |= {f"receipts.{kind}.{s}" for kind in ("status", "explain") for s in receipt_statuses}
    keys |= {f"nominate.status.{s}" for s in nomination_statuses}
    keys |= {f"nominate.status.explain.{s}" for s in nomination_statuses}
    keys |= {f"nominate.gender.{g}" for g in GENDERS}
    for _name, purpose, (life, _values) in cookies_set(SimpleNamespace(voter_token_ttl_s=900, otp_ttl_s=300)):
        keys |= {purpose, life}  # the privacy page's list of cookies
    return keys


def test_every_key_a_template_builds_is_a_known_family():
    """A template that builds a key from a new prefix must have that family listed in ``dynamic_keys``."""
    families = {key.rsplit(".", 1)[0] + "." for key in dynamic_keys()} | {"text.in_", "final.by_"}
    for path in PORTAL.glob("templates/**/*.html"):
        for prefix in BUILT.findall(path.read_text("utf-8")):
            assert prefix in families, (path.name, prefix)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_pages_use_is_in_every_language(lang):
    missing = (used_keys() | dynamic_keys()) - CATALOGUES.catalogue(lang).keys()
    assert not missing, f"{lang}: {sorted(missing)}"


def test_the_languages_have_the_same_keys_area_by_area_and_the_same_placeholders():
    areas = {lang: CATALOGUES.areas(lang) for lang in LANGUAGES}
    for lang in LANGUAGES:
        assert areas[lang].keys() == areas["kk"].keys(), lang
        for area, entries in areas[lang].items():
            assert entries.keys() == areas["kk"][area].keys(), (lang, area)
            for key, text in entries.items():
                assert text.strip(), (lang, key)
                assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", areas["kk"][area][key])), \
                    (lang, key)


def test_kazakh_is_written_in_kazakh_cyrillic():
    kk = CATALOGUES.catalogue("kk")
    assert re.search("[әғқңөұүһі]", " ".join(kk.values()), re.IGNORECASE)
    for key in ("home.heading", "nav.rules", "ballot.vote", "errors.title.404"):
        assert not re.search("[a-z]{3,}", kk[key], re.IGNORECASE), key


def test_a_key_defined_twice_in_one_language_is_refused(tmp_path, monkeypatch):
    pkg = tmp_path / "twicecat"
    (pkg / "kk").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "kk" / "a.json").write_text('{"x": "1"}')
    (pkg / "kk" / "b.json").write_text('{"x": "2"}')
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="defined twice"):
        Catalogues("twicecat", languages=("kk",), default="kk").catalogue("kk")


def test_translator_formats_and_falls_back_to_kazakh_then_the_key():
    assert CATALOGUES.translator("ru")("ballot.count_all", n=200) == "Всего кандидатов: 200."
    assert CATALOGUES.translator("xx")("nav.rules") == "Ережелер"
    assert CATALOGUES.translator("en")("no.such.key") == "no.such.key"


def test_dates_in_each_language():
    day = dt.date(2026, 12, 2)
    assert format_date(day, "kk") == "2026 ж. 2 желтоқсан"
    assert format_date(day, "ru") == "2 декабря 2026 г."
    assert format_date(day, "en") == "2 December 2026"
    # A UTC instant is shown in Kazakhstan's time (UTC+5): 21:30 UTC on 1 December is 2 December there.
    instant = dt.datetime(2026, 12, 1, 21, 30, tzinfo=dt.UTC)
    assert format_datetime(instant, "ru", tz=KZ_TIME) == "2 декабря 2026 г., 02:30"
    assert format_date(dt.date(2026, 5, 9), "kk") == "2026 ж. 9 мамыр"


def test_reference_names_in_the_language_asked():
    names = {"kk": "Алматы облысы", "ru": "Алматинская область", "en": "Almaty Region"}
    assert name_in(names, "en") == "Almaty Region"
    assert name_in({"ru": "Только русский"}, "kk") == "Только русский"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_date_at_the_end_of_a_sentence_leaves_one_full_stop(lang):
    """Russian dates end in "г." ("2 декабря 2026 г."): a message that ends with ``{date}`` adds no second stop."""
    t = CATALOGUES.translator(lang)
    when = format_date(dt.date(2026, 12, 2), lang)
    for key, text in CATALOGUES.catalogue(lang).items():
        if "{date}" in text:
            rendered = t(key, date=when, n=100)
            assert ".." not in rendered, (key, rendered)
