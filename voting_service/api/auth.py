"""Phone sign-in: request a one-time code, exchange it for a voter token."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.params import JSONBody

from shared.errors import AppError
from voting_service import metrics
from voting_service.deps import client_of, ChallengeSolution
from voting_service.models import OtpRequest, OtpSent, OtpVerify, VoterToken
from voting_service.state import AppServices


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["sign-in"]

    @post("/otp", operation_id="requestOtp", status_code=202, opt={"problems": (403, 428, 429, 503)})
    async def request_otp(self, request: Request, data: JSONBody[OtpRequest], services: AppServices,
                          solution: ChallengeSolution = None) -> OtpSent:
        try:
            expires_in, resend_after = await services.otp.request(
                phone=data.phone, client=client_of(request, services), solution=solution)
        except AppError as exc:
            metrics.otp_sends().labels(exc.code).inc()
            raise
        metrics.otp_sends().labels("sent").inc()
        return OtpSent(expires_in=expires_in, resend_after=resend_after)

    @post("/otp/verify", operation_id="verifyOtp", status_code=200, opt={"problems": (401, 403, 428, 429)})
    async def verify(self, request: Request, data: JSONBody[OtpVerify], services: AppServices,
                     solution: ChallengeSolution = None) -> VoterToken:
        try:
            token, expires_at = await services.otp.verify(phone=data.phone, code=data.code,
                                                          client=client_of(request, services),
                                                          solution=solution)
        except AppError as exc:
            metrics.otp_verified().labels(exc.code).inc()
            raise
        metrics.otp_verified().labels("ok").inc()
        return VoterToken(token=token, expires_at=expires_at)
