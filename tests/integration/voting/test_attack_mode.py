"""The national attack mode of the vote (voting_service/services/attack.py, issue 12 item 2): the flusher sees a
minute in which most votes came from scripts and declares a level; every vote then needs proof of work, at a
difficulty that grows with the level; browsers voting in a surge declare nothing; an operator's level is never
lowered by the flusher. Real Redis and Postgres, through the app."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given, strategies as st
from prometheus_client import REGISTRY

from shared.errors import ConfigError
from shared.settings import Settings
from shared.votestore import keys
from tests.factories import make_campaign
from tests.integration.voting.conftest import (
    app_client, assert_problem, bearer, mint_token, settings_with, solve,
)
from voting_service.__main__ import main as cli
from voting_service.flusher import Flusher
from voting_service.services.attack import AttackLevel, AttackWatch, current_level, level_for

BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari",
           "X-Page-Token": "page"}
EASY = {"CHALLENGE_BASE_MAXNUMBER": "1000", "CHALLENGE_MAX_MAXNUMBER": "64000"}


async def _votes(c, camp, s, first: int, n: int, headers: dict | None = None) -> list[int]:
    out = []
    for i in range(first, first + n):
        token = mint_token(s, f"+7702{i:07d}", now=None)
        r = await c.post(f"/api/v1/campaigns/{camp.id}/votes", json={"candidate_id": str(camp.candidate_ids[i % 2])},
                         headers={**bearer(token), **(headers or {})})
        out.append(r.status_code)
    return out


@pytest.fixture
def attack_cli(env, monkeypatch):
    """``python -m voting_service attack ...`` in this test's environment (its Redis database)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return lambda *args: asyncio.to_thread(cli, ["attack", *args])  # the CLI runs its own event loop


async def _flush(s, pool, redis) -> Flusher:
    f = Flusher(s, pool, redis)
    await f.refresh_streams()
    await f.drain_once()
    return f


async def test_a_minute_of_script_votes_makes_every_vote_cost_work(env, pool, redis, attack_cli):
    s = settings_with(env, ATTACK_SHARE_PERCENT="50", ATTACK_MIN_PER_MINUTE="20", ATTACK_HOLD_S="60",
                      VOTE_LIMIT_VOTER="0", **EASY)
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    async with app_client(s, pool, redis) as c:
        assert await _votes(c, camp, s, 0, 30) == [201] * 30  # httpx's User-Agent: a script, 30 of 30
    f = await _flush(s, pool, redis)
    level, ttl = await current_level(redis)
    assert level == 16 and 55 <= ttl <= 60  # every vote flagged: the top level
    await f.read_attack_level()  # the flusher's housekeeping exports it (the AttackModeOn alert)
    assert REGISTRY.get_sample_value("vote_attack_level") == 16

    async with app_client(s, pool, redis) as c:  # a new worker reads the level at its first vote
        token = mint_token(s, "+77029999999")
        url = f"/api/v1/campaigns/{camp.id}/votes"
        body = {"candidate_id": str(camp.candidate_ids[0])}
        ch = assert_problem(await c.post(url, json=body, headers={**bearer(token), **BROWSER}), 428,
                            "challenge_required")["challenge"]
        assert ch["maxnumber"] == 16_000 and "r=vote" in ch["salt"]  # the base x 16
        r = await c.post(url, json=body, headers={**bearer(token), **BROWSER, "X-Challenge-Solution": solve(ch)})
        assert r.status_code == 201, r.text
        # the operator clears it: votes are free again (each worker within a second; a new one at once)
    assert await attack_cli("clear") == 0
    async with app_client(s, pool, redis) as c:
        assert await _votes(c, camp, s, 100, 1, BROWSER) == [201]
    await f.read_attack_level()
    assert REGISTRY.get_sample_value("vote_attack_level") == 0


async def test_a_surge_of_people_in_browsers_declares_nothing(env, pool, redis):
    s = settings_with(env, ATTACK_SHARE_PERCENT="50", ATTACK_MIN_PER_MINUTE="20", VOTE_LIMIT_VOTER="0")
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    async with app_client(s, pool, redis) as c:
        assert set(await _votes(c, camp, s, 0, 40, BROWSER)) == {201}
        assert set(await _votes(c, camp, s, 40, 19)) == {201}  # scripts, under the minimum and a third
    await _flush(s, pool, redis)
    assert await current_level(redis) == (0.0, 0)
    assert await redis.get(keys.ATTACK_LEVEL) is None


async def test_off_outside_production_unless_asked(env, pool, redis):
    s = settings_with(env, VOTE_LIMIT_VOTER="0")  # APP_ENV=test: the automatic mode is off by default
    assert s.attack_share_percent == 0
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    async with app_client(s, pool, redis) as c:
        assert set(await _votes(c, camp, s, 0, 30)) == {201}
    await _flush(s, pool, redis)
    assert await redis.get(keys.ATTACK_LEVEL) is None


