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
    totp: Annotated[str, Meta(max_length=64)] | None = None  # a current TOTP code or a recovery code


class UserOut(msgspec.Struct):
    id: str
    email: str
    roles: list[str]
    active: bool = True
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    totp_enrolled: bool | None = None  # in the admin's list: whether a second factor is confirmed


class SessionOut(msgspec.Struct):
    user: UserOut
    csrf_token: str
    # What this session must do before anything else: change_password (after a temporary password) or
    # enrol_totp (STAFF_MFA=required and no second factor yet); null for a full session.
    required_action: Literal["change_password", "enrol_totp"] | None = None


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
    client_ip_hash: str | None = None  # keyed hash of the staff member's address (behind the trusted proxy)


class AuditPage(msgspec.Struct):
    items: list[AuditEntry]
    next_before: str | None


class UserPatchIn(Input):
    active: bool | None = None
    roles: Annotated[list[Role], Meta(min_length=1, max_length=5)] | None = None


class FactorResetOut(msgspec.Struct):
    had_factor: bool


class TemporaryPasswordOut(msgspec.Struct):
    temporary_password: str


class PasswordChangeIn(Input):
    current_password: Annotated[str, Meta(max_length=1024)]
    new_password: Annotated[str, Meta(max_length=1024)]


class PasswordChangedOut(msgspec.Struct):
    other_sessions_ended: int


class TotpEnrolmentOut(msgspec.Struct):
    otpauth_uri: str
    secret: str


class TotpConfirmIn(Input):
    code: Annotated[str, Meta(max_length=64)]


class RecoveryCodesOut(msgspec.Struct):
    recovery_codes: list[str]
