"""Error answers a route declares in the OpenAPI document (all ``application/problem+json``)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from admin_service.models import Problem
from shared.problem import PROBLEM_JSON


def problems(**by_status: str) -> dict[int, ResponseSpec]:
    """``problems(s401="invalid_credentials", s409="last_admin")`` -> the ``responses=`` of a route."""
    return {int(k[1:]): ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON, description=f"code: {codes}",
                                     generate_examples=False)
            for k, codes in by_status.items()}
