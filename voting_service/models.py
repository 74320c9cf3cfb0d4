"""Request and response bodies of the public API (msgspec: unknown fields refused, types strict)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from shared.identity import E164_KZ_MOBILE
from shared.reference import MIN_BIRTH_YEAR, Gender, Region, Sphere, max_birth_year
from shared.text import URL_PATTERN, CleanInput, line, prose

Name = line(2, 200)
# Documented in E.164; the service also accepts the usual spellings (+7 701 123 45 67, 8 701 ...).
Phone = Annotated[str, Meta(max_length=32, examples=["+77011234567"],
                            extra_json_schema={"extra": {"pattern": E164_KZ_MOBILE}})]


class Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Unknown fields refused. No free text, so no ``__post_init__``: the vote body is decoded on the hot path."""


class Input(CleanInput, forbid_unknown_fields=True, frozen=True):
    """Unknown fields refused; text fields normalised and checked (shared/text.py)."""


class OtpRequest(Strict):
    phone: Phone


class OtpSent(msgspec.Struct):
    expires_in: int
    resend_after: int


class OtpVerify(Strict):
    phone: Phone
    code: Annotated[str, Meta(max_length=16, examples=["123456"])]


class VoterToken(msgspec.Struct):
    token: str
    expires_at: datetime


class VoteIn(Strict):
    candidate_id: Annotated[str, Meta(min_length=1, max_length=32)]


class VoteAccepted(msgspec.Struct):
    receipt: str
    candidate_id: str
    votes_left: int


class MyVotes(msgspec.Struct, omit_defaults=True):
    """``candidate_ids`` only after a recent sign-in (``MY_VOTES_FRESH_S``, 5 min): a voter cannot show a
    buyer whom they chose with an old token; otherwise ``fresh_sign_in_needed`` says why they are missing."""

    votes_left: int
    candidate_ids: list[str] | msgspec.UnsetType = msgspec.UNSET
    fresh_sign_in_needed: bool = False


class Title(msgspec.Struct):
    kk: str
    ru: str
    en: str


class Campaign(msgspec.Struct):
    id: str
    slug: str
    title: Title
    status: Literal["draft", "scheduled", "open", "closed", "finalised"]
    opens_at: datetime
    closes_at: datetime
    votes_per_voter: int
    seats: int
    live_results: bool


class AchievementOut(msgspec.Struct):
    claim: str
    evidence_url: str | None = None


class CandidateTexts(msgspec.Struct):
    summary: str = ""
    story: str = ""
    achievements: list[AchievementOut] = []


class BallotCandidate(msgspec.Struct):
    """A ballot entry. ``summary``, ``story`` and ``achievements`` are written in ``text_lang``; ``texts`` holds
    the same in other languages (any may be missing): pick one with shared/texts.py ``localized_texts``."""
    id: str
    full_name: str
    region: str
    sphere: str
    summary: str
    photo_url: str | None
    gender: str | None = None
    text_lang: Literal["kk", "ru", "en"] = "ru"
    story: str = ""
    achievements: list[AchievementOut] = []
    texts: dict[str, CandidateTexts] = {}


class CandidateVotes(msgspec.Struct):
    candidate_id: str
    votes: int


class Results(msgspec.Struct, omit_defaults=True):
    """Live tallies before finalisation; after it the frozen VALID counts (``finalised``: true, ``as_of`` the
    time of finalisation, ``invalidated_votes`` not counted, ``seats`` the selected ids in rank order)."""
    campaign_id: str
    status: str
    total_votes: int
    candidates: list[CandidateVotes]
    as_of: datetime
    finalised: bool = False
    invalidated_votes: int | None = None
    seats: list[str] | None = None
    tree_head: PublishedTreeHead | None = None  # after finalisation (RFC 9162 scheme): the signed tree head


class ReceiptTreeHead(msgspec.Struct):
    tree_size: int
    root_hash: str
    digest: str
    signature: str
    key_id: str
    public_key: str


class TreeHead(ReceiptTreeHead):
    """The signed tree head of a finalised campaign (API.md, docs/verify.md): ``signature`` is Ed25519 (base64)
    over the canonical JSON of ``{campaign_id, tree_size, root_hash, digest}``; ``public_key`` the raw 32-byte
    key in base64; ``key_id`` the first 16 hex digits of its SHA-256. ``invalidated_votes``: votes not counted."""
    campaign_id: str
    invalidated_votes: int


class PublishedTreeHead(TreeHead):
    url: str  # where it is served on its own


class InclusionProof(msgspec.Struct):
    """RFC 9162 inclusion proof: ``audit_path`` bottom up, hex. The leaf is ``b"faces-leaf-v1" 0x00 campaign_id
    0x00 receipt 0x00 commitment`` (docs/verify.md); ``commitment`` hides the candidate."""
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    commitment: str


class Receipt(msgspec.Struct, omit_defaults=True):
    receipt: str
    campaign_id: str
    status: Literal["accepted", "recorded", "invalidated"]
    proof: InclusionProof | None = None          # once the campaign is finalised, for a counted vote
    tree_head: ReceiptTreeHead | None = None


class ResultSnapshot(msgspec.Struct):
    """The frozen result whose digest is signed: SHA-256 of its canonical JSON (keys sorted, "," ":")."""
    campaign_id: str
    policy: str
    seats: list[dict[str, object]]
    counts: list[dict[str, object]]


class Nominee(Input):
    full_name: Name
    region: Region
    sphere: Sphere
    gender: Gender
    # The upper bound is read from the clock once, at import; the service checks it again per request.
    birth_year: Annotated[int, Meta(ge=MIN_BIRTH_YEAR, le=max_birth_year())]


class Achievement(Input):
    claim: prose(3, 1000)
    evidence_url: Annotated[str, Meta(max_length=500, pattern=URL_PATTERN)] | None = None


class Nominator(Input):
    kind: Literal["self", "third_party"]
    full_name: Name
    phone: Phone


class Consent(Strict):
    """The nominator's consent, as ticked on the form: ``processing`` (of the personal data in the nomination)
    must be true; a third-party nomination also states that the nominee will be asked."""
    processing: bool  # must be true: false is 422 with field consent.processing
    nominee_will_be_asked: bool = False


class NominationIn(Input):
    nominee: Nominee
    story: prose(20, 10_000)
    achievements: Annotated[list[Achievement], Meta(min_length=1, max_length=20)]
    nominated_by: Nominator
    consent: Consent | None = None


class NominationReceived(msgspec.Struct):
    nomination_id: str
    status: Literal["received"] = "received"
    reference: str = ""  # NF-XXXX-XXXX: look the nomination up with GET /api/v1/nominations/status/{reference}
    phone_confirmed: bool = False  # the request carried a voter token of the nominator's phone


class NominationStatus(msgspec.Struct):
    reference: str
    status: Literal["received", "accepted", "merged", "rejected"]
    received_at: datetime


class OutboxEntry(msgspec.Struct):
    phone: str
    text: str
    code: str
    sent_at: str


class Health(msgspec.Struct, frozen=True):
    status: Literal["ok", "ready"]
