"""Static files (hashed names, cached for a year) and generated avatars."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from voting_service.portal import staticfiles
from voting_service.portal.avatars import avatar_svg, avatar_version
from voting_service.state import AppServices

# An SVG opened on its own is a document: it may run nothing and load nothing.
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
               "X-Content-Type-Options": "nosniff"}
AVATAR_VERSIONED = "public, max-age=31536000, immutable"
AVATAR_PLAIN = "public, max-age=86400"


def _if_none_match(request: Request, etag: str) -> bool:
    match = request.headers.get("if-none-match")
    return bool(match) and etag in match


class AssetFiles(Controller):
    path = "/"

    @get("/static/{name:str}", operation_id="portalStatic", name="portal:static")
    async def static_file(self, request: Request, name: FromPath[str]) -> Response[bytes]:
        asset = staticfiles.assets().get(name)
        if asset is None:
            raise NotFoundException("No such file.")
        cache = staticfiles.IMMUTABLE if name == asset.hashed else "public, no-cache"
        headers = {"Cache-Control": cache, "ETag": asset.etag, "X-Content-Type-Options": "nosniff",
                   "Vary": "Accept-Encoding"}
        if _if_none_match(request, asset.etag):
            return Response(b"", status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(asset.gz, media_type=asset.content_type, headers={**headers, "Content-Encoding": "gzip"})
        return Response(asset.raw, media_type=asset.content_type, headers=headers)

    @get("/photos/{file:str}", operation_id="portalAvatar", name="portal:avatar")
    async def avatar(self, request: Request, file: FromPath[str], services: AppServices) -> Response[bytes]:
        raw_id = file.removesuffix(".svg")
        if not file.endswith(".svg") or not raw_id.isascii() or not raw_id.isdigit() or len(raw_id) > 18:
            raise NotFoundException("No such picture.")
        name = await services.portal.public_name(int(raw_id))
        if name is None:
            raise NotFoundException("No such picture.")
        body = avatar_svg(int(raw_id), name)
        version = avatar_version(body)
        etag = f'"{version}"'
        # The pages link the versioned URL (avatars.photo_src): a year, immutable; without (or with an old)
        # version, e.g. a shared og:image, a day.
        cache = AVATAR_VERSIONED if request.query_params.get("v") == version else AVATAR_PLAIN
        headers = {**SVG_HEADERS, "Cache-Control": cache, "ETag": etag}
        if _if_none_match(request, etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(body, media_type="image/svg+xml", headers=headers)
