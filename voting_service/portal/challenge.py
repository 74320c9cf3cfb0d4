"""The portal's side of proof of work (issue 12): when a form's post meets 428 ``challenge_required`` (or 403
``challenge_failed``), the answer is a page that re-posts the same fields with the solution.

The page carries the challenge; static/pow.js solves it in a Web Worker (static/pow-worker.js, self-hosted,
SHA-256 by WebCrypto or a small fallback), puts the solution in the hidden ``challenge_solution`` field and
sends the form. Without JavaScript the page explains, in the visitor's language, why the check appears and
what to do (turn JavaScript on, try later, or another connection); nothing is lost by waiting.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response

from voting_service.portal import csrf
from voting_service.portal.forms import flow_page
from voting_service.state import Services

FIELD = "challenge_solution"


def challenge_page(request: Request, services: Services, *, route: str, action: str,
                   fields: dict[str, list[str]], challenge: dict[str, Any] | None = None,
                   failed: bool = False) -> Response[bytes]:
    """The page that solves ``challenge`` (a fresh one for ``route`` when None) and re-posts ``fields`` to
    ``action`` (same origin, a path of the portal)."""
    if challenge is None:
        challenge = services.guard.challenges.issue(route, 1.0)
    token, cookies = csrf.form_token(request, services)
    hidden = [(name, value) for name, values in fields.items() if name not in (csrf.FIELD, FIELD)
              for value in values[:1]][:80]
    return flow_page(request, services, "flows/challenge.html", status=403 if failed else 428,
                     action=action, hidden=hidden, csrf_token=token, failed=failed,
                     challenge_json=json.dumps(challenge, separators=(",", ":")), cookies=cookies)
