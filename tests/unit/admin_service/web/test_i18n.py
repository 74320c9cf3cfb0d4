"""The admin UI's message catalogue and the small helpers of the page layer (no servers needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from admin_service.models_domain import CandidateStatus, Ethnicity, SourceKind
from admin_service.web.i18n import LANGUAGES, catalogue, translator
from admin_service.web.messages import CODES
from admin_service.web.render import safe_next
from shared.reference import GENDERS

WEB = Path(__file__).resolve().parents[4] / "admin_service" / "web"
LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")  # literal keys, not prefixes


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*WEB.glob("templates/**/*.html"), *WEB.glob("**/*.py")]:
        keys.update(LITERAL.findall(path.read_text("utf-8")))
    keys.update(re.findall(r'"(login\.error\.[a-z]+)"', (WEB / "controllers" / "auth.py").read_text("utf-8")))
    return keys


def audit_actions() -> set[str]:
    """Every action the admin service writes to the audit log (the audit page names each in the reader's
    language)."""
    found: set[str] = set()
    for path in (WEB.parent / "services").glob("*.py"):
        found.update(re.findall(r'action="([a-z_.]+)"', path.read_text("utf-8")))
    assert "candidate.transition" in found
    found |= {f"nomination.{s}" for s in ("accepted", "merged", "rejected")}  # action=f"nomination.{status}"
    return found


def dynamic_keys() -> set[str]:
    """Keys built from domain values (``t("status." ~ c.status)`` and the like)."""
    keys = {f"status.{s}" for s in CandidateStatus.__args__}
    keys |= {f"ethnicity.{e}" for e in Ethnicity.__args__}
    keys |= {f"source.{k}" for k in SourceKind.__args__}
    keys |= {f"gender.{g}" for g in GENDERS}
    keys |= {f"lang.{code}" for code in LANGUAGES}
    keys |= {f"nomination.{s}" for s in ("received", "accepted", "merged", "rejected")}
    keys |= {f"verification.{s}" for s in ("sent", "confirmed", "refuted")}
    keys |= {f"campaign.status.{s}" for s in ("draft", "scheduled", "open", "closed", "finalised")}
    keys |= {f"campaign.state.{s}" for s in ("draft", "published", "closed", "finalised")}  # in messages
    keys |= {f"audit.act.{a}" for a in audit_actions()}
    keys |= {f"error.code.{c}" for c in CODES}  # error.html and web/messages.py
    source = (WEB.parent / "services" / "fraud.py").read_text("utf-8")
    signals = set(re.findall(r'_signal\(\s*f?"([a-z_{}]+)"', source))
    signals = {s.replace("{where}", w) for s in signals for w in ("network", "address", "signature", "block")}
    assert "burst" in signals and "many_voters_one_network" in signals
    keys |= {f"fraud.signal.{s}" for s in signals}
    keys |= {"fraud.reason." + ("many_voters" if s.startswith("many_voters") else s) for s in signals}
    keys |= {f"error.{s}" for s in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503)}
    return keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_pages_use_is_in_every_language(lang):
    missing = (used_keys() | dynamic_keys()) - catalogue(lang).keys()
    assert not missing, f"{lang}: {sorted(missing)}"


def test_the_catalogues_agree_and_have_no_unused_placeholders():
    ru = catalogue("ru")
    for lang in LANGUAGES:
        assert catalogue(lang).keys() == ru.keys()
        for key, text in catalogue(lang).items():
            assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", ru[key])), (lang, key)


def test_translator_formats_and_falls_back():
    assert translator("kk")("common.found", n=3) == "Табылды: 3"
    assert translator("en")("nav.campaigns") == "Campaigns"
    assert translator("xx")("nav.campaigns") == "Кампании"  # unknown language: Russian
    assert translator("en")("no.such.key") == "no.such.key"


@pytest.mark.parametrize(("target", "expected"), [
    ("/audit?entity=candidate:1", "/audit?entity=candidate:1"), (None, "/candidates"), ("", "/candidates"),
    ("//evil.example/x", "/candidates"), ("https://evil.example", "/candidates"), ("/\\evil.example", "/candidates"),
    ("candidates", "/candidates"),
])
def test_only_local_paths_are_followed_after_sign_in(target, expected):
    assert safe_next(target) == expected
