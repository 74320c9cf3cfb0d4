"""The generated demo dataset: coverage of the reference data, realistic names and stories, determinism."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from devtools import demo
from shared import reference

CANDIDATES = demo.generate_candidates()


def test_at_least_200_candidates() -> None:
    assert len(CANDIDATES) >= 200
    assert len(CANDIDATES) == demo.DEMO_SIZE


def test_covers_every_region_sphere_and_gender() -> None:
    assert {c.region for c in CANDIDATES} == reference.region_codes()
    assert {c.sphere for c in CANDIDATES} == reference.sphere_codes()
    assert {c.gender for c in CANDIDATES} == set(reference.GENDERS)
    assert len(reference.region_codes()) == 20
    assert len(reference.sphere_codes()) == 7


def test_regions_follow_population() -> None:
    counts = Counter(c.region for c in CANDIDATES)
    assert counts["KZ-75"] > counts["KZ-59"] > counts["KZ-62"] >= 1  # Almaty city > North Kazakhstan > Ulytau
    spheres = Counter(c.sphere for c in CANDIDATES)
    assert max(spheres.values()) - min(spheres.values()) <= 1
    genders = Counter(c.gender for c in CANDIDATES)
    assert abs(genders["female"] - genders["male"]) <= 0.05 * len(CANDIDATES)


def test_names_are_three_cyrillic_words_and_unique() -> None:
    for c in CANDIDATES:
        parts = c.full_name.split(" ")
        assert len(parts) == 3 and all(parts), c.full_name
        assert re.fullmatch(r"[А-ЯЁӘҒҚҢӨҰҮҺІа-яёәғқңөұүһі\- ]+", c.full_name), c.full_name
    assert len({c.full_name for c in CANDIDATES}) == len(CANDIDATES)


def test_patronymics_match_gender() -> None:
    for c in CANDIDATES:
        patronymic = c.full_name.split(" ")[1]
        if c.gender == "female":
            assert patronymic.endswith(("қызы", "вна", "чна")), c.full_name
        else:
            assert patronymic.endswith(("ұлы", "вич", "ич")), c.full_name


def test_ethnic_mix_is_mostly_kazakh_with_others() -> None:
    declared = Counter(c.ethnicity for c in CANDIDATES if c.ethnicity is not None)
    total = sum(declared.values())
    assert 0.6 < declared["kazakh"] / total < 0.9
    assert 0.05 < declared["russian"] / total < 0.3
    assert len(declared) >= 5
    assert any(c.ethnicity is None for c in CANDIDATES)  # self-declared, so sometimes not declared


def test_cards_are_complete_and_in_range() -> None:
    for c in CANDIDATES:
        assert 1960 <= c.birth_year <= 2000
        assert c.summary and c.story and c.source_name
        assert c.source_kind in reference.NOMINATION_SOURCES
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", c.story) if s]
        assert 1 <= len(sentences) <= 3, c.story
        for text in (c.summary, c.story):
            assert not re.search(r"[{}\[\]|]", text), text  # every placeholder and gender form resolved
        assert 1 <= len(c.achievements) <= 3
        for a in c.achievements:
            assert a.claim
            assert a.evidence_url.startswith("https://")


def test_city_sources_only_for_the_three_cities() -> None:
    cities = {r["code"] for r in reference.regions() if r["kind"] == "city"}
    assert cities == {"KZ-71", "KZ-75", "KZ-79"}
    for c in CANDIDATES:
        if c.source_kind in ("akimat", "city"):
            assert (c.source_kind == "city") == (c.region in cities)


def test_deterministic() -> None:
    assert demo.generate_candidates() == CANDIDATES
    assert demo.generate_candidates(seed=7) != CANDIDATES


def test_gender_forms_and_surnames() -> None:
    text = "[Учитель|Учительница] [создал|создала] кружок {loc} в {year} году"
    assert (demo.render(text, "female", loc="в Аральске", year=2001)
            == "Учительница создала кружок в Аральске в 2001 году")
    assert demo.render(text, "male", loc="в Аральске", year=2001) == "Учитель создал кружок в Аральске в 2001 году"
    assert demo.female_surname("Сапаров") == "Сапарова"
    assert demo.female_surname("Мусин") == "Мусина"
    assert demo.female_surname("Ковалевский") == "Ковалевская"
    assert demo.female_surname("Ким") == "Ким"
    assert demo.female_surname("Шевченко") == "Шевченко"


@pytest.mark.parametrize("total", [20, 21, 210, 1000])
def test_apportion_keeps_total_and_minimum(total: int) -> None:
    weights = {r["code"]: r["population"] for r in reference.regions()}
    counts = demo.apportion(weights, total, minimum=1)
    assert sum(counts.values()) == total
    assert min(counts.values()) >= 1


def test_apportion_refuses_too_few_seats() -> None:
    with pytest.raises(ValueError):
        demo.apportion({"a": 1, "b": 1, "c": 1}, 2, minimum=1)


# --- languages (issue 10): Kazakh for every card, English for most, the same story in each -------------------

KAZAKH_ONLY = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


def test_every_card_has_kazakh_and_most_have_english() -> None:
    assert all("kk" in c.translations for c in CANDIDATES)
    with_en = sum("en" in c.translations for c in CANDIDATES)
    assert 0.7 * len(CANDIDATES) <= with_en < len(CANDIDATES)  # some without: the portal's fallback shows


def test_translations_are_complete_resolved_and_in_their_language() -> None:
    for c in CANDIDATES:
        ru_sentences = len([s for s in re.split(r"(?<=[.!?])\s+", c.story) if s])
        for lang, t in c.translations.items():
            for text in (t.summary, t.story, *(a.claim for a in t.achievements)):
                assert text and not re.search(r"[{}\[\]|]", text), (lang, text)
            assert len([s for s in re.split(r"(?<=[.!?])\s+", t.story) if s]) == ru_sentences, (lang, t.story)
            assert [a.evidence_url for a in t.achievements] == [a.evidence_url for a in c.achievements]
            if lang == "kk":
                assert KAZAKH_ONLY.search(t.summary + t.story), t.story
            else:
                assert not re.search(r"[А-Яа-яЁё]", t.summary + t.story), t.story


def test_english_pronouns_follow_gender() -> None:
    for c in CANDIDATES:
        en = c.translations.get("en")
        if en is None:
            continue
        other = r"\b(she|her)\b" if c.gender == "male" else r"\b(he|his|him)\b"
        assert not re.search(other, en.summary + " " + en.story, re.I), (c.gender, en.story)


def test_the_same_place_and_numbers_in_every_language() -> None:
    for c in CANDIDATES:
        numbers = sorted(re.findall(r"\d+", c.story))
        for t in c.translations.values():
            assert sorted(re.findall(r"\d+", t.story)) == numbers, (c.story, t.story)


def test_stored_texts_put_the_own_language_in_the_columns() -> None:
    langs = Counter(c.text_lang for c in CANDIDATES)
    assert langs["kk"] > 0 and langs["ru"] > 0 and set(langs) == {"kk", "ru"}
    for c in CANDIDATES:
        own, others = c.stored_texts()
        assert c.text_lang not in others
        if c.text_lang == "kk":
            assert own == c.translations["kk"] and others["ru"]["story"] == c.story
        else:
            assert own.story == c.story and others["kk"]["story"] == c.translations["kk"].story
        assert set(others) | {c.text_lang} == {"ru", *c.translations}


def test_the_past_campaigns_people_are_others() -> None:
    past = demo.generate_candidates(demo.PAST_SIZE, seed=demo.PAST_SEED,
                                    taken=frozenset(c.full_name for c in CANDIDATES))
    assert len(past) == demo.PAST_SIZE
    assert not {c.full_name for c in past} & {c.full_name for c in CANDIDATES}
    assert {c.region for c in past} == reference.region_codes()


def test_past_votes_respect_the_caps_and_hold_one_fraud_cluster() -> None:
    ids = list(range(1000, 1000 + demo.PAST_SIZE))
    votes = demo.past_votes(ids)
    assert votes == demo.past_votes(ids)  # deterministic
    by_voter: dict[str, list[int]] = {}
    for v in votes:
        by_voter.setdefault(v.voter, []).append(v.candidate_id)
    assert all(len(c) == len(set(c)) <= demo.VOTES_PER_VOTER for c in by_voter.values())
    fraud = [v for v in votes if v.ip_net == demo.FRAUD_NET]
    assert len(fraud) == 180 and len({v.candidate_id for v in fraud}) == 3
    opens, closes = (int(t.timestamp() * 1000) for t in (demo.PAST_OPENS, demo.PAST_CLOSES))
    assert all(opens <= v.cast_ms < closes for v in votes)
    assert {v.candidate_id for v in votes} == set(ids)


def test_stage_votes_stay_in_their_window_and_voters_within_k() -> None:
    from collections import defaultdict

    from devtools.demo_stages import VOTES_PER_VOTER, cluster_votes, ordinary_votes

    start, span = 1_700_000_000_000, 45 * 60 * 1000
    votes = ordinary_votes(list(range(1, 60)), start_ms=start, span_ms=span, seed=7)
    assert votes and all(start <= v.cast_ms <= start + span for v in votes)
    chosen = defaultdict(list)
    for v in votes + cluster_votes([1, 2, 3], at_ms=start, seed=7):
        chosen[v.voter].append(v.candidate_id)
    assert all(len(c) == len(set(c)) <= VOTES_PER_VOTER for c in chosen.values())
