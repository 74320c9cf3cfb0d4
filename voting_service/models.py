"""Request and response bodies of the public API (msgspec: unknown fields refused, types strict)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Region = Annotated[str, Meta(pattern=r"^KZ-[0-9]{2}$", description="ISO 3166-2:KZ code")]
Sphere = Literal["public_political", "socio_economic", "education_science", "healthcare", "culture_sport",
                 "military_law", "social"]
Gender = Literal["female", "male"]
Name = Annotated[str, Meta(min_length=2, max_length=200)]


class Input(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class OtpRequest(Input):
    phone: Annotated[str, Meta(max_length=32, examples=["+77011234567"])]


class OtpSent(msgspec.Struct):
    expires_in: int
    resend_after: int


class OtpVerify(Input):
    phone: Annotated[str, Meta(max_length=32)]
    code: Annotated[str, Meta(max_length=16, examples=["123456"])]


class VoterToken(msgspec.Struct):
    token: str
    expires_at: datetime


class VoteIn(Input):
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


class BallotCandidate(msgspec.Struct):
    id: str
    full_name: str
    region: str
    sphere: str
    summary: str
    photo_url: str | None
    gender: str | None = None


class CandidateVotes(msgspec.Struct):
    candidate_id: str
    votes: int


class Results(msgspec.Struct):
    campaign_id: str
    status: str
    total_votes: int
    candidates: list[CandidateVotes]
    as_of: datetime


class Receipt(msgspec.Struct):
    receipt: str
    campaign_id: str
    status: Literal["accepted", "recorded", "invalidated"]


class Nominee(Input):
    full_name: Name
    region: Region
    sphere: Sphere
    gender: Gender
    birth_year: Annotated[int, Meta(ge=1900, le=2015)]


class Achievement(Input):
    claim: Annotated[str, Meta(min_length=3, max_length=1000)]
    evidence_url: Annotated[str, Meta(max_length=500, pattern=r"^https?://[^\s/$.?#][^\s]*$")] | None = None


class Nominator(Input):
    kind: Literal["self", "third_party"]
    full_name: Name
    phone: Annotated[str, Meta(max_length=32)]


class NominationIn(Input):
    nominee: Nominee
    story: Annotated[str, Meta(min_length=20, max_length=10_000)]
    achievements: Annotated[list[Achievement], Meta(min_length=1, max_length=20)]
    nominated_by: Nominator


class NominationReceived(msgspec.Struct):
    nomination_id: str
    status: Literal["received"] = "received"


class OutboxEntry(msgspec.Struct):
    phone: str
    text: str
    code: str
    sent_at: str
