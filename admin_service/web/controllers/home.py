"""``/``: where a signed-in staff member starts (the candidate list; everyone may read it)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from admin_service.web.render import see_other


class HomePage(Controller):
    path = "/"

    @get("/", operation_id="webHome", include_in_schema=False)
    async def home(self, request: Request) -> Response:
        return see_other("/candidates")
