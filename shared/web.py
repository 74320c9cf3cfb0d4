"""What both server-rendered UIs (admin_service/web, voting_service/portal) need from HTTP: security headers,
and the same-site ``next`` rule (cookies: shared/cookies.py).

The Content-Security-Policy allows scripts, styles and requests from this origin only, so nothing that comes
from data can run: no inline script or style anywhere, behaviour lives in static files.
"""

from __future__ import annotations

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

# Headers of every page; each UI adds its own Cache-Control.
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

# A page that must not be stored anywhere (staff pages, personal pages, forms with a token).
SECURITY_HEADERS = {**PAGE_HEADERS, "Cache-Control": "no-store"}


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative ``//evil``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
