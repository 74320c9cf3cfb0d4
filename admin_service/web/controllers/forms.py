"""Reading HTML form posts."""

from __future__ import annotations

from litestar import Request


async def form_of(request: Request) -> dict[str, str]:
    """Single-valued fields, stripped (the csrf_token field is the guard's business, not the handler's)."""
    form = await request.form()
    return {k: str(v).strip() for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}


async def form_list(request: Request, name: str) -> list[str]:
    form = await request.form()
    return [str(v) for v in form.getall(name, []) if isinstance(v, str) and v]


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None

