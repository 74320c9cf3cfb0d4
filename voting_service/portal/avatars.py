"""Generated portraits for candidates without a photo: their initials on a colour chosen by their id.

Deterministic (the same candidate always gets the same picture), no network, no randomness. Every colour of
the palette carries white text at a contrast of at least 4.5:1 (WCAG AA; tests check the ratio).
"""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

PALETTE = ("#1f5f8b", "#7a3b69", "#2e6b3f", "#8a4b08", "#5b4a9c", "#a12f2f", "#1e6b6b", "#4a5560",
           "#6b4e16", "#2f4f8f", "#7b2d4f", "#3d6b1f")
SIZE = 160


def initials(full_name: str) -> str:
    words = [w for w in full_name.replace("-", " ").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def colour(candidate_id: int) -> str:
    digest = hashlib.sha256(str(candidate_id).encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def avatar_svg(candidate_id: int, full_name: str) -> bytes:
    label = escape(full_name, {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        f'role="img" aria-label="{label}"><rect width="{SIZE}" height="{SIZE}" fill="{colour(candidate_id)}"/>'
        f'<text x="80" y="80" dy="0.35em" text-anchor="middle" fill="#fff" font-size="60" font-weight="600" '
        f'font-family="system-ui,-apple-system,Segoe UI,Roboto,Noto Sans,sans-serif">'
        f'{escape(initials(full_name))}</text></svg>'
    ).encode("utf-8")


def avatar_version(body: bytes) -> str:
    """The avatar's version (its content's digest): the ``?v=`` of its URL and its ETag."""
    return hashlib.blake2b(body, digest_size=8).hexdigest()


def photo_src(candidate_id: int | str, photo_url: str | None, full_name: str) -> str:
    """A photo of this site (a path: the CSP allows images from this origin only), else the avatar, its URL
    versioned by its content (the initials and the name change it), so that it can be cached for a year."""
    if photo_url and photo_url.startswith("/") and not photo_url.startswith("//"):
        return photo_url
    version = avatar_version(avatar_svg(int(candidate_id), full_name))
    return f"/photos/{candidate_id}.svg?v={version}"


def contrast_ratio(foreground: str, background: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)
