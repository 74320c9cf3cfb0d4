"""The API documentation viewer of both services, served by the service itself: ``/schema`` works offline.

Litestar's render plugins load their viewer from a CDN, so ``/schema`` was a blank page without the internet
(or behind a strict proxy). Here the page is Swagger UI from files this package ships: swagger-ui-bundle.js and
swagger-ui.css (in static/) are swagger-ui-dist 5.35.0 as published on npm (Apache-2.0, SWAGGER-UI-LICENSE and
SWAGGER-UI-NOTICE beside them; sha256 e6a89869…180af2 and 5ed08757…a273d), vendored like the admin UI's htmx.
To update: ``npm pack swagger-ui-dist@5`` and copy package/swagger-ui-bundle.js and package/swagger-ui.css here.

The page has no inline script (``swagger-init.js`` starts the viewer on the JSON document named in the page),
names no other host, and links the JSON itself (``/schema/openapi.json``) for readers without JavaScript.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

ASSETS = "/api-docs"  # where the viewer's files are served (outside /schema, whose unknown paths are 404s)
STATIC = Path(__file__).resolve().parent / "static"
FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js")


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI at ``/schema`` (and ``/schema/swagger``) from this service's own files."""

    def __init__(self, path: str | list[str] = ("/", "/swagger"), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(path=list(path), favicon="", **kwargs)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        json_url = escape(self.get_openapi_json_route(request))
        return (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{title}</title><link rel=\"icon\" href=\"data:,\">"
            f"<link rel=\"stylesheet\" href=\"{ASSETS}/swagger-ui.css\"></head><body>"
            f"<noscript><p><a href=\"{json_url}\">{title}: OpenAPI document (JSON)</a></p></noscript>"
            f"<div id=\"swagger-ui\" data-spec-url=\"{json_url}\"></div>"
            f"<script src=\"{ASSETS}/swagger-ui-bundle.js\"></script>"
            f"<script src=\"{ASSETS}/swagger-init.js\"></script>"
            "</body></html>"
        ).encode()


def docs_plugins() -> list[OpenAPIRenderPlugin]:
    """``OpenAPIConfig(render_plugins=...)``: the local viewer (the JSON stays at /schema/openapi.json)."""
    return [LocalSwaggerPlugin()]


def docs_assets() -> Router:
    """The viewer's files, public, out of the OpenAPI document."""
    return create_static_files_router(path=ASSETS, directories=[STATIC], name="api_docs_assets",
                                      include_in_schema=False, opt={"public": True},
                                      cache_control=CacheControlHeader(public=True, max_age=86400))
