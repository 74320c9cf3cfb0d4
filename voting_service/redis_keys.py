"""Redis keys of the voting service that are NOT the vote store (that is shared/votestore/keys.py): phone
sign-in (one-time codes and their throttles, voting_service/lua/otp_*.lua), the status-lookup limit of
nominations, and the development SMS outbox. The layered per-address and per-network limits of the protected
routes, the SMS budget and the proof-of-work replay guard are in shared/votestore/keys.py (``rl:{...}``). Only the voting service reads or writes them; the
voting service's Redis ACL allows their prefixes (shared/store_access.py REDIS_KEYS: ``otp:*``, ``rl:*``,
``dev:outbox:*``)."""

from __future__ import annotations


def otp(phone_pseudonym: str) -> str:
    """hash: code_mac, tries; TTL = OTP lifetime."""
    return f"otp:{{{phone_pseudonym}}}"


def otp_resend(phone_pseudonym: str) -> str:
    return f"otp:{{{phone_pseudonym}}}:resend"


def otp_hourly(phone_pseudonym: str) -> str:
    return f"otp:{{{phone_pseudonym}}}:hour"


def rl_nomination_status_ip(ip: str) -> str:
    return f"rl:nomstatus:ip:{ip}"


def sms_outbox(phone_pseudonym: str) -> str:
    """list of outbox messages for one phone (dev only); the phone itself is never written."""
    return f"dev:outbox:{phone_pseudonym}"


def seq_block(block_hash: str) -> str:
    """zset: positions (00-99) of the numbers of one block of 100 that asked for a code in the sliding window,
    scored by time; the key names the block by its keyed hash (voting_service/services/signin_risk.py)."""
    return f"rl:seqblk:{block_hash}"
