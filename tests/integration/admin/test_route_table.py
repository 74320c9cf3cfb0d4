"""Every /api/v1 route of the admin app, walked from ``app.routes``: without a session it is 401
``not_authenticated`` (except POST /api/v1/session); with a session, every role the table below does not
allow gets 403 ``forbidden`` (state-changing requests carry the CSRF token, so it is the role check that
answers); allowed roles get past the role check. A route added without an entry in ``ROLE_TABLE`` fails
``test_every_route_has_an_entry``."""

from __future__ import annotations

import re

from admin_service.app import create_app
from tests.integration.admin.helpers import problem

ROLES = ("admin", "secretariat", "expert", "working_group", "auditor")
ANY = frozenset(ROLES)
SEC, WG = frozenset({"secretariat"}), frozenset({"working_group"})

PUBLIC = {("POST", "/api/v1/session")}

ROLE_TABLE: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/session"): ANY,
    ("DELETE", "/api/v1/session"): ANY,
    ("POST", "/api/v1/session/password"): ANY,
    ("POST", "/api/v1/session/totp"): ANY,
    ("POST", "/api/v1/session/totp/confirm"): ANY,
    ("POST", "/api/v1/users"): frozenset({"admin"}),
    ("GET", "/api/v1/users"): frozenset({"admin"}),
    ("DELETE", "/api/v1/users/{user_id:int}/sessions"): frozenset({"admin"}),
    ("PATCH", "/api/v1/users/{user_id:int}"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{user_id:int}/password-reset"): frozenset({"admin"}),
    ("DELETE", "/api/v1/users/{user_id:int}/totp"): frozenset({"admin"}),
    ("GET", "/api/v1/audit"): frozenset({"admin", "auditor"}),
    ("POST", "/api/v1/candidates"): SEC,
    ("GET", "/api/v1/candidates"): ANY,
    ("GET", "/api/v1/candidates/{candidate_id:str}"): ANY,
    ("POST", "/api/v1/candidates/{candidate_id:str}/transitions"): frozenset({"secretariat", "expert",
                                                                              "working_group"}),
    ("PUT", "/api/v1/candidates/{candidate_id:str}/texts/{lang:str}"): SEC,
    ("POST", "/api/v1/candidates/{candidate_id:str}/verification-requests"): SEC,
    ("POST", "/api/v1/candidates/{candidate_id:str}/reviews"): frozenset({"expert"}),
    ("PATCH", "/api/v1/verification-requests/{request_id:str}"): SEC,
    ("GET", "/api/v1/nominations"): frozenset({"secretariat", "auditor"}),
    ("GET", "/api/v1/nominations/{nomination_id:str}"): frozenset({"secretariat", "auditor"}),
    ("POST", "/api/v1/nominations/{nomination_id:str}/accept"): SEC,
    ("POST", "/api/v1/nominations/{nomination_id:str}/merge"): SEC,
    ("POST", "/api/v1/nominations/{nomination_id:str}/reject"): SEC,
    ("POST", "/api/v1/campaigns"): WG,
    ("GET", "/api/v1/campaigns"): ANY,
    ("GET", "/api/v1/campaigns/{campaign_id:str}"): ANY,
    ("PUT", "/api/v1/campaigns/{campaign_id:str}/ballot"): WG,
    ("POST", "/api/v1/campaigns/{campaign_id:str}/publish"): WG,
    ("POST", "/api/v1/campaigns/{campaign_id:str}/close"): WG,
    ("GET", "/api/v1/campaigns/{campaign_id:str}/results"): ANY,
    ("GET", "/api/v1/campaigns/{campaign_id:str}/composition"): ANY,
    ("GET", "/api/v1/campaigns/{campaign_id:str}/fraud/flags"): frozenset({"secretariat", "working_group",
                                                                           "auditor"}),
    ("POST", "/api/v1/campaigns/{campaign_id:str}/invalidations"): WG,
    ("GET", "/api/v1/campaigns/{campaign_id:str}/export.csv"): ANY,
    ("POST", "/api/v1/campaigns/{campaign_id:str}/finalise"): WG,
    ("POST", "/api/v1/campaigns/{campaign_id:str}/finalise/preview"): frozenset({"working_group", "auditor"}),
    ("GET", "/api/v1/campaigns/{campaign_id:str}/finalisation"): ANY,
    ("GET", "/api/v1/campaigns/{campaign_id:str}/counted-votes.txt"): ANY,
}

# DELETE /session would sign the client out; it is covered by test_auth.py.
NOT_CALLED_AS_ALLOWED = {("DELETE", "/api/v1/session")}


def api_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if not route.path.startswith("/api/v1"):
            continue
        for method in getattr(route, "methods", ()):
            if method not in ("OPTIONS", "HEAD"):
                found.add((method, route.path))
    return found


def concrete(path: str) -> str:
    """Dummy path parameters that name nothing (ids far above any the tests create)."""
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: "987654321" if m.group(2) == "int" else "987654321098", path)


async def call(client, method: str, path: str):
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, concrete(path), json=body)


def test_every_route_has_an_entry(admin_settings):
    routes = api_routes(create_app(admin_settings))
    assert routes - PUBLIC - set(ROLE_TABLE) == set(), "add the new route to ROLE_TABLE"
    assert set(ROLE_TABLE) - routes == set(), "ROLE_TABLE names a route that no longer exists"
    assert PUBLIC <= routes


async def test_without_a_session_every_route_is_401(admin_app, anon):
    routes = sorted(api_routes(admin_app) - PUBLIC)
    assert len(routes) == len(ROLE_TABLE)
    for method, path in routes:
        r = await call(anon, method, path)
        problem(r, 401, "not_authenticated")


async def test_roles_not_in_the_table_are_403_and_the_others_get_past(admin_app, staff):
    clients = {role: await staff(role) for role in ROLES}
    checked = 0
    for (method, path), allowed in sorted(ROLE_TABLE.items()):
        assert (method, path) in api_routes(admin_app)
        for role in ROLES:
            if role in allowed and (method, path) in NOT_CALLED_AS_ALLOWED:
                continue
            r = await call(clients[role], method, path)
            if role in allowed:
                assert r.status_code != 403 and r.status_code < 500, (method, path, role, r.status_code, r.text)
            else:
                problem(r, 403, "forbidden")
                checked += 1
    assert checked > 40
