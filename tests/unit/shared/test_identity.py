import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.identity import MOBILE_CODES, iin_check_digit, is_valid_iin, normalise_kz_mobile


@pytest.mark.parametrize("raw", ["+77011234567", "87011234567", "77011234567", "+7 701 123-45-67",
                                 "8 (701) 123 45 67", "+7.701.123.45.67"])
def test_accepts_kz_mobile_in_common_forms(raw):
    assert normalise_kz_mobile(raw) == "+77011234567"


@pytest.mark.parametrize("raw", [
    "+77172123456",   # Astana landline (717)
    "+79161234567",   # Russian mobile
    "+7701123456",    # one digit short
    "+770112345678",  # one digit long
    "+17011234567",   # wrong country
    "7011234567",     # no country or trunk prefix
    "+7701123456x",
    "+7７０１1234567",  # full-width digits are not ASCII digits
    "",
    "+" + "7" * 40,
])
def test_refuses_everything_else(raw):
    assert normalise_kz_mobile(raw) is None


def test_every_operator_code_is_accepted():
    for code in MOBILE_CODES:
        assert normalise_kz_mobile(f"+7{code}1234567") == f"+7{code}1234567"


@given(st.integers(min_value=700, max_value=799).filter(lambda c: c not in MOBILE_CODES),
       st.integers(min_value=0, max_value=9_999_999))
def test_non_mobile_codes_are_refused(code, rest):
    assert normalise_kz_mobile(f"+7{code}{rest:07d}") is None


def test_iin_examples_from_the_reference():
    assert is_valid_iin("900101300017")      # k = 7, first pass
    assert is_valid_iin("061211600012")      # k = 2, second pass
    assert not is_valid_iin("900101300018")  # wrong check digit
    assert not is_valid_iin("90010130001")   # 11 digits
    assert not is_valid_iin("9001013000170")
    assert not is_valid_iin("90010130001a")
    assert not is_valid_iin("９00101300017")


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_a_computed_check_digit_always_validates(first11):
    k = iin_check_digit(first11)
    if k is None:
        assert not any(is_valid_iin(first11 + str(d)) for d in range(10))
    else:
        assert is_valid_iin(first11 + str(k))
        assert sum(is_valid_iin(first11 + str(d)) for d in range(10)) == 1
