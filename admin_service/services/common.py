"""Small pieces every domain service of the admin API shares: ids, input coercion, errors, sealed contacts."""

from __future__ import annotations

import re
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
        raise NotFound(f"No {what} {text[:40]!r}.", key=f"no_{what.replace(' ', '_')}", params={"id": text[:40]})
    return int(text)


def parse_body_id(raw: str | int, field: str = "candidate_id") -> int:
    """An id named in a request body: a malformed one is 422 (the URL's resource exists)."""
    try:
        return parse_id(raw)
    except NotFound:
        raise InvalidRequest("Ids are positive integers.", extra={"field": field}, key="id_format",
                             params={"field": field}) from None


def parse_uuid(raw: str, what: str = "nomination") -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound(f"No {what} {str(raw)[:40]!r}.", key=f"no_{what.replace(' ', '_')}",
                       params={"id": str(raw)[:40]}) from None


def _reject_nul(value: Any) -> None:
    """Postgres text and jsonb cannot hold U+0000; refuse it here rather than fail in the database."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidRequest("Text must not contain NUL characters.", key="text_nul")
    elif isinstance(value, dict):
        for v in value.values():
            _reject_nul(v)
    elif isinstance(value, list):
        for v in value:
            _reject_nul(v)


_AT = re.compile(r" - at `\$\.?([^`]*)`$")
_NAMED = re.compile(r"`([a-z_][a-z0-9_.]*)`")


def invalid_input(exc: msgspec.ValidationError) -> InvalidRequest:
    """msgspec's validation error as a 422 whose message the web pages can show in the reader's language: the
    field (its path, without list indexes: ``achievements.claim``) and what is wrong with it as ``key``
    (``required``, ``too_short`` with ``n``, ``too_long``, ``bad_characters``, ``choose_from_list``, ``invalid``);
    the English ``detail`` stays msgspec's, for API clients."""
    text = str(exc)
    found = _AT.search(text)
    path = found.group(1) if found else ""
    message = text[:found.start()] if found else text
    named = _NAMED.findall(message)
    if "missing required field" in message and named:
        path, key = ".".join(p for p in (path, named[-1]) if p), "required"
    else:
        if named and named[0] not in ("str", "int", "float", "bool", "object", "array", "null"):
            path = ".".join(p for p in (path, named[0]) if p) if not path.endswith(named[0]) else path
        key = "invalid"
        if "is blank" in message:
            key = "required"
        elif "after `opens_at`" in message:
            key = "closes_before_opens"
        elif "must lie between" in message:
            key = "date_range"
        elif "contains" in message:
            key = "bad_characters"
        elif "Invalid enum value" in message:
            key = "choose_from_list"
    field = re.sub(r"\[\d+\]", "", path).strip(".")
    params: dict[str, object] = {"field": field}
    if key == "invalid" and (n := re.search(r"length >= (\d+)|at least (\d+) characters", message)):
        key, params["n"] = "too_short", int(n.group(1) or n.group(2))
        if params["n"] == 1:
            key = "required"
    elif key == "invalid" and (n := re.search(r"length <= (\d+)|at most (\d+) characters", message)):
        key, params["n"] = "too_long", int(n.group(1) or n.group(2))
    return InvalidRequest(text, extra={"field": field} if field else None, key=key, params=params)


def coerce(data: Any, kind: type[S]) -> S:
    """``data`` as the input Struct ``kind``: already one (the JSON API), or a mapping (a web form)."""
    if not isinstance(data, kind):
        if not isinstance(data, Mapping):
            raise InvalidRequest(f"Expected an object for {kind.__name__}.", key="invalid")
        try:
            data = msgspec.convert(dict(data), kind, strict=False)
        except msgspec.ValidationError as exc:
            raise invalid_input(exc) from exc
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
