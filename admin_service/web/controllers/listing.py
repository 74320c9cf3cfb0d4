"""Long lists on the staff pages (a campaign's ballot, its results): server-side search, a filter by region and
by sphere with the number of people in each group, sorting and paging, all from query parameters, so the
pages work without JavaScript and a link shows the same slice to a colleague.

``?q=`` (any part of the name, case-insensitive), ``?region=KZ-75``, ``?sphere=healthcare``, ``?sort=`` (one
of the sorts the page offers; unknown values fall back to the page's first), ``?page=`` (from 1; out of range
is clamped). Pure functions over rows that carry ``full_name``, ``region`` and ``sphere``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

PER_PAGE = 50
QUERY_MAX = 100


@dataclass(frozen=True)
class Slice:
    """One page of a filtered, sorted list and what the filter form shows around it."""
    items: list[dict[str, Any]]
    total: int  # rows matching every filter
    all_rows: int  # rows before any filter
    page: int
    pages: int
    per_page: int
    q: str
    region: str
    sphere: str
    sort: str
    by_region: dict[str, int] = field(default_factory=dict)  # matching q and sphere, by region
    by_sphere: dict[str, int] = field(default_factory=dict)  # matching q and region, by sphere

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.region or self.sphere)

    def query(self, **changes: Any) -> str:
        """``?q=...&region=...`` for a link to another page or sort of the same list (empty values left out)."""
        params = {"q": self.q, "region": self.region, "sphere": self.sphere, "sort": self.sort,
                  "page": self.page if self.page > 1 else "", **changes}
        kept = {k: v for k, v in params.items() if v not in ("", None, 1)}
        return "?" + urlencode(kept) if kept else "?"

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def first(self) -> int:
        """The 1-based position of the first item of this page in the filtered list (0 when it is empty)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0


def _page_number(raw: str | None) -> int:
    return max(1, int(raw)) if raw and raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def slice_rows(rows: Sequence[dict[str, Any]], params: Mapping[str, str], *,
               sorts: Mapping[str, Callable[[dict[str, Any]], Any]], per_page: int = PER_PAGE) -> Slice:
    """Filter ``rows`` by ``params`` (see the module), count the groups, sort by ``sorts[params['sort']]``
    (the first sort by default) and cut out the page asked for."""
    q = " ".join((params.get("q") or "").split())[:QUERY_MAX]
    needle = q.casefold()
    region, sphere = params.get("region") or "", params.get("sphere") or ""
    sort = params.get("sort") or ""
    if sort not in sorts:
        sort = next(iter(sorts))
    named = [r for r in rows if needle in str(r.get("full_name", "")).casefold()] if needle else list(rows)
    by_region = Counter(r["region"] for r in named if not sphere or r["sphere"] == sphere)
    by_sphere = Counter(r["sphere"] for r in named if not region or r["region"] == region)
    matching = [r for r in named if (not region or r["region"] == region) and (not sphere or r["sphere"] == sphere)]
    matching.sort(key=sorts[sort])
    pages = max(1, -(-len(matching) // per_page))
    page = min(_page_number(params.get("page")), pages)
    start = (page - 1) * per_page
    return Slice(items=matching[start:start + per_page], total=len(matching), all_rows=len(rows), page=page,
                 pages=pages, per_page=per_page, q=q, region=region, sphere=sphere, sort=sort,
                 by_region=dict(by_region), by_sphere=dict(by_sphere))
