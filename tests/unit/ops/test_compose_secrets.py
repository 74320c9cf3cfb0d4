"""docker-compose.yml hands each container only the keys its process uses (DESIGN.md invariant 8). Read
as YAML here, since no Docker engine runs in CI; `docker-compose config` validates the rest where it exists."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
VOTING = {"VOTER_TOKEN_KEY", "VOTER_TOKEN_KEY_PREVIOUS", "PSEUDONYM_KEY", "CONTACT_PUBLIC_KEY"}
ADMIN = {"CONTACT_PRIVATE_KEY", "CONTACT_PRIVATE_KEY_PREVIOUS", "STAFF_KEY", "TREE_HEAD_SIGNING_KEY"}


def _environment(service: dict) -> set[str]:
    env = service.get("environment") or {}
    return set(env) if isinstance(env, dict) else {item.split("=", 1)[0] for item in env}


def test_each_container_gets_only_its_own_keys():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    keys = {name: _environment(s) & (VOTING | ADMIN | {"DATA_KEY"}) for name, s in services.items()}
    assert keys["voting"] == VOTING
    assert keys["admin"] == ADMIN
    assert keys["flusher"] == set() and keys["migrate"] == set()
    assert all(not k for name, k in keys.items() if name not in ("voting", "admin"))
    assert services["voting"]["environment"]["APP_ENV"] == "${APP_ENV:-production}"  # production unless told
