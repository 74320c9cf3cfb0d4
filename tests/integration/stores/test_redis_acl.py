"""Redis ACL users per service: a password, only the commands the service sends, never an administrative one;
votes still go through (vote -> flusher -> Postgres -> reconcile, each over its own user)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError

from shared.infra import cluster_seeds, is_cluster, is_cluster_url
from shared.store_access import REDIS_COMMANDS, with_credentials
from tests.factories import make_campaign
from tests.integration.voting.conftest import app_client, cast, mint_token
from tests.stores import acl_user
from voting_service.flusher import Flusher
from shared.votestore.reconcile import reconcile

SERVICES = ("voting", "flusher", "admin")
# Never for a service; checked with ACL DRYRUN first so that a wrong rule can never run them on the shared server.
ADMINISTRATIVE = [
    ["FLUSHALL"], ["FLUSHDB"], ["CONFIG", "GET", "*"], ["CONFIG", "SET", "maxmemory", "1"], ["KEYS", "*"],
    ["DEBUG", "SLEEP", "0"], ["SHUTDOWN", "NOSAVE"], ["ACL", "LIST"], ["ACL", "SETUSER", "x"], ["MODULE", "LIST"],
    ["SCRIPT", "FLUSH"], ["SAVE"], ["BGREWRITEAOF"], ["REPLICAOF", "NO", "ONE"], ["CLIENT", "KILL", "ID", "1"],
    ["MONITOR"], ["SWAPDB", "0", "1"], ["MIGRATE", "h", "1", "k", "0", "1"], ["FUNCTION", "FLUSH"],
]


async def dry_run(owner: aioredis.Redis, user: str, command: list[str]) -> str:
    if is_cluster(owner):  # ACL users are per node: ask every node, replicas too (each must refuse)
        answers = {str(await node.execute_command("ACL", "DRYRUN", user, *command))
                   for node in await owner.every_node()}
        assert len(answers) == 1, answers
        return answers.pop()
    return str(await owner.execute_command("ACL", "DRYRUN", user, *command))


@pytest.mark.parametrize("service", SERVICES)
async def test_no_service_user_may_run_an_administrative_command(redis, service_env, service):
    for command in ADMINISTRATIVE:
        answer = await dry_run(redis, acl_user(service), command)
        assert answer != "OK" and "no permissions" in answer, (service, command, answer)


async def test_the_voting_user_is_refused_flushall_and_config(redis, voting_redis):
    await redis.set("canary", "1")
    target = voting_redis
    if is_cluster(voting_redis):  # a node of the cluster, as the voting user (redis-py cannot route CONFIG GET)
        await voting_redis.initialize()
        node = voting_redis.get_primaries()[0]
        target = voting_redis.node_client(node.host, node.port)
    for command in (["FLUSHALL"], ["CONFIG", "GET", "maxmemory"], ["FLUSHDB"], ["KEYS", "*"]):
        assert "no permissions" in await dry_run(redis, acl_user("voting"), command)  # guard: never really run
        with pytest.raises(NoPermissionError):
            await target.execute_command(*command)
    assert await redis.get("canary") == "1"


async def test_the_voting_user_cannot_touch_staff_login_throttles(redis, voting_redis, admin_redis):
    await admin_redis.incrby("admin:login:acct:probe", 3)  # as the admin service's throttle counts
    with pytest.raises(NoPermissionError):
        await voting_redis.delete("admin:login:acct:probe")
    with pytest.raises(NoPermissionError):
        await voting_redis.get("admin:login:acct:probe")
    assert await redis.get("admin:login:acct:probe") == "3"


async def test_a_user_needs_its_password(service_env):
    url = with_credentials(service_env["VOTING_REDIS_URL"], acl_user("voting"), "wrong-password")
    if is_cluster_url(url):  # one node of the cluster (each has the user)
        (host, port), *_ = cluster_seeds(url)[0]
        url = with_credentials(f"redis://{host}:{port}/0", acl_user("voting"), "wrong-password")
    r = aioredis.Redis.from_url(url, socket_timeout=2, retry=Retry(NoBackoff(), 0))  # refused is the answer
    try:
        with pytest.raises(AuthenticationError):
            await r.ping()
    finally:
        await r.aclose()


def test_no_service_is_granted_an_administrative_command():
    forbidden = {"flushall", "flushdb", "config", "keys", "debug", "shutdown", "acl", "module", "monitor", "save",
                 "bgsave", "bgrewriteaof", "replicaof", "slaveof", "migrate", "swapdb", "function", "script|flush",
                 "client|kill", "cluster", "failover", "sync", "psync"}
    for service, commands in REDIS_COMMANDS.items():
        assert not forbidden & {c.split("|")[0] for c in commands} - {"script", "client", "xgroup", "xinfo",
                                                                       "cluster"}, service
        assert not forbidden & set(commands), service
        # Redis Cluster: only reading the slot map (redis-py's cluster client), never changing the cluster.
        assert {c for c in commands if c.startswith("cluster")} <= {"cluster|slots", "cluster|shards"}, service


async def test_votes_go_through_every_service_user(settings, pool, redis, voting_pool, voting_redis, flusher_pool,
                                                  flusher_redis):
    """The voting app on the voting role and user, then the flusher and reconcile on the flusher's."""
    camp = await make_campaign(pool, redis, candidates=3, k=2)
    accepted = 0
    async with app_client(settings, voting_pool, voting_redis) as client:
        for i in range(4):
            token = mint_token(settings, f"+770190000{i:02d}")
            for cand in camp.candidate_ids[: 1 + i % 2]:
                r = await cast(client, camp.id, cand, token)
                assert r.status_code == 201, r.text
                accepted += 1
                receipt = r.json()["receipt"]
        flusher = Flusher(settings, flusher_pool, flusher_redis)
        await flusher.refresh_streams()
        assert await flusher.drain_once() == accepted
        assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) == accepted
        (report,) = await reconcile(flusher_pool, flusher_redis, campaign_id=camp.id, wait_s=1)
        assert report.clean and report.postgres_total == accepted
        r = await client.get(f"/api/v1/receipts/{receipt}")  # read back through the voting role
        assert r.json()["status"] == "recorded", r.text
