"""Signing in by phone, one question per page: the number (``/signin``), then the code (``/signin/code``);
signing out (``/signout``).

The same OtpService as ``POST /api/v1/auth/otp`` and ``/otp/verify`` (limits, metrics and codes are one). The
number never leaves the browser except to be sent the code: between the two pages it travels in a sealed
cookie (session.SIGNIN), and the service keeps only its keyed pseudonym.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import redis.exceptions
from litestar import Controller, Request, Response, get, post

from shared.errors import AppError, InvalidCode, RateLimited
from shared.identity import normalise_kz_mobile
from voting_service import metrics
from voting_service.deps import client_of
from voting_service.portal import csrf, session
from voting_service.portal.forms import FormErrors, fields_of, flow_page, next_path, one, wait_text
from voting_service.portal.render import KZ_TIME, see_other
from voting_service.portal.challenge import FIELD as CHALLENGE_FIELD, challenge_page
from voting_service.services.challenge import ChallengeFailed, ChallengeRequired
from voting_service.services.otp import TooManyAttempts
from voting_service.state import AppServices, Services

OUTAGES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, TimeoutError)


def mask_phone(e164: str) -> str:
    """+77011234567 -> "+7 701 ••• •• 67": enough to recognise one's own number, not to read it out."""
    return f"+7 {e164[2:5]} ••• •• {e164[-2:]}"


def clock(epoch: float) -> str:
    """HH:MM in Kazakhstan time."""
    return dt.datetime.fromtimestamp(epoch, KZ_TIME).strftime("%H:%M")


def _pending(request: Request, services: Services) -> dict[str, Any] | None:
    """The sign-in in progress (sealed cookie): phone, when the code was sent, until when it is valid."""
    data = session.read_sealed(request, services, session.SIGNIN, max_age_s=services.settings.otp_ttl_s)
    if not isinstance(data, dict) or normalise_kz_mobile(str(data.get("phone", ""))) is None:
        return None
    return data


def _start_again(request: Request, services: Services) -> Response[Any]:
    """No sign-in in progress (or it took too long): back to the phone page, which says so."""
    return see_other("/signin", cookies=[session.notice_cookie(request, services, {"k": "code_expired"})])


async def _code_post(request: Request, services: Services) -> tuple[dict[str, list[str]], dict[str, Any] | None]:
    """A post of the code page's forms: its fields (CSRF checked) and the sign-in in progress."""
    fields = await fields_of(request)
    csrf.verify(request, services, one(fields, csrf.FIELD))
    return fields, _pending(request, services)


def _pending_cookie(request: Request, services: Services, phone: str, next_to: str) -> Any:
    now = int(time.time())
    s = services.settings
    data = {"phone": phone, "sent": now, "expires": now + s.otp_ttl_s, "resend": now + s.otp_resend_s,
            "next": next_to}
    return session.sealed_cookie(request, services, session.SIGNIN, data, max_age=s.otp_ttl_s)


async def _send_code(request: Request, services: Services, phone: str, solution: str | None) -> None:
    try:
        await services.otp.request(phone=phone, client=client_of(request, services), solution=solution)
    except AppError as exc:
        metrics.otp_sends().labels(exc.code).inc()
        raise
    metrics.otp_sends().labels("sent").inc()


def _phone_form(request: Request, services: Services, *, status: int = 200, phone: str = "",
                errors: FormErrors | None = None, next_to: str = "/", notice: dict[str, Any] | None = None,
                cookies: list[Any] | None = None, pending: dict[str, Any] | None = None) -> Response[bytes]:
    token, csrf_cookies = csrf.form_token(request, services)
    return flow_page(request, services, "flows/signin_phone.html", status=status, phone=phone,
                errors=errors or FormErrors(), next_path=next_to, notice=notice, csrf_token=token,
                has_code=pending is not None and pending.get("phone") == normalise_kz_mobile(phone or "x"),
                cookies=[*csrf_cookies, *(cookies or [])], query={"next": next_to if next_to != "/" else None})


