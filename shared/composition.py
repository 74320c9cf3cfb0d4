"""A list of people (a ballot, the final 100) by region, sphere, gender and ethnicity, next to the population's
shares from the project's reference data (shared/data): both services report it (the admin's campaign
reports and finalisation, the public final-100 page)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from shared.reference import demographics, regions, spheres

UNDECLARED = "undeclared"


def _share(n: float, total: float) -> float:
    return round(n / total, 4) if total else 0.0


def _rows(counts: Mapping[str, int], total: int, entries: Iterable[tuple[str, Any, float | None]]) -> list[dict]:
    """entries: (code, name, population share or None)."""
    out = []
    for code, name, pop_share in entries:
        n = counts.get(code, 0)
        row: dict[str, Any] = {"code": code, "name": name, "count": n, "share": _share(n, total)}
        if pop_share is not None:
            expected = pop_share * total
            row.update(population_share=round(pop_share, 4), expected=round(expected, 1),
                       difference=round(n - expected, 1))
        out.append(row)
    return out


def composition_of(ballot: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of ``ballot`` rows (region, sphere, gender, ethnicity) next to the population's shares; a row
    without a field (the public service never reads ethnicity) counts as undeclared."""
    total = len(ballot)
    by = {f: Counter(str(c.get(f) or UNDECLARED) for c in ballot)
          for f in ("region", "sphere", "gender", "ethnicity")}
    population = sum(r["population"] for r in regions())
    demo = demographics()
    gender_total = demo["gender"]["female"] + demo["gender"]["male"]
    ethnic = demo["ethnicity"]["shares_pct"]
    return {
        "total": total,
        "region": _rows(by["region"], total,
                        ((r["code"], r["name"], r["population"] / population) for r in regions())),
        "sphere": _rows(by["sphere"], total, ((s["code"], s["name"], None) for s in spheres())),
        "gender": _rows(by["gender"], total,
                        ((g, None, demo["gender"][g] / gender_total) for g in ("female", "male"))),
        "ethnicity": _rows(by["ethnicity"], total,
                           [*((e, None, pct / 100) for e, pct in ethnic.items()), (UNDECLARED, None, None)]),
        "sources": {"region": "shared/data/regions.json", "gender": demo["gender"]["source"],
                    "ethnicity": demo["ethnicity"]["source"]},
    }
