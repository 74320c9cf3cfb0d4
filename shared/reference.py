"""Reference data shipped with the project (regions, spheres, demographics), loaded on first use."""

from __future__ import annotations

import datetime as dt
import functools
import json
from importlib import resources
from typing import Annotated, Any, Literal

from msgspec import Meta

GENDERS = ("female", "male")
NOMINATION_SOURCES = (
    "akimat", "city", "working_group_member", "assembly", "party", "expert_community",
    "ngo", "bureau_100", "self", "third_party",
)

# The region and sphere codes of regions.json / spheres.json as types, so request models (and the OpenAPI
# documents made from them) list them without reading a file at import; a unit test keeps them equal.
RegionCode = Literal["KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39",
                     "KZ-43", "KZ-47", "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79"]
SphereCode = Literal["public_political", "socio_economic", "education_science", "healthcare", "culture_sport",
                     "military_law", "social"]
# The field types both services' request and response models use (one definition, one OpenAPI description).
Region = Annotated[RegionCode, Meta(description="ISO 3166-2:KZ code", examples=["KZ-75"])]
Sphere = SphereCode
Gender = Literal["female", "male"]

MIN_AGE = 14  # a nominee or candidate is at least this old
MIN_BIRTH_YEAR = 1900


def max_birth_year() -> int:
    return dt.date.today().year - MIN_AGE


def _load(name: str) -> Any:
    return json.loads(resources.files("shared.data").joinpath(name).read_text("utf-8"))


@functools.cache
def regions() -> tuple[dict[str, Any], ...]:
    return tuple(_load("regions.json")["regions"])


@functools.cache
def region_codes() -> frozenset[str]:
    return frozenset(r["code"] for r in regions())


@functools.cache
def spheres() -> tuple[dict[str, Any], ...]:
    return tuple(_load("spheres.json")["spheres"])


@functools.cache
def sphere_codes() -> frozenset[str]:
    return frozenset(s["code"] for s in spheres())


@functools.cache
def demographics() -> dict[str, Any]:
    return _load("demographics.json")
