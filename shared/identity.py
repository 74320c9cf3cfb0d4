"""Kazakhstan phone numbers and IINs: validation and normalisation, no I/O."""

from __future__ import annotations

import re

# Mobile operator codes after +7 (REFERENCE.md): 700-702, 705-708, 747, 760-764, 771, 775-778, 785.
MOBILE_CODES = frozenset(
    [700, 701, 702, 705, 706, 707, 708, 747, 760, 761, 762, 763, 764, 771, 775, 776, 777, 778, 785]
)
_SEPARATORS = re.compile(r"[\s\-().]")
# The canonical (E.164) form as a JSON Schema pattern, for the API documents; the services also accept the
# spellings normalise_kz_mobile understands (spaces, 8 7xx..., brackets).
E164_KZ_MOBILE = r"^\+7(" + "|".join(str(c) for c in sorted(MOBILE_CODES)) + r")[0-9]{7}$"


def normalise_kz_mobile(raw: str) -> str | None:
    """Return the E.164 form (+77011234567) of a Kazakhstan mobile number, or None.

    Accepts +7 7xx..., 8 7xx... (domestic prefix) and 7 7xx..., with spaces, dashes or brackets.
    Landlines (710-729) and Russian mobiles (9xx) are refused: only KZ mobiles receive the OTP.
    """
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    s = _SEPARATORS.sub("", raw)
    if s.startswith("+7"):
        digits = s[2:]
    elif s.startswith("8") and len(s) == 11:
        digits = s[1:]
    elif s.startswith("7") and len(s) == 11:
        digits = s[1:]
    else:
        return None
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return None
    if int(digits[:3]) not in MOBILE_CODES:
        return None
    return "+7" + digits


_W1 = tuple(range(1, 12))
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def iin_check_digit(first11: str) -> int | None:
    """Check digit of an IIN from its first 11 digits, or None when the number cannot be valid."""
    d = [int(c) for c in first11]
    k = sum(a * b for a, b in zip(d, _W1)) % 11
    if k == 10:
        k = sum(a * b for a, b in zip(d, _W2)) % 11
        if k == 10:
            return None
    return k


def is_valid_iin(raw: str) -> bool:
    """12 ASCII digits with a correct check digit (since 2013 the digits need not match birth data)."""
    if not isinstance(raw, str) or len(raw) != 12 or not raw.isascii() or not raw.isdigit():
        return False
    k = iin_check_digit(raw[:11])
    return k is not None and k == int(raw[11])
