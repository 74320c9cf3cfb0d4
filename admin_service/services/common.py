"""Small pieces every domain service of the admin API shares: ids, input coercion, errors, sealed contacts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from admin_service.auth.context import Staff
from shared.crypto import ContactOpener
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.settings import Settings

S = TypeVar("S", bound=msgspec.Struct)

CONTACT_READERS = ("secretariat", "admin")

_json = msgspec.json.Encoder()
_contact = msgspec.json.Decoder(dict[str, Any])


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Transition not allowed"


def parse_id(raw: str | int, what: str = "candidate") -> int:
    """A bigint id from a path or body; anything else is a 404 (never a database error)."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) == 0:
        raise NotFound(f"No {what} {text[:40]!r}.")
    return int(text)


def parse_body_id(raw: str | int, field: str = "candidate_id") -> int:
    """An id named in a request body: a malformed one is 422 (the URL's resource exists)."""
    try:
        return parse_id(raw)
    except NotFound:
        raise InvalidRequest("Ids are positive integers.", extra={"field": field}) from None


def parse_uuid(raw: str, what: str = "nomination") -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound(f"No {what} {str(raw)[:40]!r}.") from None


def _reject_nul(value: Any) -> None:
    """Postgres text and jsonb cannot hold U+0000; refuse it here rather than fail in the database."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidRequest("Text must not contain NUL characters.")
    elif isinstance(value, dict):
        for v in value.values():
            _reject_nul(v)
    elif isinstance(value, list):
        for v in value:
            _reject_nul(v)


def coerce(data: Any, kind: type[S]) -> S:
    """``data`` as the input Struct ``kind``: already one (the JSON API), or a mapping (a web form)."""
    if not isinstance(data, kind):
        if not isinstance(data, Mapping):
            raise InvalidRequest(f"Expected an object for {kind.__name__}.")
        try:
            data = msgspec.convert(dict(data), kind, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidRequest(str(exc)) from exc
    _reject_nul(msgspec.to_builtins(data))
    return data


def clean(text: str | None) -> str:
    """Free text as stored: trimmed, never with NUL characters (422)."""
    text = (text or "").strip()
    _reject_nul(text)
    return text


def sealer_for(settings: Settings) -> ContactOpener:
    """Opens contact details sealed to the admin service's key (current or previous) and seals new ones."""
    return ContactOpener(settings.secrets.contact_private_keys)


def can_read_contacts(viewer: Staff | None) -> bool:
    return viewer is not None and viewer.has(*CONTACT_READERS)


def seal(sealer: ContactOpener, value: Mapping[str, Any], *, context: bytes) -> bytes:
    return sealer.seal(_json.encode(dict(value)), context=context)


def unseal(sealer: ContactOpener | None, sealed: bytes | None, *, context: bytes, viewer: Staff | None) -> dict | None:
    """Contact details in clear, for staff allowed to read them; None for everybody else."""
    if sealed is None or sealer is None or not can_read_contacts(viewer):
        return None
    return _contact.decode(sealer.open(bytes(sealed), context=context))
