"""shared/litestar_internal.py against the installed Litestar: if a release moves or changes the schema plugin
shared/openapi.py extends, this fails naming it (the contract tests would then show documents without
``additionalProperties: false``)."""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from shared import litestar_internal

ROOT = Path(__file__).resolve().parents[3]


def test_the_installed_litestar_is_within_the_bounds_the_internal_was_checked_against():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    (req,) = [d for d in deps if re.match(r"litestar(\[[a-z,]+\])?\s*[<>=!~]", d)]
    spec = SpecifierSet(re.sub(r"^litestar(\[[a-z,]+\])?", "", req).split(";")[0].strip())
    assert any(s.operator == "<" for s in spec), "pyproject.toml must bound litestar from above"
    assert Version(version("litestar")) in spec, (
        f"litestar {version('litestar')} is outside {spec}: check shared/litestar_internal.py, then widen the bounds")


def test_the_schema_plugin_hook_shared_openapi_overrides_is_still_there():
    name, params = litestar_internal.REQUIRED
    hook = getattr(litestar_internal.StructSchemaPlugin, name, None)
    assert hook is not None, f"Litestar's StructSchemaPlugin has no {name}: see shared/litestar_internal.py"
    assert tuple(inspect.signature(hook).parameters) == params, (
        f"StructSchemaPlugin.{name} now takes {tuple(inspect.signature(hook).parameters)}, not {params}: "
        "see shared/litestar_internal.py")
