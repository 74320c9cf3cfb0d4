"""Phone sign-in: a 6-digit one-time code by SMS, exchanged for a signed voter token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import redis.asyncio as aioredis

from shared.client_ip import Client
from shared.crypto import VoterTokens, pseudonym
from shared.errors import AppError, InvalidCode, InvalidRequest, RateLimited
from shared.identity import normalise_kz_mobile
from shared.settings import Settings
from shared.votestore.script import Script
from voting_service import metrics
from voting_service import redis_keys as keys
from voting_service.services.guard import CHALLENGE_DETAIL, Guard
from voting_service.services.signin_risk import sequential_block_risk
from voting_service.services.sms import NotSent, SmsSender

# The sign-in scripts are the voting service's own (keys in voting_service/redis_keys.py), not the vote store's.
OTP_LUA = "voting_service.lua"
BLOCK_CHALLENGE_DETAIL = ("Many numbers close to this one asked for codes in the last minutes. Your browser has to "
                          "solve a short puzzle (proof of work) before we send a code.")
PHONE_CHALLENGE_DETAIL = ("Several codes were already sent to this number this hour. Your browser has to solve a "
                          "short puzzle (proof of work) before we send another.")
SMS_TEXT = "100 New Faces: your code is {code}. Do not share it. / Код: {code}. Никому не сообщайте."


class InvalidPhone(InvalidRequest):
    code = "invalid_phone"
    title = "Not a Kazakhstan mobile number"


class TooManyAttempts(AppError):
    status = 429
    code = "too_many_attempts"
    title = "Too many wrong codes"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "60"})


def normalise_or_raise(phone: str) -> str:
    e164 = normalise_kz_mobile(phone)
    if e164 is None:
        raise InvalidPhone("Enter a Kazakhstan mobile number, e.g. +7 701 123 45 67.")
    return e164


class OtpService:
    def __init__(self, *, settings: Settings, redis: aioredis.Redis, sms: SmsSender, tokens: VoterTokens,
                 guard: Guard | None = None) -> None:
        self._s = settings
        self._redis = redis
        self._sms = sms
        self._tokens = tokens
        self._guard = guard if guard is not None else Guard(settings=settings, redis=redis)
        self._issue = Script("otp_issue", OTP_LUA)
        self._verify = Script("otp_verify", OTP_LUA)
        self._unissue = Script("otp_unissue", OTP_LUA)

    def _phone_pseudonym(self, e164: str) -> str:
        return pseudonym(self._s.secrets.pseudonym_key, "phone", e164)

    def _code_mac(self, phone_pseudonym: str, code: str) -> str:
        return hmac.new(self._s.secrets.pseudonym_key, f"otp:{phone_pseudonym}:{code}".encode(),
                        hashlib.sha256).hexdigest()

    async def request(self, *, phone: str, client: Client, solution: str | None = None) -> tuple[int, int]:
        """Send a code; return (expires_in, resend_after) in seconds.

        The layers, in order (voting_service/services/guard.py): a presented proof of work is checked (403);
        the client's address and networks count the attempt (429 past a hard limit, 428 past a soft one
        unless solved); the national SMS budget (503 while its breaker is open; 428 for everyone past its
        challenge share); the phone (429 resend throttle and hourly cap, 428 past its free codes). Nothing is
        stored or sent unless every layer lets the code through; a reservation of the budget is given back
        when the phone's own limits refuse."""
        e164 = normalise_or_raise(phone)
        p = self._phone_pseudonym(e164)
        guard = self._guard
        solved = await guard.admit("otp", client, solution)
        # A number range being walked (a SIM farm, a script over a block): the numbers of this one's block of 100
        # that asked in the window, and their longest consecutive run (signin_risk.py). Past a run of 3 or 8
        # numbers each further code of the block costs proof of work, harder as the run grows (2**(4 x risk):
        # 16 x the base difficulty at full risk). A person's neighbours asking the same quarter of an hour are rare.
        block = await sequential_block_risk(self._redis, self._s.secrets.pseudonym_key, e164)
        if block.risk > 0:
            level = 2 ** (4 * block.risk)
            if solved * 2 < guard.challenges.difficulty(level):
                raise guard.challenges.require("otp", level, BLOCK_CHALLENGE_DETAIL)
        reserved, sent_before = await guard.sms.take()
        global_level = guard.sms.risk(sent_before)
        if global_level and not solved:
            await guard.sms.give(reserved)
            raise guard.challenges.require("otp", global_level, CHALLENGE_DETAIL)
        code = f"{secrets.randbelow(1_000_000):06d}"
        code_keys, code_mac = [keys.otp(p), keys.otp_resend(p), keys.otp_hourly(p)], self._code_mac(p, code)
        result = await self._issue(
            self._redis, code_keys,
            [code_mac, self._s.otp_ttl_s, self._s.otp_resend_s, self._s.otp_max_per_phone_hour,
             self._s.otp_free_per_phone_hour, 1 if solved else 0],
        )
        if result[0] != "ok":
            await guard.sms.give(reserved)
            if result[0] == "challenge":
                # One more level for each code past the free ones: the difficulty doubles every other code.
                level = 1 + int(result[1]) - self._s.otp_free_per_phone_hour
                raise guard.challenges.require("otp", level, PHONE_CHALLENGE_DETAIL)
            metrics.limit_refusals().labels("otp", "phone").inc()
            raise RateLimited("A code was sent recently; wait before asking again.", retry_after=int(result[1]))
        # The number's block of 100 remembers it asked (runs of sequential numbers: a risk signal).
        await sequential_block_risk(self._redis, self._s.secrets.pseudonym_key, e164, record=True)
        try:
            await self._sms.send(phone=e164, phone_pseudonym=p, text=SMS_TEXT.format(code=code), code=code)
        except NotSent:
            # The gateway did not take it: no SMS, so no wait before the next try, no count against the phone's
            # hour and no share of the budget; the 503 says "try again shortly" and that is true. (A gateway that
            # timed out may have sent it: that code stays counted, or a slow gateway would send without limit.)
            await self._unissue(self._redis, code_keys, [code_mac])
            await guard.sms.give(reserved)
            raise
        return self._s.otp_ttl_s, self._s.otp_resend_s

    async def verify(self, *, phone: str, code: str, client: Client | None = None,
                     solution: str | None = None) -> tuple[str, datetime]:
        """Exchange a correct code for (voter token, expires_at). With ``client`` (every request does; tools
        may not) the check first passes the address and network layers (``Guard.admit``); the code itself dies
        after ``OTP_MAX_ATTEMPTS`` wrong answers (otp_verify.lua)."""
        e164 = normalise_or_raise(phone)
        p = self._phone_pseudonym(e164)
        if client is not None:
            await self._guard.admit("verify", client, solution)
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            # Still counts as a wrong answer: a malformed guess is a guess.
            code = "x"
        outcome, left = await self._verify(self._redis, [keys.otp(p)],
                                           [self._code_mac(p, code), self._s.otp_max_attempts])
        if outcome == "too_many_attempts":
            raise TooManyAttempts("This code is blocked after too many wrong answers; request a new one.")
        if outcome != "ok":
            # How many more answers this code takes (0: none; expired, used up or never sent): the sign-in
            # page says so, and API clients may too.
            raise InvalidCode("The code is wrong or has expired.", extra={"attempts_left": int(left)})
        voter = pseudonym(self._s.secrets.pseudonym_key, "voter", e164)
        # Fraud signals carried by the token (shared/fraud_signals.py): operator, number block, sequential run.
        block = await sequential_block_risk(self._redis, self._s.secrets.pseudonym_key, e164)
        token, exp = self._tokens.issue(voter, op=block.operator, blk=block.block, seq=block.run)
        return token, datetime.fromtimestamp(exp, UTC)

    def outbox_pseudonym(self, phone: str) -> str:
        return self._phone_pseudonym(normalise_or_raise(phone))
