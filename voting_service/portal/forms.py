"""Form posts of the portal's personal pages: reading the fields, and the errors a page shows twice — in a
summary at the top (each a link to its field) and next to the field — in the page's language.

Messages are catalogue keys with values, translated when the page renders; what the person typed is sent back
into the form by the handler, so nothing has to be typed again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection

from shared.web import safe_next
from voting_service.portal.i18n import CATALOGUES
from voting_service.portal.render import lang_of, page
from voting_service.state import Services

# A message: a catalogue key and its values; a value may itself be a message ("wait 45 s").
Message = tuple[str, dict[str, Any]]

MAX_FIELD = 12_000  # no single field of the portal's forms is longer (a story: 10 000 characters)


async def fields_of(request: Request) -> dict[str, list[str]]:
    """Every text field of the posted form, each as the list of its values (files are ignored)."""
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value[:MAX_FIELD])
    return out


def one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    return values[0].strip() if values else ""


@dataclass(frozen=True)
class FieldError:
    field: str     # the id of the input the summary links to
    key: str       # catalogue key
    values: dict[str, Any]


@dataclass
class FormErrors:
    items: list[FieldError] = field(default_factory=list)

    def add(self, field_id: str, key: str, **values: Any) -> None:
        if self.at(field_id) is None:  # one message per field: the first problem found
            self.items.append(FieldError(field_id, key, values))

    def at(self, field_id: str) -> FieldError | None:
        return next((e for e in self.items if e.field == field_id), None)

    def __bool__(self) -> bool:
        return bool(self.items)


def sayer(connection: ASGIConnection) -> Callable[..., str]:
    """``say(key, values)`` for the templates: ``t`` that also translates values which are messages."""
    t = CATALOGUES.translator(lang_of(connection))

    def say(key: str, values: dict[str, Any] | None = None) -> str:
        resolved = {k: say(*v) if isinstance(v, tuple) else v for k, v in (values or {}).items()}
        return t(key, **resolved)

    return say


def wait_text(seconds: int) -> Message:
    """"45 s" / "12 min" (abbreviated units need no plural forms)."""
    if seconds < 90:
        return "form.wait.seconds", {"n": max(1, seconds)}
    return "form.wait.minutes", {"n": -(-seconds // 60)}


def next_path(target: str | None, default: str = "/") -> str:
    """Where to return after signing in: a path of this site (shared/web.py's rule), never the sign-in pages
    themselves, of a sane length."""
    path = safe_next(target, default)
    if len(path) > 512 or path.startswith("/signin") or path.startswith("/signout"):
        return default
    return path


def flow_page(request: Request, services: Services, template: str, **context: Any) -> Response[bytes]:
    """A personal page of the flows (never cached), with ``say`` for messages."""
    return page(request, services.settings, template, say=sayer(request), **context)
