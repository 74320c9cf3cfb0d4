"""Runs of sequential phone numbers at sign-in (issue 12 item 3), without storing phone numbers.

Every code request records the number's position (its last two digits) in a sliding window per block of 100
numbers, under the keyed hash of the block (``rl:seqblk:<hash>``, voting_service/lua/seq_block.lua). A person
asks from one number; a SIM farm or a script walking a number range asks from many numbers of one block, one
after the other. ``sequential_block_risk`` says how many numbers of the block asked in the window and the
longest run of consecutive ones, and turns that into a risk in [0, 1] that other code (the sign-in's challenge
logic) can use; the verify step puts the run into the voter token (``seq``), so each vote records it
(``votes.seq_run``) and the fraud review can cluster by block (docs/fraud.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from shared.fraud_signals import phone_block
from shared.votestore.script import Script
from voting_service import redis_keys as keys

WINDOW_S = 900          # a quarter of an hour: a farm signs its numbers in within minutes
RUN_LOW, RUN_HIGH = 3, 8      # risk starts above a run of 3 consecutive numbers and is full from 8
DISTINCT_LOW, DISTINCT_HIGH = 8, 30  # or from many numbers of one block at once, consecutive or not

_SCRIPT = Script("seq_block", "voting_service.lua")


@dataclass(frozen=True, slots=True)
class BlockRisk:
    operator: str   # '701'
    block: str      # keyed hash of the block of 100
    distinct: int   # numbers of the block seen in the window
    run: int        # longest run of consecutive numbers among them
    risk: float     # 0 (nothing unusual) .. 1 (a number range is being walked)


def risk_of(distinct: int, run: int) -> float:
    by_run = (run - RUN_LOW) / (RUN_HIGH - RUN_LOW)
    by_distinct = (distinct - DISTINCT_LOW) / (DISTINCT_HIGH - DISTINCT_LOW)
    return round(max(0.0, min(1.0, max(by_run, by_distinct))), 3)


async def sequential_block_risk(r: aioredis.Redis, pseudonym_key: bytes, e164: str, *, record: bool = False,
                                now: float | None = None, window_s: int = WINDOW_S) -> BlockRisk:
    """The sequential-number risk of the block of ``e164`` (a normalised +7 number); ``record`` adds this number
    to the window first (a code request does; the verify step and the challenge logic only read)."""
    operator, block, position = phone_block(pseudonym_key, e164)
    now_ms = int((now if now is not None else time.time()) * 1000)
    distinct, run = await _SCRIPT(r, [keys.seq_block(block)],
                                  [f"{position:02d}", now_ms, window_s * 1000, 1 if record else 0])
    return BlockRisk(operator, block, int(distinct), int(run), risk_of(int(distinct), int(run)))
