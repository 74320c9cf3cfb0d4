"""Personal parts of cached pages (owned by helper "flows"; this stub is the foundation's placeholder).

``personal_ballot_block(request, services, campaign)`` returns None for a visitor without a valid voter
cookie (the cached page is served as it is), else the HTML that replaces the ballot's slot: the outcome of
the last vote with its receipt, votes left, whom the voter chose, and ``<form id="vote-form" method="post"
action="/campaigns/{slug}/vote">`` with the CSRF token (the candidates' buttons name it with ``form=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request

from voting_service.state import Services


async def personal_ballot_block(request: Request, services: Services, campaign: Mapping[str, Any]) -> str | None:
    return None
