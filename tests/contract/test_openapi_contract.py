"""Both services against their own OpenAPI documents (schemathesis): schema-valid requests, generated from
``GET /schema/openapi.json``, sent to the real servers on loopback (the admin API with a signed-in staff
session: cookie + X-CSRF-Token). Every answer must be documented (status, content type, body schema), no
answer may be a 5xx, and a schema-valid request may not be refused as invalid (400/413/415/422), except where
the rule that refuses it cannot be written in JSON Schema (listed in ``UNEXPRESSIBLE`` with the reason).

Bounded: few examples per operation, derandomised, so the whole module stays well under 90 s on two cores. The
admin service's tests are in test_admin_contract.py (so that two pytest-xdist workers can fuzz both services at
once); what the two share is here.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import requests
import schemathesis

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.conftest import Server
from tests.http import http

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          positive_data_acceptance]

# Rules a schema-valid request can still break, with the reason JSON Schema cannot say it; such requests get
# 422 and only positive_data_acceptance is skipped for them (every other check still runs).
UNEXPRESSIBLE = {
    "createUser": "password policy: not a common password, enough different characters, not the e-mail name",
    "changeOwnPassword": "the same password policy, and the new password must differ from the current one",
    "updateUser": "at least one of active and roles (the generated schema has no minProperties)",
    "createCampaign": "the window is relative to the clock (closes in the future) and closes_at after opens_at",
    "invalidateVotes": "either vote_ids or cluster_id, exactly one",
    "transitionCandidate": "some transitions need a reason, which depends on the card's current state",
    "createCandidate": "`texts` must not repeat the card's own language, which `text_lang` names",
    "setCandidateTexts": "the story is required only in the card's own language (`text_lang` of the stored card)",
    "finaliseCampaign": "a bound's value must be a code of its dimension, min <= max, one bound per group; and "
                        "whether a policy can be met depends on the ballot (422 infeasible_policy)",
    "previewFinalisation": "the same policy rules as finaliseCampaign",
    "submitNomination": "consent.processing must be true (answered with a clear message rather than an enum "
                        "mismatch), and a third party's consent must state that the nominee will be asked",
}
# Operations that would end the fuzzing session itself. (Deactivation, role changes and password resets would too,
# on the fuzzing user's own id: that id is far from any the generator picks, see conftest.fuzz_staff_email.)
SKIPPED = ["logout", "endUserSessions"]

CONFIG = {"seed": 20261202, "generation": {"mode": "positive", "database": "none"}}
SETTINGS = settings(max_examples=int(os.environ.get("CONTRACT_EXAMPLES", "10")), deadline=None,
                    derandomize=not os.environ.get("CONTRACT_RANDOM"), database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))
NEGATIVE_SETTINGS = settings(SETTINGS, max_examples=max(1, SETTINGS.max_examples // 3))


def load(server: Server) -> Any:
    return schemathesis.openapi.from_url(f"{server.base}/schema/openapi.json",
                                         config=SchemathesisConfig.from_dict(CONFIG))


NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


def can_be_violated(raw: dict[str, Any]) -> bool:
    """Whether a request can break the operation's schema at all. Not when it has no body and only path parameters
    that may be any string: the negative search would end Unsatisfiable after Hypothesis's 1,000 tries (seconds
    each; a third of the module's time went there); one without any parameter Schemathesis itself skips at once."""
    if "requestBody" in raw:
        return True
    return any(p.get("in") != "path" or p.get("schema") != {"type": "string"} for p in raw.get("parameters", ()))


