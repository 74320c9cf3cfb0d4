"""The public portal: server-rendered pages for citizens, in Kazakh (default), Russian and English.

Same app and origin as the JSON API (voting_service/app.py mounts ``portal_router()``); pages are Jinja
templates (autoescape on), strings come from the catalogues in ``i18n/<lang>/<area>.json``, pages that are the
same for everyone are rendered once and served from memory (cache.py). The router has its own
``before_request`` (``forms_only``) instead of the API's JSON-only guard, its own error pages (errors.py), and
is left out of the OpenAPI document. See docs/portal.md and PORTAL_FOUNDATION.md.
"""

from __future__ import annotations

from litestar import Request, Router

from shared.errors import UnsupportedMediaType

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def forms_only(request: Request) -> None:
    """Pages take HTML forms: a POST with a body of another type is refused before it is read."""
    if request.method == "POST":
        headers = request.headers
        if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
            return
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in FORM_TYPES:
            raise UnsupportedMediaType("Send the form as application/x-www-form-urlencoded.")


def portal_router() -> Router:
    from voting_service.portal.controllers import PAGES
    from voting_service.portal.errors import page_exception_handlers

    return Router(path="/", route_handlers=PAGES, before_request=forms_only, include_in_schema=False,
                  exception_handlers=page_exception_handlers(), opt={"portal": True})
