"""Request bodies of the candidate, verification, review, nomination and campaign APIs (unknown fields refused).

Types and lengths are checked here by msgspec; what needs reference data or the clock (region codes, birth
year, dates in the past) is checked by the services, so the web UI gets the same answers as the JSON API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from msgspec import Meta

from admin_service.models import Email, Input
from shared.identity import E164_KZ_MOBILE
from shared.reference import MIN_BIRTH_YEAR, Gender, Region, Sphere, max_birth_year
from shared.text import URL_PATTERN, line, prose

Ethnicity = Literal["kazakh", "russian", "uzbek", "ukrainian", "uyghur", "german", "tatar", "azerbaijani",
                    "korean", "other"]
SourceKind = Literal["akimat", "city", "working_group_member", "assembly", "party", "expert_community", "ngo",
                     "bureau_100", "self", "third_party"]
CandidateStatus = Literal["nominated", "under_verification", "verified", "rejected", "under_review", "recommended",
                          "not_recommended", "shortlisted", "declined", "on_ballot", "finalist", "not_selected"]
Name = line(2, 200)
Url = Annotated[str, Meta(max_length=500, pattern=URL_PATTERN)]
Reason = prose(0, 4000)
# An id as a string of digits or a number (services.common.parse_id: 1 .. 18 digits).
Id = (Annotated[str, Meta(min_length=1, max_length=18, pattern=r"^[1-9][0-9]{0,17}$")]
      | Annotated[int, Meta(ge=1, le=10**18 - 1)])


class Source(Input):
    kind: SourceKind
    name: line(0, 300) = ""


class Achievement(Input):
    claim: prose(3, 1000)
    evidence_url: Url | None = None


class Contact(Input):
    # Documented in E.164; the usual spellings (+7 701 123 45 67, 8 701 ...) are accepted too.
    phone: Annotated[str, Meta(max_length=32, extra_json_schema={"extra": {"pattern": E164_KZ_MOBILE}})] | None = None
    email: Email | None = None


TextLang = Literal["kk", "ru", "en"]


class LangTexts(Input):
    """A candidate's texts in one language: an entry of ``texts`` at intake, and the body of
    PUT /candidates/{id}/texts/{lang}, which replaces summary, story and achievements when ``lang`` is the
    card's ``text_lang`` (the story stays required) and otherwise sets that language (all blank removes it)."""
    summary: prose(0, 500) = ""
    story: prose(0, 20_000) = ""
    achievements: Annotated[list[Achievement], Meta(max_length=30)] = []


class CandidateIn(Input):
    full_name: Name
    region: Region
    sphere: Sphere
    gender: Gender
    # The upper bound is read from the clock at import; the service checks it again per request.
    birth_year: Annotated[int, Meta(ge=MIN_BIRTH_YEAR, le=max_birth_year())]
    source: Source
    story: prose(20, 20_000)
    achievements: Annotated[list[Achievement], Meta(min_length=1, max_length=30)]
    ethnicity: Ethnicity | None = None
    summary: prose(0, 500) = ""
    photo_url: Url | None = None
    contact: Contact | None = None
    # The language of summary, story and achievements; ``texts``: the same in other languages (optional).
    text_lang: TextLang = "ru"
    texts: dict[TextLang, LangTexts] = {}


class TransitionIn(Input):
    to: CandidateStatus
    reason: Reason = ""


class VerificationRequestIn(Input):
    authority: line(2, 300)
    question: prose(5, 4000)


class VerificationOutcomeIn(Input):
    outcome: Literal["confirmed", "refuted"]
    notes: Reason = ""


class ReviewIn(Input):
    recommend: bool
    motivation: prose(20, 10_000)  # reviews.MIN_MOTIVATION


class MergeIn(Input):
    candidate_id: Id
    reason: Reason = ""


class RejectIn(Input):
    reason: prose(3, 4000)


class Title(Input):
    kk: line(1, 200)
    ru: line(1, 200)
    en: line(1, 200)


# A campaign window lies between these: nothing of this project happened before 2000, and a campaign is
# planned at most a few years ahead (a year 9999 is a typo or a probe, never a plan).
EARLIEST_CAMPAIGN = datetime(2000, 1, 1, tzinfo=UTC)
CAMPAIGN_HORIZON = timedelta(days=5 * 366)


class CampaignIn(Input):
    slug: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["season-2026"])]
    title: Title
    opens_at: Annotated[datetime, Meta(tz=True)]
    closes_at: Annotated[datetime, Meta(tz=True)]
    votes_per_voter: Annotated[int, Meta(ge=1, le=50)]
    seats: Annotated[int, Meta(ge=1, le=1000)] = 100
    live_results: bool = False
    shards: Annotated[int, Meta(ge=1, le=1024)] = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        latest = datetime.now(UTC) + CAMPAIGN_HORIZON
        for name in ("opens_at", "closes_at"):
            when = getattr(self, name)
            if not EARLIEST_CAMPAIGN <= when <= latest:
                raise ValueError(f"`{name}` must lie between 2000-01-01 and {latest.date().isoformat()}")
        if self.closes_at <= self.opens_at:
            raise ValueError("`closes_at` must be after `opens_at`")


class BallotIn(Input):
    candidate_ids: Annotated[list[Id], Meta(max_length=1000)]
