"""shared/texts.py: a candidate's texts in the wanted language, else kk -> ru -> en, and which one was used."""

from __future__ import annotations

import json

import pytest

from shared.texts import LANGUAGES, all_texts, fallback_order, guess_lang, localized_texts

ACH_RU = [{"claim": "Открыла школу", "evidence_url": "https://example.kz/a"}]
ACH_KK = [{"claim": "Мектеп ашты", "evidence_url": "https://example.kz/a"}]


def row(text_lang: str = "ru", texts: dict | str | None = None, **base) -> dict:
    return {"text_lang": text_lang, "summary": base.get("summary", "Учитель из Аральска"),
            "story": base.get("story", "Открыла школу робототехники в Аральске."),
            "achievements": base.get("achievements", ACH_RU), "texts": {} if texts is None else texts}


KK = {"summary": "Арал мұғалімі", "story": "Аралда робототехника мектебін ашты.", "achievements": ACH_KK}
EN = {"summary": "A teacher from Aral", "story": "She opened a robotics school in Aral.", "achievements": []}


def test_wanted_language_from_the_columns():
    t = localized_texts(row(texts={"kk": KK}), "ru")
    assert (t.lang, t.wanted, t.summary, t.achievements) == ("ru", "ru", "Учитель из Аральска", ACH_RU)
    assert not t.is_fallback
    assert t.available == ("kk", "ru")


def test_wanted_language_from_texts():
    t = localized_texts(row(texts={"kk": KK, "en": EN}), "kk")
    assert (t.lang, t.summary, t.story, t.achievements) == ("kk", KK["summary"], KK["story"], ACH_KK)
    assert not t.is_fallback
    en = localized_texts(row(texts={"kk": KK, "en": EN}), "en")
    assert (en.lang, en.story, en.achievements) == ("en", EN["story"], [])


@pytest.mark.parametrize(("have", "wanted", "used"), [
    (("ru",), "kk", "ru"),
    (("ru",), "en", "ru"),
    (("kk", "ru"), "en", "kk"),          # after the wanted one: kk first
    (("ru", "en"), "kk", "ru"),          # then ru
    (("en",), "kk", "en"),
    (("kk",), "ru", "kk"),
    (("kk", "en"), "ru", "kk"),
])
def test_fallback_order_and_the_language_used(have, wanted, used):
    base = have[0]
    texts = {code: {"summary": f"summary {code}", "story": f"story {code}", "achievements": []}
             for code in have[1:]}
    r = row(text_lang=base, texts=texts, summary=f"summary {base}", story=f"story {base}")
    t = localized_texts(r, wanted)
    assert t.lang == used and t.wanted == wanted and t.is_fallback
    assert t.summary == f"summary {used}" and t.story == f"story {used}"


def test_fallback_order():
    assert fallback_order("en") == ("en", "kk", "ru")
    assert fallback_order("ru") == ("ru", "kk", "en")
    assert fallback_order("kk") == ("kk", "ru", "en")
    assert fallback_order("de") == LANGUAGES


def test_a_blank_language_does_not_count():
    texts = {"kk": {"summary": "  ", "story": "", "achievements": ACH_KK}}
    t = localized_texts(row(texts=texts), "kk")
    assert t.lang == "ru" and t.is_fallback
    assert "kk" not in all_texts(row(texts=texts))


def test_base_columns_win_over_an_entry_in_their_own_language():
    t = localized_texts(row(texts={"ru": {"summary": "old", "story": "old story"}}), "ru")
    assert t.summary == "Учитель из Аральска"


def test_texts_as_json_text_and_odd_values():
    """A plain connection returns jsonb as text; malformed entries are ignored, never an error."""
    r = row(texts=json.dumps({"kk": KK, "en": "not an object", "de": EN}))
    r["achievements"] = json.dumps(ACH_RU + [{"claim": " "}, "junk"])
    assert localized_texts(r, "kk").lang == "kk"
    assert localized_texts(r, "en").lang == "kk"
    assert localized_texts(r, "ru").achievements == ACH_RU
    partial = row(texts={"kk": {"story": "Тек тарихы бар."}})
    t = localized_texts(partial, "kk")
    assert (t.lang, t.summary, t.story, t.achievements) == ("kk", "", "Тек тарихы бар.", [])


def test_no_texts_at_all():
    t = localized_texts({"text_lang": "kk", "summary": "", "story": "", "achievements": [], "texts": {}}, "en")
    assert (t.lang, t.summary, t.story, t.achievements, t.available) == ("kk", "", "", [], ())


@pytest.mark.parametrize(("text", "lang"), [
    ("Ауылда робототехника үйірмесін ашты.", "kk"), ("Открыла школу робототехники в ауле.", "ru"),
    ("She opened a robotics school.", "en"), ("", "ru"), ("2024 — 500", "ru"),
    ("Открыла школу IT-Park в Алматы.", "ru"),
])
def test_guess_lang(text, lang):
    assert guess_lang(text) == lang
