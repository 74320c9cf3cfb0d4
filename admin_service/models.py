"""Request and response bodies of the admin JSON API (unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from shared.text import CleanInput, email

Role = Literal["admin", "secretariat", "expert", "working_group", "auditor"]
Email = email()


class Input(CleanInput, forbid_unknown_fields=True, frozen=True):
    """Unknown fields refused; text fields normalised and checked (shared/text.py)."""


class LoginIn(Input):
    email: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1024)]


class UserOut(msgspec.Struct):
    id: str
    email: str
    roles: list[str]
    active: bool = True
    created_at: datetime | None = None
    last_login_at: datetime | None = None


class SessionOut(msgspec.Struct):
    user: UserOut
    csrf_token: str


class UserIn(Input):
    email: Email
    password: Annotated[str, Meta(max_length=256)]
    roles: Annotated[list[Role], Meta(min_length=1, max_length=5)]


class RevokedOut(msgspec.Struct):
    revoked: int


class AuditEntry(msgspec.Struct):
    id: str
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    old: Any
    new: Any
    reason: str


class AuditPage(msgspec.Struct):
    items: list[AuditEntry]
    next_before: str | None
