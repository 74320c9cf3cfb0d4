"""A campaign's public pages: the ballot, a candidate, the results, the final 100."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from shared import reference
from shared.texts import localized_texts
from voting_service.portal.avatars import photo_src
from voting_service.portal.controllers.serve import cached_page
from voting_service.portal.flows_blocks import personal_ballot_block
from voting_service.portal.reads import status_now
from voting_service.portal.render import with_query
from voting_service.services.directory import CampaignNotFound
from voting_service.services.results import NotFinalised, ResultsHidden
from voting_service.state import AppServices, Services

MAX_QUERY = 80
EXCERPT = 240
# Candidates per ballot page. All 200 on one page cost a phone ~1 500 elements to lay out (Lighthouse
# performance 84); 50 keep the page light, and the filters and the search reach everyone from any page.
PAGE_SIZE = 50


def _filters(request: Request) -> dict[str, str]:
    """The ballot's filters as given, keeping only values that mean something (others are ignored, so a
    mistyped link still shows the ballot and the cache holds no junk keys)."""
    region = request.query_params.get("region", "")
    sphere = request.query_params.get("sphere", "")
    q = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY]
    return {"region": region if region in reference.region_codes() else "",
            "sphere": sphere if sphere in reference.sphere_codes() else "", "q": q}


def page_of(asked: str, found: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """(the page to show, the number of pages) for ``?page=asked`` over ``found`` candidates: pages from 1, at
    least one (it may be empty); past the last page is the last page, anything not a number the first."""
    pages = max(1, -(-found // size))
    number = int(asked) if asked.isascii() and asked.isdigit() and len(asked) <= 6 else 1
    return min(max(number, 1), pages), pages


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:—-") + "…"


def _card(row: Mapping[str, Any], lang: str, *, id_key: str = "id") -> dict[str, Any]:
    """A ballot row (``id``) or a finalist of ``services.results.final`` (``candidate_id``) as a page shows
    it, its texts in ``lang`` or the nearest language there is (shared/texts.py)."""
    cid = str(row[id_key])
    return {"id": cid, "full_name": row["full_name"], "region": row["region"], "sphere": row["sphere"],
            "gender": row["gender"], "photo": photo_src(cid, row["photo_url"], row["full_name"]),
            "texts": localized_texts(row, lang)}


def _matches(card: Mapping[str, Any], f: dict[str, str]) -> bool:
    """Whether a card (or a ballot row: the same keys) passes the filters."""
    if f["region"] and card["region"] != f["region"]:
        return False
    if f["sphere"] and card["sphere"] != f["sphere"]:
        return False
    if f["q"]:
        name = card["full_name"].casefold()
        return all(word in name for word in f["q"].casefold().split())
    return True


async def _campaign(services: Services, slug: str) -> tuple[Any, dict[str, Any], str]:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", slug):
        raise CampaignNotFound("No such campaign.")
    row = await services.portal.by_slug(slug)
    status = status_now(row)
    return row, {**dict(row), "status": status, "id": str(row["id"])}, status


async def _final(services: Services, campaign_id: int, status: str) -> dict[str, Any] | None:
    """The final list (``services.results.final``: frozen valid counts, finalists with their texts, the
    composition), or None before finalisation."""
    if status != "finalised":
        return None
    try:
        return await services.results.final(campaign_id)
    except NotFinalised:  # finalised state, snapshot not readable yet: the page says "not yet"
        return None


class CampaignPages(Controller):
    path = "/campaigns/{slug:str}"

    @get("/", operation_id="portalBallot", name="portal:ballot")
    async def ballot(self, request: Request, slug: FromPath[str], services: AppServices) -> Response[bytes]:
        row, campaign, status = await _campaign(services, slug)
        ballot = await services.portal.ballot(row["id"])
        version = services.portal.fingerprints.of(("ballot", row["id"]), row, ballot)
        f = _filters(request)
        found = [r for r in ballot if _matches(r, f)] if any(f.values()) else ballot
        page, pages = page_of(request.query_params.get("page", ""), len(found))
        query = {**f, "page": str(page) if page > 1 else ""}
        first = (page - 1) * PAGE_SIZE

        def context(lang: str) -> dict[str, Any]:
            links = {n: with_query(f"/campaigns/{slug}", {**f, "page": str(n) if n > 1 else ""})
                     for n in range(1, pages + 1)}
            return {"campaign": campaign, "cards": [_card(r, lang) for r in found[first:first + PAGE_SIZE]],
                    "found": len(found), "total": len(ballot), "filters": f, "first": first + 1,
                    "page": page, "pages": links, "voting_open": status == "open"}

        personal, cookies = (await personal_ballot_block(request, services, campaign) if status == "open" else None) \
            or (None, [])
        return await cached_page(request, services, ("ballot", row["id"], version, status, *query.values()),
                                 "ballot.html", context, query=query, personal=personal, cookies=cookies)

    @get("/candidates/{candidate_id:str}", operation_id="portalCandidate", name="portal:candidate")
    async def candidate(self, request: Request, slug: FromPath[str], candidate_id: FromPath[str],
                        services: AppServices) -> Response[bytes]:
        row, campaign, status = await _campaign(services, slug)
        ballot = await services.portal.ballot(row["id"])
        found = next((r for r in ballot if str(r["id"]) == candidate_id), None)
        if found is None:
            raise CampaignNotFound("No such candidate on this ballot.")
        final = await _final(services, row["id"], status)
        selected = {f["candidate_id"] for f in final["finalists"]} if final is not None else set()
        version = services.portal.fingerprints.of(("candidate", row["id"]), row, ballot, final)

        def context(lang: str) -> dict[str, Any]:
            card = _card(found, lang)
            return {"campaign": campaign, "c": card, "selected": card["id"] in selected,
                    "voting_open": status == "open",
                    "meta": {"type": "profile", "title": card["full_name"],
                             "description": excerpt(card["texts"].summary or card["texts"].story, 200),
                             "image": card["photo"]}}

        personal, cookies = (await personal_ballot_block(request, services, campaign, candidate_id=candidate_id)
                             if status == "open" else None) or (None, [])
        return await cached_page(request, services, ("candidate", row["id"], candidate_id, version, status),
                                 "candidate.html", context, personal=personal, cookies=cookies)

    @get("/results", operation_id="portalResults", name="portal:results")
    async def results(self, request: Request, slug: FromPath[str], services: AppServices) -> Response[bytes]:
        row, campaign, status = await _campaign(services, slug)
        try:
            data: dict[str, Any] | None = await services.results.live(row["id"])
        except ResultsHidden:
            data = None
        ballot = await services.portal.ballot(row["id"])
        version = services.portal.fingerprints.of(("results", row["id"]), row, ballot, data)

        def context(lang: str) -> dict[str, Any]:
            if data is None:
                return {"campaign": campaign, "results": None}
            by_id = {str(r["id"]): r for r in ballot}
            top = max((c["votes"] for c in data["candidates"]), default=0) or 1
            lines = [{"rank": n, "votes": c["votes"], "width": 5 * round(20 * c["votes"] / top),
                      "row": by_id[c["candidate_id"]]}
                     for n, c in enumerate(data["candidates"], 1) if c["candidate_id"] in by_id]
            return {"campaign": campaign, "results": data, "lines": lines}

        return await cached_page(request, services, ("results", row["id"], version, status), "results.html",
                                 context)

    @get("/final", operation_id="portalFinal", name="portal:final")
    async def final(self, request: Request, slug: FromPath[str], services: AppServices) -> Response[bytes]:
        row, campaign, status = await _campaign(services, slug)
        final = await _final(services, row["id"], status)
        version = services.portal.fingerprints.of(("final", row["id"]), row, final)
        f = _filters(request)
        f.pop("q")

        def context(lang: str) -> dict[str, Any]:
            if final is None:
                return {"campaign": campaign, "final": None, "filters": f}
            cards = {}
            for finalist in final["finalists"]:
                card = cards[finalist["candidate_id"]] = _card(finalist, lang, id_key="candidate_id")
                card["excerpt"] = excerpt(card["texts"].story)
            shown = {cid: c for cid, c in cards.items() if _matches(c, {**f, "q": ""})}
            return {"campaign": campaign, "final": final, "filters": f, "cards": shown, "total": len(cards),
                    "groups": _grouped(final["by_region"], shown),
                    "composition": {dim: _bars(final["composition"][dim]) for dim in ("gender", "region")}}

        return await cached_page(request, services, ("final", row["id"], version, status, *f.values()),
                                 "final.html", context, query=f)


def _grouped(by_region: Mapping[str, list[str]],
             cards: Mapping[str, dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The gallery by region (the final list's ``by_region``, finalists in rank order), regions in the order of
    the reference data (largest population first); only the cards shown."""
    groups = [(r["code"], [cards[cid] for cid in by_region.get(r["code"], ()) if cid in cards])
              for r in reference.regions()]
    return [(code, group) for code, group in groups if group]


def _bars(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Composition rows of shared/composition.py as the page's table: percentages with one decimal, and bars
    (classes w0 … w100, no inline style under the CSP) scaled to the table's largest share."""
    top = max((max(r["share"], r["population_share"]) for r in rows), default=0.0) or 1.0
    return [{"code": r["code"], "seats": r["count"], "share": round(100 * r["share"], 1),
             "population": round(100 * r["population_share"], 1),
             "width": 5 * round(20 * r["share"] / top), "pop_width": 5 * round(20 * r["population_share"] / top)}
            for r in rows]