def fuzz(schema: Any, base_url: str, session: requests.Session | None = None) -> None:
    """Every operation of ``schema`` with a few schema-valid requests (all CHECKS), then a few schema-violating
    ones (no 5xx, every answer documented); all failures reported together. (Schemathesis's own pytest loader
    for fixtures does not run under pytest 9, hence this loop over its Hypothesis strategies.)"""
    failures: list[str] = []
    ran = 0
    sent = {"positive": 0, "negative": 0}
    violable = 0  # operations with something a request can violate (a parameter or a body)
    succeeded = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        op_id = operation.definition.raw.get("operationId")
        if op_id in SKIPPED:
            continue
        excluded = [positive_data_acceptance] if op_id in UNEXPRESSIBLE else []

        @SETTINGS
        @given(case=operation.as_strategy())
        def positive(case: Any) -> None:
            nonlocal succeeded
            sent["positive"] += 1
            response = case.call_and_validate(base_url=base_url, session=session, checks=CHECKS,
                                              excluded_checks=excluded)
            succeeded += 200 <= response.status_code < 300

        @NEGATIVE_SETTINGS
        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        def negative(case: Any) -> None:
            sent["negative"] += 1
            case.call_and_validate(base_url=base_url, session=session, checks=NEGATIVE_CHECKS)

        for run in (positive, negative) if can_be_violated(operation.definition.raw) else (positive,):
            try:
                run()
                violable += run is negative
            except Unsatisfiable:
                pass  # nothing to violate (an operation without parameters or body)
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                failures.append(f"{operation.label} ({run.__name__}): {exc}")
        ran += 1
    assert ran >= 10, f"only {ran} operations found"
    # Most GET routes take only free-form path strings: nothing a request could violate (Unsatisfiable).
    assert sent["positive"] >= 5 * ran and violable >= 3 and sent["negative"] >= violable, (sent, violable)
    assert succeeded >= 20, f"only {succeeded} requests succeeded: the fuzzing hardly got past the door"
    assert not failures, "\n\n".join(failures)


def test_voting_service_keeps_its_contract(voting_server: Server):
    with requests.Session() as session:  # one for all calls: without it each call builds its own (and TLS context)
        fuzz(load(voting_server), voting_server.base, session)


def options_list_every_method(server: Server) -> None:
    doc = http().get(f"{server.base}/schema/openapi.json").json()
    for path, item in doc["paths"].items():
        documented = {m.upper() for m in item if m in ("get", "put", "post", "delete", "patch")}
        url = server.base + re.sub(r"\{[^}]+\}", "1", path)  # any id: OPTIONS does not look it up
        r = http().options(url)
        assert r.status_code == 204, (path, r.status_code, r.text)
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert documented <= allowed, (path, documented - allowed)


@pytest.mark.parametrize("service", ["voting"])  # the admin service's: test_admin_contract.py
def test_options_lists_every_method_of_a_path(service, voting_server: Server):
    options_list_every_method(voting_server)


def documents_list_problems_and_refuse_unknown_fields(server: Server, service: str) -> None:
    doc = http().get(f"{server.base}/schema/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "code"}
    bodies = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    media = response["content"]
                    assert list(media) == ["application/problem+json"], (method, path, status)
                    # 428 challenge_required: the problem plus the challenge to solve (issue 12)
                    expected = "ChallengeProblem" if status == "428" else "Problem"
                    assert media["application/problem+json"]["schema"] == {"$ref": f"#/components/schemas/{expected}"}
            if "requestBody" in op:
                assert {"413", "415", "422"} <= set(op["responses"]), (method, path)
                ref = op["requestBody"]["content"]["application/json"]["schema"].get("$ref", "")
                if ref:
                    bodies += 1
                    assert schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False, (method, path)
    assert bodies >= (3 if service == "voting" else 10)
    if service == "voting":  # the routes the abuse defence protects document the challenge and its header
        challenge = schemas["ChallengeProblem"]["properties"]["challenge"]
        challenge = schemas[challenge["$ref"].rsplit("/", 1)[1]] if "$ref" in challenge else challenge
        assert set(challenge["required"]) == {"algorithm", "challenge", "salt", "maxnumber", "signature"}
        for path in ("/api/v1/auth/otp", "/api/v1/auth/otp/verify", "/api/v1/campaigns/{campaign_id}/votes",
                     "/api/v1/nominations"):
            op = doc["paths"][path]["post"]
            assert {"403", "428", "429"} <= set(op["responses"]), path
            assert any(p["name"] == "X-Challenge-Solution" and p["in"] == "header" and not p["required"]
                       for p in op.get("parameters", [])), path


@pytest.mark.parametrize("service", ["voting"])  # the admin service's: test_admin_contract.py
def test_documents_list_problems_and_refuse_unknown_fields(service, voting_server: Server):
    documents_list_problems_and_refuse_unknown_fields(voting_server, service)
