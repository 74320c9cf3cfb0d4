"""The portal's static files (one CSS file, one small script, the icon), served from memory.

Pages link them by a name that carries a hash of the content (``/static/portal.3f9a1c2e.css``), so they can be
cached for a year and a new version is a new name. The plain name also answers, revalidated each time.
Files are read and compressed once, on first use (never at import).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass

from voting_service.portal.paths import STATIC

TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str           # portal.css
    hashed: str         # portal.3f9a1c2e.css
    content_type: str
    raw: bytes
    gz: bytes
    etag: str


@functools.cache
def assets() -> dict[str, Asset]:
    out: dict[str, Asset] = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix not in TYPES:
            continue
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()[:10]
        asset = Asset(name=path.name, hashed=f"{path.stem}.{digest}{path.suffix}",
                      content_type=TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                      raw=raw, gz=gzip.compress(raw, 9, mtime=0), etag=f'"{digest}"')
        out[asset.name] = out[asset.hashed] = asset
    return out


def url(name: str) -> str:
    """The long-cache address of a static file, for templates: ``{{ static("portal.css") }}``."""
    return f"/static/{assets()[name].hashed}"
