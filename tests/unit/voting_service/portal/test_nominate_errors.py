"""The nomination service's refusals (voting_service/services/nominations.py: ``InvalidRequest`` naming a field
with a dotted path) land at the form's field with the form's own message, in every language."""

from __future__ import annotations

import copy

import pytest

from shared.errors import InvalidRequest
from shared.reference import MIN_BIRTH_YEAR, max_birth_year
from voting_service.portal.controllers.nominate import service_error
from voting_service.portal.forms import FormErrors
from voting_service.portal.i18n import CATALOGUES, LANGUAGES
from voting_service.services.nominations import parse

BODY = {
    "nominee": {"full_name": "Әсел Қасымова", "region": "KZ-75", "sphere": "education_science", "gender": "female",
                "birth_year": 1991},
    "story": "Ауылдық мектепте робототехника үйірмесін ашты.",
    "achievements": [{"claim": "Олимпиада жүлдегерлерін дайындады", "evidence_url": None},
                     {"claim": "Үйірме ашты", "evidence_url": "https://example.kz/a"}],
    "nominated_by": {"kind": "third_party", "full_name": "Ерлан Ахметов", "phone": "+77015550401"},
    "consent": {"processing": True, "nominee_will_be_asked": True},
}


def refusal(path: tuple[str | int, ...], value: object) -> InvalidRequest:
    body = copy.deepcopy(BODY)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(InvalidRequest) as caught:
        parse(body)
    return caught.value


@pytest.mark.parametrize(("path", "value", "field", "key", "values"), [
    (("nominee", "birth_year"), max_birth_year() + 1, "birth_year", "nominate.error.year_range",
     {"lo": MIN_BIRTH_YEAR, "hi": max_birth_year()}),
    (("nominee", "full_name"), "Ә", "full_name", "nominate.error.too_short", {"n": 2}),
    (("nominee", "full_name"), "Әсел\x00", "full_name", "nominate.error.characters", {}),
    (("nominee", "region"), "KZ-00", "region", "nominate.error.region", {}),
    (("story",), "Қысқа", "story", "nominate.error.too_short", {"n": 20}),
    (("story",), "ә" * 10_001, "story", "nominate.error.too_long", {"n": 10_000}),
    (("achievements", 1, "evidence_url"), "ftp://x", "url_2", "nominate.error.url", {}),
    (("achievements", 1, "claim"), "әб", "claim_2", "nominate.error.too_short", {"n": 3}),
    (("achievements",), [], "claim_0", "nominate.error.claim_missing", {}),
    (("nominated_by", "full_name"), "Е", "nominator_name", "nominate.error.too_short", {"n": 2}),
])
def test_a_refusal_of_the_service_is_shown_at_its_field(path, value, field, key, values):
    errors = FormErrors()
    # The form sent achievements from its rows 0 and 2 (row 1 left empty).
    assert service_error(refusal(path, value), errors, rows=[0, 2])
    (item,) = errors.items
    assert (item.field, item.key, item.values) == (field, key, values)
    for lang in LANGUAGES:
        assert item.key in CATALOGUES.catalogue(lang), (lang, item.key)


@pytest.mark.parametrize(("path", "field", "key"), [
    ("consent.processing", "consent_processing", "nominate.error.consent_processing"),
    ("consent.nominee_will_be_asked", "consent_nominee", "nominate.error.consent_nominee"),
    ("nominated_by.phone", "nominator_phone", "signin.error.phone_invalid"),
])
def test_the_services_own_checks_are_shown_at_their_field(path, field, key):
    """The checks NominationService.submit makes after parsing (consent, the phone), as it raises them."""
    errors = FormErrors()
    assert service_error(InvalidRequest("refused", extra={"field": path}), errors, rows=[0])
    assert [(e.field, e.key) for e in errors.items] == [(field, key)]


def test_a_refusal_naming_no_field_of_the_form_is_left_to_the_page_message():
    errors = FormErrors()
    assert not service_error(InvalidRequest("Object contains unknown field `x`", extra={}), errors, rows=[0])
    assert not service_error(InvalidRequest("?", extra={"field": "nominee.shoe_size"}), errors, rows=[0])
    assert not errors.items
