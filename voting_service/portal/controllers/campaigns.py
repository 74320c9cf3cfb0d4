"""A campaign's public pages: the ballot, a candidate, the results, the final 100."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from shared import reference
from voting_service.portal.avatars import photo_src
from voting_service.portal.controllers.serve import cached_page
from voting_service.portal.flows_blocks import personal_ballot_block
from voting_service.portal.reads import localized, status_now
from voting_service.services.directory import CampaignNotFound
from voting_service.services.results import ResultsHidden
from voting_service.state import AppServices, Services

MAX_QUERY = 80
EXCERPT = 240


def _filters(request: Request) -> dict[str, str]:
    """The ballot's filters as given, keeping only values that mean something (others are ignored, so a
    mistyped link still shows the ballot and the cache holds no junk keys)."""
    region = request.query_params.get("region", "")
    sphere = request.query_params.get("sphere", "")
    q = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY]
    return {"region": region if region in reference.region_codes() else "",
            "sphere": sphere if sphere in reference.sphere_codes() else "", "q": q}


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:—-") + "…"


def _card(row: Any, texts: dict[str, Any], lang: str) -> dict[str, Any]:
    cid = str(row["id"])
    own = texts.get(cid)
    loc = localized(own if own is not None else {"summary": row["summary"]}, lang)
    return {"id": cid, "full_name": row["full_name"], "region": row["region"], "sphere": row["sphere"],
            "gender": row["gender"], "photo": photo_src(cid, row["photo_url"]), "texts": loc}


def _matches(card: dict[str, Any], f: dict[str, str]) -> bool:
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


class CampaignPages(Controller):
    path = "/campaigns/{slug:str}"

    @get("/", operation_id="portalBallot", name="portal:ballot")
    async def ballot(self, request: Request, slug: FromPath[str], services: AppServices) -> Response[bytes]:
        row, campaign, status = await _campaign(services, slug)
        ballot = await services.portal.ballot(row["id"])
        texts = await services.portal.texts(row["id"])
        version = services.portal.fingerprints.of(("ballot", row["id"]), row, ballot, texts)
        f = _filters(request)

        def context(lang: str) -> dict[str, Any]:
            cards = [_card(r, texts, lang) for r in ballot]
            shown = [c for c in cards if _matches(c, f)]
            return {"campaign": campaign, "cards": shown, "total": len(cards), "filters": f,
                    "voting_open": status == "open"}

        personal, cookies = (await personal_ballot_block(request, services, campaign) if status == "open" else None) \
            or (None, [])
        return await cached_page(request, services, ("ballot", row["id"], version, status, *f.values()),
                                 "ballot.html", context, query=f, personal=personal, cookies=cookies)

    @get("/candidates/{candidate_id:str}", operation_id="portalCandidate", name="portal:candidate")
    async def candidate(self, request: Request, slug: FromPath[str], candidate_id: FromPath[str],
                        services: AppServices) -> Response[bytes]:
        row, campaign, status = await _campaign(services, slug)
        ballot = await services.portal.ballot(row["id"])
        found = next((r for r in ballot if str(r["id"]) == candidate_id), None)
        if found is None:
            raise CampaignNotFound("No such candidate on this ballot.")
        texts = await services.portal.texts(row["id"])
        final = await services.portal.final(row["id"]) if status == "finalised" else None
        selected = {str(s["candidate_id"]) for s in final["seats"]} if final is not None else set()
        version = services.portal.fingerprints.of(("candidate", row["id"]), row, ballot, texts, final)

        def context(lang: str) -> dict[str, Any]:
            card = _card(found, texts, lang)
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
        final = await services.portal.final(row["id"]) if status == "finalised" else None
        ballot = await services.portal.ballot(row["id"])
        texts = await services.portal.texts(row["id"])
        version = services.portal.fingerprints.of(("final", row["id"]), row, ballot, texts, final)
        f = _filters(request)
        f.pop("q")

        def context(lang: str) -> dict[str, Any]:
            if final is None:
                return {"campaign": campaign, "final": None, "filters": f}
            by_id = {str(r["id"]): r for r in ballot}
            seats = [by_id[str(s["candidate_id"])] for s in final["seats"] if str(s["candidate_id"]) in by_id]
            cards = [_card(r, texts, lang) for r in seats]
            for card in cards:
                card["excerpt"] = excerpt(card["texts"].story)
            shown = [c for c in cards if _matches(c, {**f, "q": ""})]
            return {"campaign": campaign, "final": final, "filters": f, "cards": shown, "total": len(cards),
                    "groups": _grouped(shown), "composition": composition(cards)}

        return await cached_page(request, services, ("final", row["id"], version, status, *f.values()),
                                 "final.html", context, query=f)


def _grouped(cards: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The gallery by region, regions in the order of reference data (largest population first)."""
    order = [r["code"] for r in reference.regions()]
    groups: dict[str, list[dict[str, Any]]] = {}
    for card in cards:
        groups.setdefault(card["region"], []).append(card)
    return [(code, groups[code]) for code in order if code in groups]


def composition(cards: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The list's make-up by region and gender next to the population's shares (percentages, one decimal)."""
    n = len(cards) or 1
    regions = reference.regions()
    total = sum(r["population"] for r in regions)
    by_region = Counter(c["region"] for c in cards)
    demo = reference.demographics()["gender"]
    people = demo["female"] + demo["male"]
    by_gender = Counter(c["gender"] for c in cards)

    def table(lines: list[tuple[str, int, float]]) -> list[dict[str, Any]]:
        # Bars (classes w0 … w100, no inline style under the CSP) scaled to the table's largest share.
        top = max(max(100 * seats / n, pop) for _, seats, pop in lines) or 1.0
        return [{"code": code, "seats": seats, "share": round(100 * seats / n, 1), "population": round(pop, 1),
                 "width": 5 * round(20 * (100 * seats / n) / top), "pop_width": 5 * round(20 * pop / top)}
                for code, seats, pop in lines]

    return {
        "region": table([(r["code"], by_region.get(r["code"], 0), 100 * r["population"] / total) for r in regions]),
        "gender": table([(g, by_gender.get(g, 0), 100 * demo[g] / people) for g in reference.GENDERS]),
    }
