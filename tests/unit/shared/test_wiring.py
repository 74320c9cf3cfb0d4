"""One way to hand dependencies to handlers (shared/wiring.py): both apps inject their ``Services`` object as
``services``, no handler reads ``app.state``, and the injected parameter is not a request parameter in the
OpenAPI documents (nor a reason to document 400/422)."""

from __future__ import annotations

import ast
import base64
import os
from pathlib import Path

import pytest
from litestar import Litestar

from admin_service.app import create_app as create_admin
from shared.crypto import new_contact_keypair
from shared.settings import Settings
from shared.wiring import SERVICES
from voting_service.app import create_app as create_voting

ROOT = Path(__file__).resolve().parents[3]
HANDLER_PACKAGES = ["admin_service/api", "admin_service/web/controllers", "voting_service/api"]


def _env() -> dict[str, str]:
    key = lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()  # noqa: E731
    private, public = new_contact_keypair()
    return {"APP_ENV": "test", "VOTER_TOKEN_KEY": key(), "PSEUDONYM_KEY": key(), "STAFF_KEY": key(), "TREE_HEAD_SIGNING_KEY": key(),
            "CONTACT_PRIVATE_KEY": base64.urlsafe_b64encode(private).decode(),
            "CONTACT_PUBLIC_KEY": base64.urlsafe_b64encode(public).decode(), "SMS_BACKEND": "outbox"}


@pytest.fixture(scope="module")
def apps() -> dict[str, Litestar]:
    env = _env()
    return {"voting": create_voting(Settings.from_env(env, service="voting")),
            "admin": create_admin(Settings.from_env(env, service="admin"))}


def _state_reads(path: Path) -> list[int]:
    """Lines that read ``<anything>.app.state`` or ``app.state``."""
    tree = ast.parse(path.read_text())
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "state"
            and (isinstance(node.value, ast.Attribute) and node.value.attr == "app"
                 or isinstance(node.value, ast.Name) and node.value.id == "app")]


def test_no_handler_module_reads_app_state() -> None:
    found = {str(p.relative_to(ROOT)): lines for pkg in HANDLER_PACKAGES for p in sorted((ROOT / pkg).glob("*.py"))
             if (lines := _state_reads(p))}
    assert found == {}


@pytest.mark.parametrize("name", ["voting", "admin"])
def test_both_apps_provide_services_to_their_handlers(apps: dict[str, Litestar], name: str) -> None:
    app = apps[name]
    assert set(app.dependencies) == {SERVICES}
    injected = [h for route in app.routes for h in getattr(route, "route_handlers", ())
                if SERVICES in h.parsed_fn_signature.parameters]
    assert len(injected) > 5
    for handler in injected:
        assert SERVICES in handler.resolve_dependencies(), handler


@pytest.mark.parametrize("name", ["voting", "admin"])
def test_the_injected_services_are_not_documented_as_request_parameters(apps: dict[str, Litestar], name: str) -> None:
    doc = apps[name].openapi_schema.to_schema()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            names = {p["name"] for p in op.get("parameters", [])}
            assert SERVICES not in names, (method, path)
    # A handler whose only parameter is the injected one takes no input: nothing to refuse with 400/422.
    ready = doc["paths"]["/health/ready"]["get"]["responses"]
    assert "503" in ready and not {"400", "422"} & set(ready)
