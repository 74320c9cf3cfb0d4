"""Candidate cards: intake (secretariat), search and card (any role), lifecycle transitions (by target),
verification requests (secretariat), expert reviews (expert)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from admin_service.auth.context import staff_of
from admin_service.auth.guards import ANY_ROLE, roles
from admin_service.models_domain import (
    CandidateIn,
    CandidateStatus,
    LangTexts,
    ReviewIn,
    TextLang,
    TransitionIn,
    VerificationOutcomeIn,
    VerificationRequestIn,
)
from admin_service.models_out import CandidateCard, Page, ReviewOut, VerificationOut, answer
from admin_service.services import candidates as service
from admin_service.services import lifecycle, reviews, verification
from admin_service.services.common import parse_id
from admin_service.services.lifecycle import TRANSITION_ROLES
from admin_service.state import AppServices
from shared.reference import RegionCode, SphereCode
from shared.text import NO_NUL


class CandidateController(Controller):
    path = "/candidates"
    tags = ["candidates"]
    guards = [roles(*ANY_ROLE)]

    @post("/", operation_id="createCandidate", status_code=201, guards=[roles("secretariat")])
    async def create(self, request: Request, services: AppServices, data: JSONBody[CandidateIn]) -> CandidateCard:
        return answer(CandidateCard, await service.create(services.pool, data=data, actor=staff_of(request),
                                                          sealer=services.contacts))

    @get("/", operation_id="listCandidates")
    async def search(
        self, services: AppServices,
        status: FromQuery[CandidateStatus | None] = None,
        region: FromQuery[RegionCode | None] = None,
        sphere: FromQuery[SphereCode | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=200, schema_extra={"pattern": NO_NUL})] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=service.MAX_PER_PAGE)] = 50,
    ) -> Page:
        items, total = await service.search(services.pool, status=status, region=region, sphere=sphere,
                                            q=q, page=page, per_page=per_page)
        return Page(items=items, total=total, page=page, per_page=per_page)

    @get("/{candidate_id:str}", operation_id="getCandidate")
    async def card(self, request: Request, services: AppServices, candidate_id: FromPath[str]) -> CandidateCard:
        return answer(CandidateCard, await service.card(services.pool, candidate_id=parse_id(candidate_id),
                                                        viewer=staff_of(request), sealer=services.contacts))

    @put("/{candidate_id:str}/texts/{lang:str}", operation_id="setCandidateTexts", guards=[roles("secretariat")])
    async def set_texts(self, request: Request, services: AppServices, candidate_id: FromPath[str],
                        lang: FromPath[TextLang], data: JSONBody[LangTexts]) -> CandidateCard:
        """The card's summary, story and achievements in ``lang``: in the card's own language (``text_lang``)
        they replace the card's; in another one they set that language, and all blank remove it."""
        return answer(CandidateCard, await service.set_texts(
            services.pool, candidate_id=parse_id(candidate_id), lang=lang, data=data, actor=staff_of(request),
            sealer=services.contacts))

    @post("/{candidate_id:str}/transitions", operation_id="transitionCandidate", status_code=200,
          guards=[roles(*TRANSITION_ROLES)])
    async def transition(self, request: Request, services: AppServices, candidate_id: FromPath[str],
                         data: JSONBody[TransitionIn]) -> CandidateCard:
        return answer(CandidateCard, await lifecycle.transition(
            services.pool, candidate_id=parse_id(candidate_id), to=data.to, reason=data.reason,
            actor=staff_of(request), sealer=services.contacts))

    @post("/{candidate_id:str}/verification-requests", operation_id="requestVerification", status_code=201,
          guards=[roles("secretariat")])
    async def request_verification(self, request: Request, services: AppServices, candidate_id: FromPath[str],
                                   data: JSONBody[VerificationRequestIn]) -> VerificationOut:
        return answer(VerificationOut, await verification.request(
            services.pool, candidate_id=parse_id(candidate_id), authority=data.authority,
            question=data.question, actor=staff_of(request)))

    @post("/{candidate_id:str}/reviews", operation_id="addReview", status_code=201, guards=[roles("expert")])
    async def review(self, request: Request, services: AppServices, candidate_id: FromPath[str],
                     data: JSONBody[ReviewIn]) -> ReviewOut:
        return answer(ReviewOut, await reviews.add(services.pool, candidate_id=parse_id(candidate_id),
                                                   recommend=data.recommend, motivation=data.motivation,
                                                   actor=staff_of(request)))


class VerificationController(Controller):
    path = "/verification-requests"
    tags = ["candidates"]
    guards = [roles("secretariat")]

    @patch("/{request_id:str}", operation_id="recordVerificationOutcome")
    async def record_outcome(self, request: Request, services: AppServices, request_id: FromPath[str],
                             data: JSONBody[VerificationOutcomeIn]) -> VerificationOut:
        return answer(VerificationOut, await verification.record_outcome(
            services.pool, request_id=parse_id(request_id, "verification request"), outcome=data.outcome,
            notes=data.notes, actor=staff_of(request)))