def _code_form(request: Request, services: Services, pending: dict[str, Any], *, status: int = 200,
               errors: FormErrors | None = None, notice: dict[str, Any] | None = None,
               message: tuple[str, dict[str, Any]] | None = None,
               cookies: list[Any] | None = None) -> Response[bytes]:
    token, csrf_cookies = csrf.form_token(request, services)
    now = time.time()
    return flow_page(request, services, "flows/signin_code.html", status=status, errors=errors or FormErrors(),
                notice=notice, message=message, csrf_token=token, masked=mask_phone(pending["phone"]),
                minutes=max(1, services.settings.otp_ttl_s // 60), valid_until=clock(pending["expires"]),
                resend_at=clock(pending["resend"]), can_resend=now >= pending["resend"],
                attempts=services.settings.otp_max_attempts, next_path=pending.get("next", "/"),
                cookies=[*csrf_cookies, *(cookies or [])])


class SignInPages(Controller):
    path = "/"
    tags = ["portal"]

    @get("/signin", operation_id="portalSignIn", name="portal:signin")
    async def phone_form(self, request: Request, services: AppServices) -> Response[bytes]:
        next_to = next_path(request.query_params.get("next"))
        candidate = request.query_params.get("candidate_id", "")
        if candidate.isascii() and candidate.isdigit() and len(candidate) <= 18 and "#" not in next_to:
            next_to += f"#c{candidate}"  # back to the person they wanted to vote for
        if session.voter_claims(request, services) is not None and request.query_params.get("again") != "1":
            return see_other(next_to if next_to != "/" else "/my-votes")  # ?again=1: a fresh sign-in
        notice, cookies = session.take_notice(request, services)
        return _phone_form(request, services, next_to=next_to, notice=notice, cookies=cookies,
                           pending=_pending(request, services))

    @post("/signin", operation_id="portalSendCode", opt={"form": True}, status_code=303)
    async def send_code(self, request: Request, services: AppServices) -> Response[bytes]:
        fields = await fields_of(request)
        typed, next_to = one(fields, "phone")[:40], next_path(one(fields, "next"))
        csrf.verify(request, services, one(fields, csrf.FIELD))
        errors = FormErrors()
        phone = normalise_kz_mobile(typed)
        if not typed:
            errors.add("phone", "signin.error.phone_missing")
        elif phone is None:
            errors.add("phone", "signin.error.phone_invalid")
        if errors or phone is None:
            return _phone_form(request, services, status=422, phone=typed, errors=errors, next_to=next_to)
        pending = _pending(request, services)
        try:
            await _send_code(request, services, phone, one(fields, CHALLENGE_FIELD) or None)
        except ChallengeRequired as exc:
            return challenge_page(request, services, route="otp", action="/signin", fields=fields,
                                  challenge=exc.challenge)
        except ChallengeFailed:
            return challenge_page(request, services, route="otp", action="/signin", fields=fields, failed=True)
        except RateLimited as exc:
            errors.add("phone", "signin.error.rate_limited", wait=wait_text(exc.retry_after))
            return _phone_form(request, services, status=429, phone=typed, errors=errors, next_to=next_to,
                               pending=pending)
        except OUTAGES:
            errors.add("phone", "signin.error.unavailable")
            return _phone_form(request, services, status=503, phone=typed, errors=errors, next_to=next_to)
        return see_other("/signin/code", cookies=[_pending_cookie(request, services, phone, next_to)])

    @get("/signin/code", operation_id="portalCodeForm", name="portal:signin-code")
    async def code_form(self, request: Request, services: AppServices) -> Response[bytes]:
        pending = _pending(request, services)
        if pending is None:
            return _start_again(request, services)
        notice, cookies = session.take_notice(request, services)
        return _code_form(request, services, pending, notice=notice, cookies=cookies)

    @post("/signin/code", operation_id="portalCheckCode", opt={"form": True}, status_code=303)
    async def check_code(self, request: Request, services: AppServices) -> Response[bytes]:
        fields, pending = await _code_post(request, services)
        if pending is None:
            return _start_again(request, services)
        code = "".join(one(fields, "code").split())
        errors = FormErrors()
        if not code:
            errors.add("code", "signin.error.code_missing")
        elif len(code) != 6 or not code.isascii() or not code.isdigit():
            errors.add("code", "signin.error.code_format")  # cannot be right: not counted as a guess
        if errors:
            return _code_form(request, services, pending, status=422, errors=errors)
        try:
            token, expires_at = await services.otp.verify(phone=pending["phone"], code=code,
                                                          client=client_of(request, services),
                                                          solution=one(fields, CHALLENGE_FIELD) or None)
        except ChallengeRequired as exc:
            return challenge_page(request, services, route="verify", action="/signin/code", fields=fields,
                                  challenge=exc.challenge)
        except ChallengeFailed:
            return challenge_page(request, services, route="verify", action="/signin/code", fields=fields,
                                  failed=True)
        except TooManyAttempts:
            metrics.otp_verified().labels(TooManyAttempts.code).inc()
            errors.add("code", "signin.error.too_many_attempts")
            return _code_form(request, services, pending, status=429, errors=errors)
        except InvalidCode as exc:
            metrics.otp_verified().labels(exc.code).inc()
            left = int(exc.extra.get("attempts_left", 0))  # type: ignore[call-overload]
            if left > 0:
                errors.add("code", "signin.error.code_wrong", n=left)
            else:
                errors.add("code", "signin.error.code_dead")
            return _code_form(request, services, pending, status=401, errors=errors)
        except OUTAGES:
            errors.add("code", "signin.error.unavailable")
            return _code_form(request, services, pending, status=503, errors=errors)
        metrics.otp_verified().labels("ok").inc()
        return see_other(next_path(pending.get("next")), cookies=[
            session.voter_cookie(request, services, token, int(expires_at.timestamp())),
            session.clear(request, services, session.SIGNIN),
            session.notice_cookie(request, services, {"k": "signed_in"}),
        ])

    @post("/signin/resend", operation_id="portalResendCode", opt={"form": True}, status_code=303)
    async def resend(self, request: Request, services: AppServices) -> Response[bytes]:
        fields, pending = await _code_post(request, services)
        if pending is None:
            return _start_again(request, services)
        try:
            await _send_code(request, services, pending["phone"], one(fields, CHALLENGE_FIELD) or None)
        except ChallengeRequired as exc:
            return challenge_page(request, services, route="otp", action="/signin/resend", fields=fields,
                                  challenge=exc.challenge)
        except ChallengeFailed:
            return challenge_page(request, services, route="otp", action="/signin/resend", fields=fields,
                                  failed=True)
        except RateLimited as exc:
            return _code_form(request, services, pending, status=429,
                              message=("signin.error.resend_too_soon", {"wait": wait_text(exc.retry_after)}))
        except OUTAGES:
            return _code_form(request, services, pending, status=503, message=("signin.error.unavailable", {}))
        return see_other("/signin/code", cookies=[
            _pending_cookie(request, services, pending["phone"], pending.get("next", "/")),
            session.notice_cookie(request, services, {"k": "code_resent"}),
        ])

    @get("/signout", operation_id="portalSignedOut", name="portal:signout")
    async def signed_out(self, request: Request, services: AppServices) -> Response[bytes]:
        signed_in = session.voter_claims(request, services) is not None
        token, cookies = csrf.form_token(request, services) if signed_in else ("", [])
        return flow_page(request, services, "flows/signout.html", signed_in=signed_in, csrf_token=token,
                    cookies=cookies)

    @post("/signout", operation_id="portalSignOut", opt={"form": True}, status_code=303)
    async def sign_out(self, request: Request, services: AppServices) -> Response[bytes]:
        fields = await fields_of(request)
        csrf.verify(request, services, one(fields, csrf.FIELD))
        return see_other("/signout", cookies=session.sign_out_cookies(request, services))
