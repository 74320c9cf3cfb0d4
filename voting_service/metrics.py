"""Domain metrics of the voting service. Created on first use (never at import); labels are bounded sets."""

from __future__ import annotations

import functools

from prometheus_client import Counter


@functools.cache
def votes() -> Counter:
    return Counter("votes_total", "Vote attempts by outcome", ["result"])


@functools.cache
def otp_sends() -> Counter:
    return Counter("otp_sends", "Code requests by outcome (sent, rate_limited, invalid_phone, unavailable)",
                   ["result"])


@functools.cache
def otp_verified() -> Counter:
    return Counter("otp_verify_total", "Code checks by outcome", ["result"])


@functools.cache
def nominations() -> Counter:
    return Counter("nominations_total", "Nominations received from the public site")
