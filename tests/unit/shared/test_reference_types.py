"""Region, sphere and gender are one type each (shared/reference.py), used by both services' models: a code
added to the reference data is accepted and documented by both at once."""

from __future__ import annotations

import inspect
import typing

import msgspec
import pytest

import admin_service.models_domain
import voting_service.models
from shared import reference

FIELDS = {"region": reference.Region, "sphere": reference.Sphere, "gender": reference.Gender}


@pytest.mark.parametrize("module", [voting_service.models, admin_service.models_domain])
def test_models_use_the_shared_types(module) -> None:
    checked = 0
    for _, struct in inspect.getmembers(module, lambda o: isinstance(o, type) and issubclass(o, msgspec.Struct)):
        if struct.__module__ != module.__name__:
            continue
        hints = typing.get_type_hints(struct, include_extras=True)
        for field, expected in FIELDS.items():
            if field in hints and hints[field] not in (str, str | None):  # answers carry plain strings
                assert hints[field] in (expected, expected | None), (struct.__name__, field, hints[field])
                checked += 1
    assert checked >= 3  # the request models of both services have all three
    for name in ("Region", "Sphere", "Gender"):  # no module-level copy under the same name either
        assert getattr(module, name, None) in (None, getattr(reference, name)), name
