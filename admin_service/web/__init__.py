"""The admin service's web UI: server-rendered pages (Jinja, autoescape on), htmx where it helps.

``create_app`` mounts three things from here: ``web_router()`` (every page, behind the same
``authenticate`` guard as the JSON API, with ``opt={"web": True}`` so a missing session becomes a redirect to
/login), ``static_files()`` (CSS, htmx, the one script; public) and ``template_config()``.

static/htmx.min.js is htmx.org 2.0.11 as published on npm (dist/htmx.min.js, 0BSD licence; sha256
d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717), vendored so that no page loads code
from elsewhere. To update: ``npm pack htmx.org@2`` and copy package/dist/htmx.min.js here.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from admin_service.auth.guards import authenticate

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def static_files() -> Router:
    return create_static_files_router(path="/static", directories=[STATIC], name="static",
                                      include_in_schema=False, opt={"public": True})


def web_router() -> Router:
    from admin_service.web.controllers import PAGES
    from admin_service.web.errors import web_exception_handlers

    return Router(path="/", guards=[authenticate], route_handlers=PAGES, opt={"web": True},
                  exception_handlers=web_exception_handlers(), include_in_schema=False)
