"""REDIS_WAIT_REPLICAS on the test Redis: asking for more replicas than it has answers 503 and acknowledges
nothing (fail closed); 0 (the default) never waits. The cluster with replicas: test_cluster_vote_path.py."""

from __future__ import annotations

import asyncio

from tests.factories import make_campaign
from tests.integration.voting.conftest import app_client, cast, mint_token, settings_with


async def test_more_replicas_than_exist_answers_503(env, pool, redis, voting_pool, voting_redis):
    settings = settings_with(env, REDIS_WAIT_REPLICAS="5", REDIS_WAIT_TIMEOUT_MS="10")
    camp = await make_campaign(pool, redis, candidates=2, k=1)
    tokens = [mint_token(settings, f"+7704888{i:04d}") for i in range(5)]
    async with app_client(settings, voting_pool, voting_redis) as client:
        answers = await asyncio.gather(*(cast(client, camp.id, camp.candidate_ids[0], t) for t in tokens))
    assert {a.status_code for a in answers} == {503}, [a.text for a in answers]
    assert {a.json()["code"] for a in answers} == {"unavailable"}
    # The votes did run on the primary (WAIT comes after them): a retry is told the vote counts, never a second one.
    async with app_client(settings_with(env), voting_pool, voting_redis) as client:
        again = await cast(client, camp.id, camp.candidate_ids[0], tokens[0])
    assert again.status_code == 409 and again.json()["code"] == "already_voted", again.text
