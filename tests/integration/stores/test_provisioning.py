"""``make run`` with only DATABASE_URL and REDIS_URL: devtools/devstack.py creates a restricted role and ACL user per service
where those credentials may, and falls back to them with a warning where they may not."""

from __future__ import annotations

import asyncpg

from shared import store_access
from shared.infra import create_redis
from tests.stores import SUFFIX


async def test_owner_credentials_provision_a_role_and_a_user_per_service(database_url, redis_url, server_url,
                                                                          redis):
    names = {s: f"faces_t{SUFFIX}p_{s}" for s in store_access.SERVICES}
    warnings: list[str] = []
    found = await store_access.provision_dev({"DATABASE_URL": database_url, "REDIS_URL": redis_url},
                                             names=names, warn=warnings.append)
    try:
        assert warnings == []
        assert set(found) == {f"{s.upper()}_{x}_URL" for s in store_access.SERVICES for x in ("DATABASE", "REDIS")}
        for s in store_access.SERVICES:
            conn = await asyncpg.connect(found[store_access.database_var(s)])
            try:
                assert await conn.fetchval("SELECT current_user") == names[s]
                assert await conn.fetchval("SELECT pg_has_role($1, 'USAGE')", store_access.PG_GROUPS[s])
            finally:
                await conn.close()
            r = create_redis(found[store_access.redis_var(s)], timeout_s=2)  # a cluster client on a cluster
            try:
                assert await r.ping()  # logged in as the new user (a wrong password fails here)
                await r.hset("faces:campaign:0", "probe", "1")
                assert await r.hgetall("faces:campaign:0") == {"probe": "1"}
                for node in await redis.every_node() if hasattr(redis, "every_node") else [redis]:
                    assert await node.execute_command("ACL", "GETUSER", names[s].replace("_", "-"))
            finally:
                await r.aclose()
        # Already set variables are left alone (a second run keeps what the environment says).
        assert await store_access.provision_dev({"DATABASE_URL": database_url, "REDIS_URL": redis_url, **found},
                                                names=names) == {}
    finally:
        owner = await asyncpg.connect(server_url)
        try:
            for s in store_access.SERVICES:
                await store_access.drop_postgres_login(owner, names[s])
        finally:
            await owner.close()
        for s in store_access.SERVICES:
            await store_access.delete_redis_user(redis, names[s].replace("_", "-"))


async def test_credentials_that_may_not_provision_fall_back_with_a_warning(service_env):
    warnings: list[str] = []
    found = await store_access.provision_dev(
        {"DATABASE_URL": service_env["VOTING_DATABASE_URL"], "REDIS_URL": service_env["VOTING_REDIS_URL"]},
        names={s: f"faces_t{SUFFIX}x_{s}" for s in store_access.SERVICES}, warn=warnings.append)
    assert found == {}
    assert len(warnings) == 2 and "Postgres" in warnings[0] and "Redis" in warnings[1], warnings


def test_each_process_gets_only_its_own_credentials():
    env = {"DATABASE_URL": "owner-db", "REDIS_URL": "owner-redis", "VOTING_DATABASE_URL": "v-db",
           "VOTING_REDIS_URL": "v-redis", "FLUSHER_DATABASE_URL": "f-db", "ADMIN_REDIS_URL": "a-redis", "X": "1"}
    assert store_access.process_env(env, "voting") == {"VOTING_DATABASE_URL": "v-db", "VOTING_REDIS_URL": "v-redis",
                                                       "X": "1"}
    assert store_access.process_env(env, "flusher") == {"FLUSHER_DATABASE_URL": "f-db", "REDIS_URL": "owner-redis",
                                                        "X": "1"}
    assert store_access.process_env(env, "admin") == {"DATABASE_URL": "owner-db", "ADMIN_REDIS_URL": "a-redis",
                                                      "X": "1"}
