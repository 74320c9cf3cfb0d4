"""Request bodies of the candidate, verification, review, nomination and campaign APIs (unknown fields refused).

Types and lengths are checked here by msgspec; what needs reference data or the clock (region codes, birth
year, dates in the past) is checked by the services, so the web UI gets the same answers as the JSON API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta

from admin_service.models import Input

Region = Annotated[str, Meta(pattern=r"^KZ-[0-9]{2}$", description="ISO 3166-2:KZ code", examples=["KZ-75"])]
Sphere = Literal["public_political", "socio_economic", "education_science", "healthcare", "culture_sport",
                 "military_law", "social"]
Gender = Literal["female", "male"]
Ethnicity = Literal["kazakh", "russian", "uzbek", "ukrainian", "uyghur", "german", "tatar", "azerbaijani",
                    "korean", "other"]
SourceKind = Literal["akimat", "city", "working_group_member", "assembly", "party", "expert_community", "ngo",
                     "bureau_100", "self", "third_party"]
CandidateStatus = Literal["nominated", "under_verification", "verified", "rejected", "under_review", "recommended",
                          "not_recommended", "shortlisted", "declined", "on_ballot", "finalist", "not_selected"]
Name = Annotated[str, Meta(min_length=2, max_length=200)]
Url = Annotated[str, Meta(max_length=500, pattern=r"^https?://[^\s/$.?#][^\s]*$")]
Reason = Annotated[str, Meta(max_length=4000)]
Id = Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[0-9]+$")] | Annotated[int, Meta(ge=1)]


class Source(Input):
    kind: SourceKind
    name: Annotated[str, Meta(max_length=300)] = ""


class Achievement(Input):
    claim: Annotated[str, Meta(min_length=3, max_length=1000)]
    evidence_url: Url | None = None


class Contact(Input):
    phone: Annotated[str, Meta(max_length=32)] | None = None
    email: Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None


class CandidateIn(Input):
    full_name: Name
    region: Region
    sphere: Sphere
    gender: Gender
    birth_year: Annotated[int, Meta(ge=1900, le=2100)]
    source: Source
    story: Annotated[str, Meta(min_length=20, max_length=20_000)]
    achievements: Annotated[list[Achievement], Meta(min_length=1, max_length=30)]
    ethnicity: Ethnicity | None = None
    summary: Annotated[str, Meta(max_length=500)] = ""
    photo_url: Url | None = None
    contact: Contact | None = None


class TransitionIn(Input):
    to: CandidateStatus
    reason: Reason = ""


class VerificationRequestIn(Input):
    authority: Annotated[str, Meta(min_length=2, max_length=300)]
    question: Annotated[str, Meta(min_length=5, max_length=4000)]


class VerificationOutcomeIn(Input):
    outcome: Literal["confirmed", "refuted"]
    notes: Reason = ""


class ReviewIn(Input):
    recommend: bool
    motivation: Annotated[str, Meta(max_length=10_000)]


class MergeIn(Input):
    candidate_id: Id
    reason: Reason = ""


class RejectIn(Input):
    reason: Reason


class Title(Input):
    kk: Annotated[str, Meta(min_length=1, max_length=200)]
    ru: Annotated[str, Meta(min_length=1, max_length=200)]
    en: Annotated[str, Meta(min_length=1, max_length=200)]


class CampaignIn(Input):
    slug: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["season-2026"])]
    title: Title
    opens_at: Annotated[datetime, Meta(tz=True)]
    closes_at: Annotated[datetime, Meta(tz=True)]
    votes_per_voter: Annotated[int, Meta(ge=1, le=50)]
    seats: Annotated[int, Meta(ge=1, le=1000)] = 100
    live_results: bool = False
    shards: Annotated[int, Meta(ge=1, le=1024)] = 1


class BallotIn(Input):
    candidate_ids: Annotated[list[Id], Meta(max_length=1000)]
