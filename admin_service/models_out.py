"""Typed answers of the admin JSON API, so the OpenAPI document says what comes back.

The services build plain dicts (they also feed the web UI); handlers convert them here with ``answer``.
Every answer Struct refuses unknown fields, so a key a service adds without adding it here fails loudly in
the tests instead of silently vanishing from the API. Optional members use ``UNSET`` (left out when absent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

T = TypeVar("T", bound=msgspec.Struct)


class Out(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


def answer(kind: type[T], data: Any) -> T:
    """``data`` (a service's dict) as the answer Struct ``kind``."""
    return msgspec.convert(data, kind, strict=True)


def answers(kind: type[T], data: list[Any]) -> list[T]:
    return msgspec.convert(data, list[kind], strict=True)  # type: ignore[valid-type]


class BallotEntryOut(Out):
    id: str
    position: int
    full_name: str
    region: str
    sphere: str
    gender: str | None
    ethnicity: str | None
    birth_year: int | None
    status: str
    summary: str | None


class CampaignOut(Out):
    id: str
    slug: str
    title: dict[str, str]
    state: Literal["draft", "published", "closed", "finalised"]
    status: Literal["draft", "scheduled", "open", "closed", "finalised"]
    opens_at: datetime
    closes_at: datetime
    votes_per_voter: int
    seats: int
    live_results: bool
    shards: int
    ballot_size: int
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
    finalised_at: datetime | None
    ballot: list[BallotEntryOut] | UnsetType = UNSET  # one campaign's view: its ballot in order
    projected: bool | UnsetType = UNSET  # publish/close: whether Redis already has it (else the flusher will)


class Page(Out):
    """A page of a listing; the items' fields are those of the listing's card view."""
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


class SourceOut(Out):
    kind: str
    name: str


class HistoryOut(Out):
    from_status: str | None = msgspec.field(name="from")
    to: str
    reason: str | None
    actor: str | None
    actor_id: str | None
    at: datetime


class ReviewOut(Out):
    id: str
    candidate_id: str
    expert_id: str
    expert: str | None
    recommend: bool
    motivation: str
    created_at: datetime


class ReviewSummaryOut(Out):
    recommend: int
    against: int


class VerificationOut(Out):
    id: str
    candidate_id: str
    authority: str
    question: str
    status: str
    notes: str | None
    requested_by: str | None
    requested_at: datetime
    answered_by: str | None
    answered_at: datetime | None


class CandidateCard(Out):
    """A candidate's card: the summary, the story and claims, history, reviews, verification requests, the
    transitions the viewer may make; ``contact`` only for roles that may read it."""
    id: str
    full_name: str
    region: str
    sphere: str
    gender: str
    birth_year: int
    ethnicity: str | None
    summary: str
    source: SourceOut
    status: str
    created_at: datetime
    updated_at: datetime
    story: str
    achievements: list[dict[str, Any]]
    photo_url: str | None
    text_lang: Literal["kk", "ru", "en"]  # the language of summary, story and achievements
    texts: dict[str, dict[str, Any]]  # the same in other languages: {lang: {summary, story, achievements}}
    duplicate_of: str | None
    has_contact: bool
    history: list[HistoryOut]
    reviews: list[ReviewOut]
    review_summary: ReviewSummaryOut
    verification_requests: list[VerificationOut]
    allowed_transitions: list[str]
    contact: dict[str, str] | UnsetType = UNSET


class InvalidationOut(Out):
    invalidated: int
    already_invalid: int
    per_candidate: dict[str, int]  # candidate id -> votes invalidated now
    cluster_id: str | UnsetType = UNSET


class NominatorOut(Out):
    kind: str
    full_name: str | None | UnsetType = UNSET  # only for roles that may read contact details
    phone: str | None | UnsetType = UNSET


class ConsentOut(Out):
    processing: bool
    nominee_will_be_asked: bool
    text_version: str
    at: str


class NominationOut(Out):
    id: str
    reference: str  # NF-XXXX-XXXX, what the nominator looks the status up with
    status: Literal["received", "accepted", "merged", "rejected"]
    nominee: dict[str, Any]
    story: str
    achievements: list[dict[str, Any]]
    nominated_by: NominatorOut
    created_at: datetime
    candidate_id: str | None
    triage_reason: str | None
    triaged_by: str | None
    triaged_at: datetime | None
    consent: ConsentOut | None  # None: sent through the JSON API without one
    phone_confirmed: bool  # the nominator signed in with the nominator's phone (an SMS code)


class TriageOut(Out):
    id: str
    status: Literal["accepted", "merged", "rejected"]
    candidate_id: str | None
    triage_reason: str | None


class ResultRowOut(Out):
    candidate_id: str
    full_name: str
    region: str
    sphere: str
    gender: str
    raw: int  # recorded in Postgres
    invalidated: int  # by fraud review
    valid: int  # raw - invalidated
    accepted: int | UnsetType = UNSET  # the live tally in Redis, ahead of raw by what the flusher has not written


class TotalsOut(Out):
    raw: int
    invalidated: int
    valid: int


class ResultsOut(Out):
    campaign_id: str
    state: str
    seats: int
    candidates: list[ResultRowOut]
    totals: TotalsOut


class ShareRowOut(Out):
    code: str
    name: Any
    count: int
    share: float
    population_share: float | UnsetType = UNSET
    expected: float | UnsetType = UNSET
    difference: float | UnsetType = UNSET


class CompositionOut(Out):
    campaign_id: str
    total: int
    region: list[ShareRowOut]
    sphere: list[ShareRowOut]
    gender: list[ShareRowOut]
    ethnicity: list[ShareRowOut]
    sources: dict[str, str]


class FinalisationOut(Out):
    """The frozen result of a campaign; ``seats``, ``counts`` and ``report`` are described in API.md and
    docs (digest over the canonical JSON of campaign_id, policy, seats, counts)."""
    campaign_id: str
    finalised_at: datetime
    finalised_by: str
    policy: str
    seats: list[dict[str, Any]]
    counts: list[dict[str, Any]]
    digest: str
    merkle_root: str
    merkle_scheme: Literal["legacy-v0", "rfc9162-v1"]
    counted_votes: int
    report: dict[str, Any]
    projected: bool | UnsetType = UNSET  # POST finalise: whether Redis already has the new state
    # The signed tree head (API.md; none for snapshots of the legacy scheme): the tree's size (= counted_votes),
    # the Ed25519 signature over {campaign_id, tree_size, root_hash = merkle_root, digest}, the key's id and the
    # public key (base64 of its 32 bytes).
    tree_size: int | UnsetType = UNSET
    signature: str | UnsetType = UNSET
    key_id: str | UnsetType = UNSET
    public_key: str | UnsetType = UNSET


class FinalisationPreviewOut(Out):
    """What finalise would freeze now under ``policy`` (the same ``seats``, ``counts``, ``report`` and
    ``digest``), with nothing frozen (``frozen`` is false); the Merkle root is computed only at the freeze."""
    campaign_id: str
    previewed_at: datetime
    previewed_by: str
    frozen: bool
    policy: str
    seats: list[dict[str, Any]]
    counts: list[dict[str, Any]]
    digest: str
    counted_votes: int
    report: dict[str, Any]


class FraudFlagsOut(Out):
    """Flagged clusters, highest score first (each with its signals and the reasons in words)."""
    campaign_id: str
    total: int
    limit: int
    offset: int
    computed_at: datetime
    thresholds: dict[str, Any]
    items: list[dict[str, Any]]
