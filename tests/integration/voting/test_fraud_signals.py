"""Live fraud signals, end to end through the voting service: sign-in puts the operator, the keyed number block
and the sequential run into the token (no phone stored: not in Redis, not in Postgres); the vote records the
seconds since sign-in, the User-Agent class, the page token and Accept-Language; the flusher writes them."""

from __future__ import annotations

import time

from shared.fraud_signals import phone_block
from tests.factories import make_campaign
from tests.integration.voting.conftest import (
    app_client, cast, mint_token, postgres_dump, redis_dump, sign_in,
)
from voting_service.flusher import Flusher
from voting_service.services.signin_risk import risk_of, sequential_block_risk


async def _flush(settings, pool, redis) -> None:
    f = Flusher(settings, pool, redis)
    await f.refresh_streams()
    await f.drain_once()


async def test_signals_are_recorded_with_each_vote(settings, pool, redis):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    c = camp.candidate_ids
    phones = [f"+770512345{i:02d}" for i in range(6)]  # one block, in sequence
    async with app_client(settings, pool, redis) as client:
        tokens = [await sign_in(client, p, solve_pow=True) for p in phones]  # the 5th on: work
        browser = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari",
                   "Accept-Language": "kk-KZ,kk;q=0.9,ru;q=0.8", "X-Page-Token": "page"}
        r = await client.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(c[0])},
                              headers={"Authorization": f"Bearer {tokens[-1]}", **browser})
        assert r.status_code == 201, r.text
        r = await cast(client, camp.id, c[1], tokens[0])  # httpx's own User-Agent, no page token
        assert r.status_code == 201, r.text
        old = mint_token(settings, "+77071112233", now=time.time() - 120)  # a token from before the signals
        assert (await cast(client, camp.id, c[2], old)).status_code == 201
    await _flush(settings, pool, redis)
    rows = {r["candidate_id"]: dict(r) for r in await pool.fetch(
        "SELECT candidate_id, signin_s, ua_class, page_token, operator, accept_lang, num_block, seq_run FROM votes "
        "WHERE campaign_id = $1", camp.id)}
    block = phone_block(settings.secrets.pseudonym_key, phones[0])[1]
    first = rows[c[0]]
    assert 0 <= first["signin_s"] <= 5
    assert (first["ua_class"], first["page_token"], first["operator"], first["accept_lang"], first["num_block"],
            first["seq_run"]) == ("browser", True, "705", "kk", block, 6)
    second = rows[c[1]]
    assert (second["ua_class"], second["page_token"], second["accept_lang"], second["num_block"],
            second["seq_run"]) == ("script", False, "", block, 1)
    third = rows[c[2]]  # an older token: no operator, block or run; the request's signals still count
    assert 119 <= third["signin_s"] <= 125 and (third["operator"], third["num_block"]) == (None, None)
    # the summaries have the block's cluster, and nowhere a phone number
    assert await pool.fetchval("SELECT votes FROM fraud_clusters WHERE campaign_id = $1 AND kind = 'blk' AND key = $2",
                               camp.id, block) == 2
    dumps = await redis_dump(redis) + await postgres_dump(pool)
    for p in phones:
        assert p not in dumps and p[2:] not in dumps and p[2:-2] not in dumps


async def test_sequential_runs_per_block_are_counted_in_a_sliding_window(redis, settings):
    key = settings.secrets.pseudonym_key
    now = 1_800_000_000.0
    for i in (10, 11, 12, 13, 40):
        risk = await sequential_block_risk(redis, key, f"+77771234{i:03d}"[:12], record=True, now=now + i)
    assert (risk.distinct, risk.run, risk.operator) == (5, 4, "777")
    assert 0 < risk.risk < 1
    other = await sequential_block_risk(redis, key, "+77771235010", now=now + 50)  # another block
    assert (other.distinct, other.run, other.risk) == (0, 0, 0.0)
    for i in range(14, 22):
        risk = await sequential_block_risk(redis, key, f"+777712340{i}", record=True, now=now + 60)
    assert risk.run == 12 and risk.risk == 1.0
    later = await sequential_block_risk(redis, key, "+77771234010", now=now + 60 + 901)  # the window moved on
    assert (later.distinct, later.run) == (0, 0)
    assert risk_of(1, 1) == 0.0 and risk_of(40, 1) == 1.0
