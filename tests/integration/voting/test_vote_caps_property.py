"""Invariant 2: a voter never has more than K accepted votes, nor two for one candidate, whatever the
concurrency, and however many workers (separate clients and batchers) the requests land on."""

from __future__ import annotations

import asyncio
import os

from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from shared.crypto import b64u
from shared.errors import AppError
from shared.infra import create_redis
from shared.settings import Settings
from tests.factories import make_campaign
from voting_service.services.ballot_box import BallotBox
from voting_service.services.directory import RouteTable


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    k=st.integers(min_value=1, max_value=5),
    on_ballot=st.integers(min_value=1, max_value=8),
    picks=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=40),
    workers=st.integers(min_value=1, max_value=3),
)
async def test_concurrent_votes_of_one_voter_respect_the_cap(env, pool, redis_url, k, on_ballot, picks, workers):
    settings = Settings.from_env({**env, "VOTE_LIMIT_VOTER": "0", "VOTE_LIMIT_IP": "0", "VOTE_LIMIT_NET": "0"}, service="voting")
    clients = [create_redis(redis_url, timeout_s=5.0) for _ in range(workers)]
    try:
        camp = await make_campaign(pool, clients[0], candidates=on_ballot, k=k, shards=2, voter_buckets=64)
        boxes = [BallotBox(settings=settings, redis=c, routes=RouteTable(c, 60)) for c in clients]
        # picks index into the ballot; indices past it are candidates that are not on the ballot
        candidate_of = [str(c) for c in camp.candidate_ids] + [str(10**9 + i) for i in range(10)]
        voter = b64u(os.urandom(12))

        async def cast(i: int, pick: int) -> tuple[str, str]:
            try:
                acc = await boxes[i % workers].cast(campaign_id=camp.id, voter=voter,
                                                     candidate_id=candidate_of[pick], ip_hash="h", ip_net="n")
            except AppError as exc:
                return exc.code, candidate_of[pick]
            return "ok", acc.candidate_id

        outcomes = await asyncio.gather(*(cast(i, p) for i, p in enumerate(picks)))
        accepted = [cand for code, cand in outcomes if code == "ok"]
        valid_distinct = {candidate_of[p] for p in picks if p < on_ballot}

        assert len(accepted) <= k
        assert len(accepted) == len(set(accepted))
        assert len(accepted) == min(k, len(valid_distinct))  # the cap is reached when it can be, not before
        assert set(accepted) <= valid_distinct
        assert {code for code, _ in outcomes} <= {"ok", "already_voted", "vote_limit_reached",
                                                  "candidate_not_on_ballot"}
        mine, left = await boxes[0].my_votes(campaign_id=camp.id, voter=voter)
        assert sorted(mine) == sorted(accepted) and left == k - len(accepted)
        tallies: dict[str, int] = {}
        for shard in range(2):
            for cand, n in (await clients[0].hgetall(f"{{c{camp.id}:s{shard}}}:tally")).items():
                tallies[cand] = tallies.get(cand, 0) + int(n)
        assert tallies == {c: 1 for c in accepted}, (outcomes, camp, picks, k)
        for box in boxes:
            await box.close()
    finally:
        for c in clients:
            await c.aclose()
