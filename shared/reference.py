"""Reference data shipped with the project (regions, spheres, demographics), loaded on first use."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

GENDERS = ("female", "male")
NOMINATION_SOURCES = (
    "akimat", "city", "working_group_member", "assembly", "party", "expert_community",
    "ngo", "bureau_100", "self", "third_party",
)


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
