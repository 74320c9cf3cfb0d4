"""Nominating someone (``/nominate``): the nominee, their story and achievements, the nominator's name and the
phone they signed in with (so the number is confirmed by a code), explicit consent; then a reference to look
the nomination up at ``/nominate/status?ref=``.

Checked field by field here so that each problem is named at its field in the page's language; the same
NominationService as ``POST /api/v1/nominations`` then checks and stores it (sealed contact, pseudonym only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post

from shared.crypto import pseudonym
from shared.errors import InvalidRequest, NotFound, RateLimited
from shared.identity import normalise_kz_mobile
from shared.reference import GENDERS, MIN_BIRTH_YEAR, max_birth_year, region_codes, sphere_codes
from shared.text import LINE, PROSE, URL_PATTERN, clean
from voting_service import metrics
from voting_service.deps import client_of
from voting_service.services.nominations import normalise_reference
from voting_service.portal import csrf, session
from voting_service.portal.forms import FormErrors, fields_of, flow_page, one, wait_text
from voting_service.portal.challenge import FIELD as CHALLENGE_FIELD, challenge_page
from voting_service.services.challenge import ChallengeFailed, ChallengeRequired
from shared.client_ip import Client
from voting_service.portal.render import see_other
from voting_service.state import AppServices, Services

ROWS = 3                              # achievement rows on the form
CONSENT_VERSION = "portal-2026-12"    # the consent texts (nominate.consent.*) the nominator agreed to
_URL = re.compile(URL_PATTERN)
TEXT_FIELDS = ("kind", "full_name", "region", "sphere", "gender", "birth_year", "story", "nominator_name",
               "nominator_phone")


# --- the calls into the nomination service (voting_service/services/nominations.py) ---------------------------

async def submit_nomination(services: Services, body: Mapping[str, Any], *, ip_hash: str, voter: str,
                            client: Client | None = None, solution: str | None = None) -> str:
    """Check ``body`` (shaped like the JSON body of POST /api/v1/nominations) and store it, confirmed by the
    signed-in voter's phone, with the consent text this form shows; its reference. ``InvalidRequest`` names
    the refused field in ``extra["field"]`` (``service_error`` maps it to the form)."""
    data = services.nominations.parse(body)
    receipt = await services.nominations.submit(data, ip_hash=ip_hash, voter=voter,
                                                consent_text_version=CONSENT_VERSION, client=client,
                                                solution=solution)
    return receipt.reference


async def nomination_status(services: Services, reference: str, *, ip_hash: str) -> dict[str, Any]:
    """``{reference, status, received_at}``; NotFound for an unknown reference, RateLimited per network."""
    return await services.nominations.status(reference, ip_hash=ip_hash)


# The service's field paths (dotted, as in its problem documents) -> the form's field ids and messages.
_SERVICE_FIELDS: dict[str, tuple[str, str]] = {
    "nominee.full_name": ("full_name", ""),
    "nominee.region": ("region", "nominate.error.region"),
    "nominee.sphere": ("sphere", "nominate.error.sphere"),
    "nominee.gender": ("gender-female", "nominate.error.gender"),
    "nominee.birth_year": ("birth_year", "nominate.error.year_range"),
    "story": ("story", ""),
    "achievements": ("claim_0", "nominate.error.claim_missing"),
    "nominated_by.kind": ("kind-self", "nominate.error.kind"),
    "nominated_by.full_name": ("nominator_name", ""),
    "nominated_by.phone": ("nominator_phone", "signin.error.phone_invalid"),
    "consent.processing": ("consent_processing", "nominate.error.consent_processing"),
    "consent.nominee_will_be_asked": ("consent_nominee", "nominate.error.consent_nominee"),
}
_ACHIEVEMENT_FIELD = re.compile(r"achievements\[(\d+)\]\.(claim|evidence_url)")
_NAMED = re.compile(r"`(\w+)`")
_LENGTH = re.compile(r"length (>=|<=) (\d+)")


def service_error(exc: InvalidRequest, errors: FormErrors, rows: list[int]) -> bool:
    """Put the service's refusal at its field of the form (``rows``: the form row of each achievement sent);
    False when it names no field the form has."""
    path = str((exc.extra or {}).get("field") or "")
    detail = str(exc.detail)
    named = _NAMED.match(detail)
    if path and named and path in ("nominee", "nominated_by"):  # a check of the whole object names its field
        path = f"{path}.{named.group(1)}"
    m = _ACHIEVEMENT_FIELD.fullmatch(path)
    if m is not None:
        row = rows[int(m.group(1))] if int(m.group(1)) < len(rows) else 0
        field_id, key = (f"claim_{row}", "") if m.group(2) == "claim" else (f"url_{row}", "nominate.error.url")
    elif path in _SERVICE_FIELDS:
        field_id, key = _SERVICE_FIELDS[path]
    else:
        return False
    if key == "nominate.error.year_range":
        errors.add(field_id, key, lo=MIN_BIRTH_YEAR, hi=max_birth_year())
    elif key:
        errors.add(field_id, key)
    elif (length := _LENGTH.search(detail)) is not None:  # a text field: too short, too long
        errors.add(field_id, "nominate.error.too_short" if length.group(1) == ">=" else "nominate.error.too_long",
                   n=int(length.group(2)))
    else:
        errors.add(field_id, "nominate.error.characters")
    return True


# --- the form ------------------------------------------------------------------------------------------------

def _blank() -> dict[str, Any]:
    return {**dict.fromkeys(TEXT_FIELDS, ""), "claims": [""] * ROWS, "urls": [""] * ROWS,
            "consent_processing": False, "consent_nominee": False}


def _values(fields: dict[str, list[str]]) -> dict[str, Any]:
    """What was typed, to show again."""
    v = _blank()
    for name in TEXT_FIELDS:
        v[name] = one(fields, name) if name != "story" else (fields.get("story") or [""])[0]
    for i in range(ROWS):
        v["claims"][i] = one(fields, f"claim_{i}")
        v["urls"][i] = one(fields, f"url_{i}")
    v["consent_processing"] = one(fields, "consent_processing") == "yes"
    v["consent_nominee"] = one(fields, "consent_nominee") == "yes"
    return v


def _text(errors: FormErrors, field_id: str, value: str, *, kind: str, lo: int, hi: int,
          missing: str) -> str:
    if not value.strip():
        errors.add(field_id, missing)
        return ""
    try:
        return clean(value, field=field_id, kind=kind, min_length=lo, max_length=hi)
    except ValueError as exc:
        text = str(exc)
        if "at least" in text:
            errors.add(field_id, "nominate.error.too_short", n=lo)
        elif "at most" in text:
            errors.add(field_id, "nominate.error.too_long", n=hi)
        else:
            errors.add(field_id, "nominate.error.characters")
        return ""


def check(v: dict[str, Any], errors: FormErrors, *, voter: str, pseudonym_key: bytes) -> dict[str, Any] | None:
    """The request body of POST /api/v1/nominations from the form, or None with ``errors`` filled."""
    if v["kind"] not in ("self", "third_party"):
        errors.add("kind-self", "nominate.error.kind")
    name = _text(errors, "full_name", v["full_name"], kind=LINE, lo=2, hi=200, missing="nominate.error.name_missing")
    if v["region"] not in region_codes():
        errors.add("region", "nominate.error.region")
    if v["sphere"] not in sphere_codes():
        errors.add("sphere", "nominate.error.sphere")
    if v["gender"] not in GENDERS:
        errors.add("gender-female", "nominate.error.gender")
    year = int(v["birth_year"]) if v["birth_year"].isascii() and v["birth_year"].isdigit() else None
    if not v["birth_year"]:
        errors.add("birth_year", "nominate.error.year_missing")
    elif year is None or not MIN_BIRTH_YEAR <= year <= max_birth_year():
        errors.add("birth_year", "nominate.error.year_range", lo=MIN_BIRTH_YEAR, hi=max_birth_year())
    story = _text(errors, "story", v["story"], kind=PROSE, lo=20, hi=10_000, missing="nominate.error.story_missing")
    achievements = []
    for i in range(ROWS):
        claim, url = v["claims"][i], v["urls"][i]
        if not claim and not url:
            continue
        if url and (len(url) > 500 or not _URL.match(url)):
            errors.add(f"url_{i}", "nominate.error.url")
        if not claim:
            errors.add(f"claim_{i}", "nominate.error.claim_for_url")
            continue
        text = _text(errors, f"claim_{i}", claim, kind=PROSE, lo=3, hi=1000, missing="nominate.error.claim_missing")
        achievements.append({"claim": text, "evidence_url": url or None})
    if not achievements and not any(v["claims"]):
        errors.add("claim_0", "nominate.error.claim_missing")
    nominator = v["nominator_name"] or (v["full_name"] if v["kind"] == "self" else "")
    nominator = _text(errors, "nominator_name", nominator, kind=LINE, lo=2, hi=200,
                      missing="nominate.error.nominator_missing")
    phone = normalise_kz_mobile(v["nominator_phone"])
    if not v["nominator_phone"]:
        errors.add("nominator_phone", "nominate.error.phone_missing")
    elif phone is None:
        errors.add("nominator_phone", "signin.error.phone_invalid")
    elif pseudonym(pseudonym_key, "voter", phone) != voter:
        errors.add("nominator_phone", "nominate.error.phone_not_yours")
    if not v["consent_processing"]:
        errors.add("consent_processing", "nominate.error.consent_processing")
    if v["kind"] == "third_party" and not v["consent_nominee"]:
        errors.add("consent_nominee", "nominate.error.consent_nominee")
    if errors:
        return None
    return {
        "nominee": {"full_name": name, "region": v["region"], "sphere": v["sphere"], "gender": v["gender"],
                    "birth_year": year},
        "story": story, "achievements": achievements,
        "nominated_by": {"kind": v["kind"], "full_name": nominator, "phone": phone},
        "consent": {"processing": True, "nominee_will_be_asked": v["kind"] == "third_party"},
    }


def _form(request: Request, services: Services, values: dict[str, Any], *, status: int = 200,
          errors: FormErrors | None = None, message: Any = None) -> Response[bytes]:
    token, cookies = csrf.form_token(request, services)
    return flow_page(request, services, "flows/nominate.html", status=status, v=values, errors=errors or FormErrors(),
                     rows=ROWS, genders=GENDERS, min_year=MIN_BIRTH_YEAR, max_year=max_birth_year(),
                     message=message, csrf_token=token, cookies=cookies)


class NominatePages(Controller):
    path = "/nominate"
    tags = ["portal"]

    @get("/", operation_id="portalNominateForm", name="portal:nominate")
    async def form(self, request: Request, services: AppServices) -> Response[Any]:
        if session.voter_claims(request, services) is None:
            return see_other("/signin?next=/nominate")
        return _form(request, services, _blank())

    @post("/", operation_id="portalNominate", opt={"form": True}, status_code=303)
    async def submit(self, request: Request, services: AppServices) -> Response[Any]:
        fields = await fields_of(request)
        values = _values(fields)
        try:
            csrf.verify(request, services, one(fields, csrf.FIELD))
        except csrf.CsrfFailed:  # keep what was typed: one more press sends it
            return _form(request, services, values, status=403, message=("form.csrf_failed", {}))
        claims = session.voter_claims(request, services)
        if claims is None:  # the sign-in expired while the form was filled in
            return _form(request, services, values, status=401, message=("nominate.error.signed_out", {}))
        errors = FormErrors()
        body = check(values, errors, voter=claims.voter, pseudonym_key=services.settings.secrets.pseudonym_key)  # type: ignore[attr-defined]
        if body is None:
            return _form(request, services, values, status=422, errors=errors)
        try:
            client = client_of(request, services)
            reference = await submit_nomination(services, body, ip_hash=client.ip_hash, voter=claims.voter,
                                                client=client, solution=one(fields, CHALLENGE_FIELD) or None)
        except ChallengeRequired as exc:
            return challenge_page(request, services, route="nomination", action="/nominate", fields=fields,
                                  challenge=exc.challenge)
        except ChallengeFailed:
            return challenge_page(request, services, route="nomination", action="/nominate", fields=fields,
                                  failed=True)
        except InvalidRequest as exc:
            # The service's own checks, stricter than the form's in some corner: at the field they name.
            if service_error(exc, errors, rows=[i for i in range(ROWS) if values["claims"][i]]):
                return _form(request, services, values, status=422, errors=errors)
            return _form(request, services, values, status=422, message=("nominate.error.refused", {}))
        except RateLimited as exc:
            return _form(request, services, values, status=429,
                         message=("nominate.error.rate_limited", {"wait": wait_text(exc.retry_after)}))
        metrics.nominations().inc()
        return see_other(f"/nominate/status?ref={quote(reference)}&sent=1")

    @get("/status", operation_id="portalNominationStatus", name="portal:nomination-status")
    async def status(self, request: Request, services: AppServices) -> Response[Any]:
        typed = request.query_params.get("ref")
        errors = FormErrors()
        if typed is None:
            return flow_page(request, services, "flows/nomination_status.html", ref="", found=None, errors=errors,
                             sent=False)
        ref = normalise_reference(typed)
        found, code = None, 422
        if not typed.strip():
            errors.add("ref", "nominate.status.error.missing")
        elif ref is None:
            errors.add("ref", "nominate.status.error.format")
        else:
            try:
                found = await nomination_status(services, ref, ip_hash=client_of(request, services).ip_hash)
            except NotFound:
                errors.add("ref", "nominate.status.error.not_found")
            except RateLimited as exc:
                code = 429
                errors.add("ref", "nominate.status.error.rate_limited", wait=wait_text(exc.retry_after))
        return flow_page(request, services, "flows/nomination_status.html", status=code if errors else 200,
                         ref=typed[:32], found=found, errors=errors,
                         sent=request.query_params.get("sent") == "1" and found is not None)
