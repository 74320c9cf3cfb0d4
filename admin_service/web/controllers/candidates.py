"""Candidate pages: the list (filters, paging; htmx swaps only the results), the card with its forms, intake.

Every form posts to a route of its own and redirects back to the card (post/redirect/get); the domain rules
(who may move a candidate where, what needs a reason) are the services', the same as the JSON API's.
"""

from __future__ import annotations

import math
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.models_domain import Ethnicity, SourceKind
from admin_service.services import candidates as service
from admin_service.services import lifecycle, reviews, verification
from admin_service.services.common import parse_id
from admin_service.web.controllers.forms import form_of, int_or_none
from admin_service.web.render import page, see_other
from admin_service.state import AppServices
from shared.errors import InvalidRequest
from shared.reference import GENDERS
from shared.texts import LANGUAGES

PER_PAGE = 25
ETHNICITIES: tuple[str, ...] = Ethnicity.__args__  # type: ignore[attr-defined]
SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]


def _blank_values() -> dict[str, Any]:
    keys = ("full_name", "region", "sphere", "gender", "birth_year", "ethnicity", "source_kind", "source_name",
            "photo_url", "contact_phone", "contact_email", "summary", "story")
    return {**dict.fromkeys(keys, ""), "claims": [], "evidence": []}


def candidate_data(fields: dict[str, str], claims: list[str], evidence: list[str]) -> dict[str, Any]:
    """The intake form as the mapping ``candidates.create`` accepts (the same shape as the JSON body)."""
    achievements = []
    for i, claim in enumerate(claims):
        if claim.strip():
            url = evidence[i].strip() if i < len(evidence) else ""
            achievements.append({"claim": claim.strip(), "evidence_url": url or None})
    birth_year = int_or_none(fields.get("birth_year"))
    if birth_year is None:
        raise InvalidRequest("Enter the year of birth.", extra={"field": "birth_year"}, key="required",
                             params={"field": "birth_year"})
    data: dict[str, Any] = {
        "full_name": fields.get("full_name", ""), "region": fields.get("region", ""),
        "sphere": fields.get("sphere", ""), "gender": fields.get("gender", ""), "birth_year": birth_year,
        "source": {"kind": fields.get("source_kind", ""), "name": fields.get("source_name", "")},
        "story": fields.get("story", ""), "achievements": achievements,
        "summary": fields.get("summary", ""),
        "ethnicity": fields.get("ethnicity") or None,
        "photo_url": fields.get("photo_url") or None,
    }
    phone, email = fields.get("contact_phone"), fields.get("contact_email")
    if phone or email:
        data["contact"] = {"phone": phone or None, "email": email or None}
    return data


def achievements_from_lines(text: str) -> list[dict[str, Any]]:
    """The texts form's achievements: one per line, ``claim`` or ``claim | https://evidence``."""
    out = []
    for line in text.splitlines():
        claim, _, url = line.partition(" | ")
        if claim.strip():
            out.append({"claim": claim.strip(), "evidence_url": url.strip() or None})
    return out


def achievements_as_lines(achievements: list[dict[str, Any]]) -> str:
    return "\n".join(a.get("claim", "") + (f" | {a['evidence_url']}" if a.get("evidence_url") else "")
                     for a in achievements)


