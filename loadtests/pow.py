"""What a client sends back for a 428 ``challenge_required`` (issue 12): the ALTCHA solution, found with the
``altcha`` package (the same library the service verifies with), as the ``X-Challenge-Solution`` header's value:
base64 of the JSON {algorithm, challenge, number, salt, signature}. The load tools and the tests solve so."""

from __future__ import annotations

import base64
import json
from typing import Any

import altcha


def solution_header(challenge: dict[str, Any]) -> str:
    found = altcha.solve_challenge_v1(challenge["challenge"], challenge["salt"],
                                      challenge.get("algorithm", "SHA-256"),
                                      int(challenge.get("maxnumber", 1_000_000)))
    if found is None:
        raise ValueError("unsolvable challenge: no number up to maxnumber gives it")
    payload = {"algorithm": challenge.get("algorithm", "SHA-256"), "challenge": challenge["challenge"],
               "number": found.number, "salt": challenge["salt"], "signature": challenge["signature"]}
    return base64.b64encode(json.dumps(payload).encode()).decode()
