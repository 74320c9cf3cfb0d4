"""The one place that uses a Litestar internal: its schema plugin for msgspec Structs, which shared/openapi.py
extends (``additionalProperties: false`` for Structs that refuse unknown fields, constraints on union arms).
Litestar has no public hook for that. pyproject.toml bounds litestar (``<3``) and
tests/unit/shared/test_litestar_internal.py fails, naming this module, if a release moves or changes it.
"""

from __future__ import annotations

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

# What shared/openapi.py relies on: the class, and the hook it overrides with these parameters.
REQUIRED = ("to_openapi_schema", ("self", "field_definition", "schema_creator"))

__all__ = ["REQUIRED", "StructSchemaPlugin"]