def texts_by_language(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every language with the card's texts in it (empty ones too), its own language first, for the form."""
    base = {"summary": card["summary"], "story": card["story"], "achievements": card["achievements"]}
    out = []
    for lang in (card["text_lang"], *(code for code in LANGUAGES if code != card["text_lang"])):
        entry = base if lang == card["text_lang"] else card["texts"].get(lang) or {}
        out.append({"lang": lang, "base": lang == card["text_lang"], "summary": entry.get("summary", ""),
                    "story": entry.get("story", ""), "achievements": entry.get("achievements") or [],
                    "lines": achievements_as_lines(entry.get("achievements") or [])})
    return out


class CandidatePages(Controller):
    path = "/candidates"
    guards = [roles(*ANY_ROLE)]

    @get("/", operation_id="webCandidates", include_in_schema=False)
    async def list_candidates(self, request: Request, services: AppServices, status: FromQuery[str | None] = None,
                              region: FromQuery[str | None] = None, sphere: FromQuery[str | None] = None,
                              q: FromQuery[str | None] = None) -> Response:
        filters = {"status": status or "", "region": region or "", "sphere": sphere or "", "q": (q or "").strip()}
        current = max(1, int_or_none(request.query_params.get("page")) or 1)
        items, total = await service.search(services.pool, status=status or None, region=region or None,
                                            sphere=sphere or None, q=filters["q"] or None, page=current,
                                            per_page=PER_PAGE)
        context = {"items": items, "total": total, "page": current, "pages": max(1, math.ceil(total / PER_PAGE)),
                   "filters": filters, "statuses": service.STATUSES}
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
            return page(request, "candidates/_results.html", headers={"Vary": "HX-Request"}, **context)
        return page(request, "candidates/list.html", headers={"Vary": "HX-Request"}, **context)

    @get("/new", operation_id="webCandidateForm", include_in_schema=False, guards=[roles("secretariat")])
    async def new_form(self, request: Request) -> Response:
        return self._form(request, _blank_values())

    def _form(self, request: Request, values: dict[str, Any], *, error: InvalidRequest | None = None,
              status: int = 200) -> Response:
        return page(request, "candidates/new.html", status=status, v=values, error=error, genders=GENDERS,
                    ethnicities=ETHNICITIES, source_kinds=SOURCE_KINDS)

    @post("/", operation_id="webCandidateCreate", include_in_schema=False, guards=[roles("secretariat")],
          opt={"form": True})
    async def create(self, request: Request, services: AppServices) -> Response:
        fields = await form_of(request)
        form = await request.form()
        claims = [str(v) for v in form.getall("achievement_claim", [])]
        evidence = [str(v) for v in form.getall("achievement_evidence", [])]
        try:
            card = await service.create(services.pool, data=candidate_data(fields, claims, evidence),
                                        actor=staff_of(request), sealer=services.contacts)
        except InvalidRequest as exc:
            values = {**_blank_values(), **fields, "claims": claims, "evidence": evidence}
            return self._form(request, values, error=exc, status=422)
        return see_other(f"/candidates/{card['id']}?ok=created")

    @get("/{candidate_id:str}", operation_id="webCandidateCard", include_in_schema=False)
    async def card(self, request: Request, services: AppServices, candidate_id: FromPath[str]) -> Response:
        staff = staff_of(request)
        card = await service.card(services.pool, candidate_id=parse_id(candidate_id), viewer=staff,
                                  sealer=services.contacts)
        reviewed = any(r["expert_id"] == str(staff.id) for r in card["reviews"])
        can_review = staff.has("expert") and card["status"] == "under_review" and not reviewed
        return page(request, "candidates/card.html", c=card, can_review=can_review, texts=texts_by_language(card))

    @post("/{candidate_id:str}/texts", operation_id="webCandidateTexts", include_in_schema=False,
          guards=[roles("secretariat")], opt={"form": True})
    async def set_texts(self, request: Request, services: AppServices, candidate_id: FromPath[str]) -> Response:
        fields = await form_of(request)
        cid = parse_id(candidate_id)
        lang = fields.get("lang", "")
        await service.set_texts(services.pool, candidate_id=cid, lang=lang, actor=staff_of(request), data={
            "summary": fields.get("summary", ""), "story": fields.get("story", ""),
            "achievements": achievements_from_lines(fields.get("achievements", ""))})
        return see_other(f"/candidates/{cid}?ok=texts#texts-{lang if lang in LANGUAGES else ''}")

    @post("/{candidate_id:str}/transitions", operation_id="webCandidateTransition", include_in_schema=False,
          guards=[roles(*lifecycle.TRANSITION_ROLES)], opt={"form": True})
    async def transition(self, request: Request, services: AppServices, candidate_id: FromPath[str]) -> Response:
        fields = await form_of(request)
        cid = parse_id(candidate_id)
        await lifecycle.transition(services.pool, candidate_id=cid, to=fields.get("to", ""),
                                   reason=fields.get("reason"), actor=staff_of(request))
        return see_other(f"/candidates/{cid}?ok=transition")

    @post("/{candidate_id:str}/verification-requests", operation_id="webVerificationRequest",
          include_in_schema=False, guards=[roles("secretariat")], opt={"form": True})
    async def request_verification(self, request: Request, services: AppServices,
                                   candidate_id: FromPath[str]) -> Response:
        fields = await form_of(request)
        cid = parse_id(candidate_id)
        await verification.request(services.pool, candidate_id=cid, authority=fields.get("authority", ""),
                                   question=fields.get("question", ""), actor=staff_of(request))
        return see_other(f"/candidates/{cid}?ok=verification_sent#verification")

    @post("/{candidate_id:str}/reviews", operation_id="webReview", include_in_schema=False,
          guards=[roles("expert")], opt={"form": True})
    async def review(self, request: Request, services: AppServices, candidate_id: FromPath[str]) -> Response:
        fields = await form_of(request)
        cid = parse_id(candidate_id)
        recommend = {"yes": True, "no": False}.get(fields.get("recommend", ""))
        if recommend is None:
            raise InvalidRequest("Choose whether you recommend the candidate.", key="recommend_choose")
        await reviews.add(services.pool, candidate_id=cid, recommend=recommend,
                          motivation=fields.get("motivation"), actor=staff_of(request))
        return see_other(f"/candidates/{cid}?ok=review#reviews")


class VerificationPages(Controller):
    path = "/verification-requests"
    guards = [roles("secretariat")]

    @post("/{request_id:str}/outcome", operation_id="webVerificationOutcome", include_in_schema=False,
          opt={"form": True})
    async def outcome(self, request: Request, services: AppServices, request_id: FromPath[str]) -> Response:
        fields = await form_of(request)
        answered = await verification.record_outcome(
            services.pool, request_id=parse_id(request_id, "verification request"),
            outcome=fields.get("outcome", ""), notes=fields.get("notes"), actor=staff_of(request))
        return see_other(f"/candidates/{answered['candidate_id']}?ok=outcome#verification")
