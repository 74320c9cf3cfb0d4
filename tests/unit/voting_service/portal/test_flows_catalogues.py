"""The flows' messages: every key in all three languages, every key a flows template uses exists, every refusal
of a vote has its own message in each language, and the Kazakh text is Kazakh (not a copy of the Russian)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

from tests.unit.voting_service.portal.test_catalogues import dynamic_keys
from voting_service.portal.controllers.nominate import TEXT_FIELDS
from voting_service.portal.flows_blocks import REFUSALS
from voting_service.portal.i18n import CATALOGUES, LANGUAGES
from voting_service.portal.render import render, shared_context

PORTAL = Path(__file__).resolve().parents[4] / "voting_service" / "portal"
AREAS = ("form", "signin", "vote", "myvotes", "receipts", "nominate")
TEMPLATES = sorted((PORTAL / "templates" / "flows").glob("*.html"))
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_.0-9]+)["']""")
PY_KEY = re.compile(r"""["']((?:form|signin|signout|vote|myvotes|receipts|nominate)\.[a-z_.0-9]+)["']""")


def _area(lang: str, area: str) -> dict[str, str]:
    return json.loads((PORTAL / "i18n" / lang / f"{area}.json").read_text("utf-8"))


@pytest.mark.parametrize("area", AREAS)
def test_every_language_has_every_key(area: str) -> None:
    keys = {lang: set(_area(lang, area)) for lang in LANGUAGES}
    assert keys["kk"] == keys["ru"] == keys["en"], {lang: keys["kk"] ^ k for lang, k in keys.items()}
    for lang in LANGUAGES:
        assert all(text.strip() for text in _area(lang, area).values()), (lang, area)


@pytest.mark.parametrize("area", AREAS)
def test_kazakh_is_not_a_copy_of_russian(area: str) -> None:
    kk, ru = _area("kk", area), _area("ru", area)
    same = [k for k in kk if kk[k] == ru[k] and not re.fullmatch(r"[{}a-z0-9 ]+|\{n\} мин", kk[k])]
    assert not same, same


def test_every_key_used_by_the_flows_exists_in_every_language() -> None:
    used = dynamic_keys()
    for path in TEMPLATES:
        used |= set(LITERAL_KEY.findall(path.read_text("utf-8")))
    for path in [*(PORTAL / "controllers").glob("*.py"), PORTAL / "forms.py", PORTAL / "flows_blocks.py"]:
        used |= {k for k in PY_KEY.findall(path.read_text("utf-8")) if not k.endswith(".")}
    used = {k for k in used if not k.endswith(".")}  # prefixes of the keys of test_catalogues.dynamic_keys
    for lang in LANGUAGES:
        missing = sorted(k for k in used if k not in CATALOGUES.catalogue(lang))
        assert not missing, (lang, missing)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("code", REFUSALS)
def test_every_refusal_of_a_vote_reads_as_its_own_message(code: str, lang: str) -> None:
    """The ballot's personal part with each refusal: the catalogue's sentence, announced as an alert."""
    t = CATALOGUES.translator(lang)
    ctx = {**shared_context(lang, path="/campaigns/c", base="http://x"),
           "say": lambda key, values=None: t(key, **{k: v if not isinstance(v, tuple) else t(v[0], **v[1])
                                                     for k, v in (values or {}).items()}),
           "wait": lambda s: ("form.wait.seconds", {"n": s}),
           "campaign": {"id": "1", "slug": "c"}, "outcome": {"k": "vote", "code": code, "cand": "7", "wait": 30},
           "signed_in_now": False, "votes_left": 0, "votes_total": 3, "chosen": None, "this_chosen": False,
           "names": {"7": "Әсел Қасымова"}, "csrf_token": "tok", "back": "/campaigns/c"}
    html = render("flows/_ballot_personal.html", ctx)
    message = t(f"vote.refused.{code}", name="Әсел Қасымова", k=3, wait=t("form.wait.seconds", n=30))
    assert message != f"vote.refused.{code}"
    assert 'role="alert"' in html
    assert str(escape(message)) in html, (message, html)
    others = {c for c in REFUSALS if c != code}
    assert all(t(f"vote.refused.{c}") != t(f"vote.refused.{code}") for c in others)


def test_nomination_form_fields_are_named_in_the_template() -> None:
    html = (PORTAL / "templates" / "flows" / "nominate.html").read_text("utf-8")
    for name in TEXT_FIELDS:
        assert f'name="{name}"' in html, name