async def test_the_flusher_never_lowers_or_shortens_an_operators_level(env, pool, redis, attack_cli):
    assert await attack_cli("set", "8", "--hold", "600") == 0
    s = settings_with(env, ATTACK_SHARE_PERCENT="50", ATTACK_MIN_PER_MINUTE="5", ATTACK_HOLD_S="60")
    watch = AttackWatch(s)
    level = watch.observe(10, 6)  # 60 % flagged: level 2 ** (4 x 0.2) ~ 1.74
    assert 1.7 < level < 1.8
    assert await watch.declare(redis, level) is False
    got, ttl = await current_level(redis)
    assert got == 8 and ttl > 590
    assert await attack_cli("set", "2", "--hold", "10") == 0  # lower and shorter than the flusher's
    assert await watch.declare(redis, level) is True
    got, ttl = await current_level(redis)
    assert got == 2 and 55 <= ttl <= 60  # the higher level stays, for the flusher's hold


async def test_operator_levels_out_of_range_are_refused_with_no_side_effect(attack_cli, redis, capsys):
    assert await attack_cli("set", "30") == 2
    assert "1..16" in capsys.readouterr().err
    assert await attack_cli("set", "0.5") == 2
    assert await attack_cli("set", "nan") == 2
    assert await attack_cli("set", "4", "--hold", "0") == 2
    assert "at least 1 second" in capsys.readouterr().err
    assert await redis.get(keys.ATTACK_LEVEL) is None


def test_the_window_forgets_a_minute_old_attack(env):
    s = settings_with(env, ATTACK_SHARE_PERCENT="50", ATTACK_MIN_PER_MINUTE="100")
    watch = AttackWatch(s)
    assert watch.observe(400, 300, now=1000.0) > 1
    assert watch.observe(10, 0, now=1030.0) > 1   # still inside the minute
    assert watch.observe(10, 0, now=1061.0) == 0  # the attack's batch left the window


@given(total=st.integers(1, 100_000), share=st.integers(1, 99), data=st.data())
def test_the_level_grows_with_the_flagged_share_from_1_to_16(total, share, data):
    a = data.draw(st.integers(0, total))
    b = data.draw(st.integers(a, total))
    s = share / 100
    la, lb = level_for(a, total, s), level_for(b, total, s)
    assert 1 <= la <= lb <= 16
    assert level_for(total, total, s) == 16
    assert level_for(int(s * total), total, s) < 1.2 or total < 50  # just at the threshold: about the base


@pytest.mark.parametrize("bad", [{"ATTACK_SHARE_PERCENT": "101"}, {"ATTACK_SHARE_PERCENT": "-1"},
                                 {"ATTACK_MIN_PER_MINUTE": "0"}, {"ATTACK_HOLD_S": "0"},
                                 {"ATTACK_SHARE_PERCENT": "half"}])
def test_bad_attack_settings_stop_the_service_with_their_name(env, bad):
    with pytest.raises(ConfigError, match="ATTACK|attack"):
        Settings.from_env({**env, **bad}, service="voting")


def test_on_by_default_in_production():
    assert Settings.from_env({"APP_ENV": "production"}).attack_share_percent == 50
    assert Settings.from_env({"APP_ENV": "development"}).attack_share_percent == 0


async def test_a_run_of_failed_level_reads_logs_one_traceback_and_its_end(redis, caplog):
    """While Redis answers the level's key with an error (here the key holds a hash: WRONGTYPE; in a failover, no
    connection) every read keeps the last level, and only the first failure and the first read that works again
    are logged."""
    level = AttackLevel(redis, refresh_s=0)
    await redis.set(keys.ATTACK_LEVEL, "4")
    assert await level.level() == 4.0
    await redis.delete(keys.ATTACK_LEVEL)
    await redis.hset(keys.ATTACK_LEVEL, "x", "1")
    with caplog.at_level(logging.INFO, logger="voting_service.attack"):
        assert [await level.level() for _ in range(5)] == [4.0] * 5
        failed = [r for r in caplog.records if r.name == "voting_service.attack"]
        assert len(failed) == 1 and failed[0].exc_info is not None and "keeping 4" in failed[0].getMessage()
        await redis.delete(keys.ATTACK_LEVEL)
        await redis.set(keys.ATTACK_LEVEL, "2")
        assert await level.level() == 2.0
        assert await level.level() == 2.0
    logged = [r.getMessage() for r in caplog.records if r.name == "voting_service.attack"]
    assert len(logged) == 2 and logged[1].startswith("attack level read again after") and logged[1].endswith(": 2")
