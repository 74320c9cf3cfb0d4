"""The admin service against its own OpenAPI document (schemathesis), with a signed-in staff session holding every
role: what tests/contract/test_openapi_contract.py says, for the admin API (a file of its own, so that another
pytest-xdist worker can fuzz it while the voting service's is fuzzed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.contract.conftest import PASSWORD, Server
from tests.contract.test_openapi_contract import (
    documents_list_problems_and_refuse_unknown_fields, fuzz, load, options_list_every_method,
)


@pytest.fixture(scope="module")
def staff_session(admin_server: Server, fuzz_staff_email: str) -> Iterator[requests.Session]:
    r = requests.post(f"{admin_server.base}/api/v1/session", json={"email": fuzz_staff_email, "password": PASSWORD},
                      timeout=10)
    assert r.status_code == 200, r.text
    session = requests.Session()
    # The cookie as a header: a Secure (or __Host-) cookie would not go back over plain http from a cookie jar.
    session.headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in r.cookies)
    session.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    # Without a working session every admin answer would be an (allowed) 401 and the fuzzing would prove nothing.
    assert session.get(f"{admin_server.base}/api/v1/session", timeout=10).status_code == 200
    yield session
    session.close()  # its kept-alive connections closed before the server is stopped


def test_admin_service_keeps_its_contract(admin_server: Server, staff_session: requests.Session):
    fuzz(load(admin_server), admin_server.base, staff_session)


@pytest.mark.parametrize("service", ["admin"])
def test_options_lists_every_method_of_a_path(service, admin_server: Server):
    options_list_every_method(admin_server)


@pytest.mark.parametrize("service", ["admin"])
def test_documents_list_problems_and_refuse_unknown_fields(service, admin_server: Server):
    documents_list_problems_and_refuse_unknown_fields(admin_server, service)
