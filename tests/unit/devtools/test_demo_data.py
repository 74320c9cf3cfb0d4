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
