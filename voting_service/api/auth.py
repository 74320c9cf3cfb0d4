"""Phone sign-in: request a one-time code, exchange it for a voter token."""

from __future__ import annotations

from litestar.params import JSONBody
from litestar import Controller, Request, post

from shared.errors import AppError
from voting_service import metrics
from voting_service.deps import client_of, services
from voting_service.models import OtpRequest, OtpSent, OtpVerify, VoterToken


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["sign-in"]

    @post("/otp", operation_id="requestOtp", status_code=202, opt={"problems": (429,)})
    async def request_otp(self, request: Request, data: JSONBody[OtpRequest]) -> OtpSent:
        try:
            expires_in, resend_after = await services(request).otp.request(
                phone=data.phone, ip_hash=client_of(request).ip_hash)
        except AppError as exc:
            metrics.otp_sends().labels(exc.code).inc()
            raise
        metrics.otp_sends().labels("sent").inc()
        return OtpSent(expires_in=expires_in, resend_after=resend_after)

    @post("/otp/verify", operation_id="verifyOtp", status_code=200, opt={"problems": (401, 429)})
    async def verify(self, request: Request, data: JSONBody[OtpVerify]) -> VoterToken:
        try:
            token, expires_at = await services(request).otp.verify(phone=data.phone, code=data.code)
        except AppError as exc:
            metrics.otp_verified().labels(exc.code).inc()
            raise
        metrics.otp_verified().labels("ok").inc()
        return VoterToken(token=token, expires_at=expires_at)
