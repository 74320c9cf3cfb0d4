"""Which Postgres role and Redis user each process connects as, and how those are provisioned.

Every process has its own credentials (least privilege, issue 8):

    service   Postgres                 Redis
    voting    VOTING_DATABASE_URL      VOTING_REDIS_URL
    flusher   FLUSHER_DATABASE_URL     FLUSHER_REDIS_URL     (also ``voting_service reconcile``)
    admin     ADMIN_DATABASE_URL       ADMIN_REDIS_URL       (also the admin CLI)

The metrics exporters (docker-compose: postgres-exporter, redis-exporter) read with ``MONITOR_DATABASE_URL`` /
``MONITOR_REDIS_URL`` when set: a Postgres login in the built-in ``pg_monitor`` role (statistics, no table data)
and a Redis user with no key at all and only the introspection commands redis_exporter sends (INFO, CONFIG GET,
SLOWLOG, LATENCY...).

``DATABASE_URL`` / ``REDIS_URL`` are the owner's: migrations, the demo loader, provisioning. In development
and test a service whose own variable is unset falls back to them (``make run`` provisions restricted ones
first, see devtools/devstack.py); anywhere else a missing variable stops the service, naming it.

Postgres: a login role per service, member of the NOLOGIN group that migration 0005 grants (faces_voting_grp,
faces_flusher_grp, faces_admin_grp). Redis: an ACL user per service with a password and only the commands
the service sends, including those its Lua scripts call (Redis checks ACLs inside scripts too).

``python -m shared.store_access provision-postgres`` creates or updates the login roles named in the
``*_DATABASE_URL`` variables (user and password taken from each URL), connected as ``DATABASE_URL``;
``python -m shared.store_access redis-acl-file`` prints an ACL file (hashed passwords) for the users named in
the ``*_REDIS_URL`` variables, the ``default`` user keeping ``REDIS_URL``'s password. Nothing runs at import.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from shared.errors import ConfigError

SERVICES = ("voting", "flusher", "admin")
DEV_ENVS = ("development", "test")
DEFAULT_DATABASE_URL = "postgresql://127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

PG_GROUPS = {"voting": "faces_voting_grp", "flusher": "faces_flusher_grp", "admin": "faces_admin_grp"}

# What a connection needs before any command: redis-py sends AUTH (always allowed), SELECT for the db in the
# URL and, on Redis 7.2+, CLIENT SETINFO (errors ignored; allowed below when the server knows it).
_CONNECTION = ("ping", "select", "echo",
               # Redis Cluster (a ``redis+cluster://`` URL): redis-py's cluster client reads the slot map and the
               # command table (key positions) at connect and follows ASK redirects. Read-only, no key.
               "cluster|slots", "cluster|shards", "command", "asking")
# shared/votestore/projection.py: the admin service projects a campaign at publication, the flusher re-projects
# it (and checks it is current: hgetall, in _RECONCILE).
_PROJECTION = ("multi", "exec", "discard", "hset", "del", "sadd", "xgroup|create")
# shared/votestore/reconcile.py and drain.py: the admin service runs them before finalising, the flusher's role
# runs the CLI.
_RECONCILE = ("smembers", "xlen", "hgetall")

REDIS_COMMANDS: dict[str, tuple[str, ...]] = {
    "voting": (
        *_CONNECTION,
        "evalsha", "eval", "script|load",                       # shared/votestore/script.py, batcher.py
        # inside shared/votestore/lua/{vote,layers,sms_budget}.lua and voting_service/lua/otp_*.lua
        "get", "set", "del", "incr", "decr", "expire", "ttl", "hget", "hmget", "hset", "hincrby", "sismember",
        "time",
        "xadd",
        # inside voting_service/lua/seq_block.lua (runs of sequential numbers at sign-in)
        "zadd", "pexpire", "zremrangebyscore", "zrange",
        # outside the scripts: routing, results, receipts, rate limits (MULTI), the dev SMS outbox
        "hgetall", "xrange", "multi", "exec", "discard", "incrby", "lpush", "ltrim", "lrange",
        "wait",                  # REDIS_WAIT_REPLICAS > 0: after each vote batch (shared/votestore/batcher.py)
    ),
    "flusher": (
        *_CONNECTION, *_PROJECTION, *_RECONCILE,
        "xreadgroup", "xack", "xautoclaim", "xtrim", "xpending", "xrange", "xinfo|groups",
        "wait",                  # REDIS_WAIT_REPLICAS > 0: after its reads (shared/votestore/streams.py)
        "get", "set", "ttl",     # the national attack level (voting_service/services/attack.py)
    ),
    "admin": (
        *_CONNECTION, *_PROJECTION, *_RECONCILE,
        # staff login throttle (admin_service/auth/throttle.py): two scripts, and the commands inside them
        "evalsha", "eval", "script|load", "get", "incr", "decr", "del", "incrby", "expire", "ttl",
    ),
}
# The exporters' Redis user: introspection only, no key (``resetkeys``), nothing that writes.
MONITOR_REDIS_COMMANDS = ("ping", "select", "info", "config|get", "slowlog|get", "slowlog|len", "latency|latest",
                          "latency|histogram", "client|setname", "dbsize", "role", "cluster|info",
                          "memory|stats", "module|list")
MONITOR_DATABASE_VAR, MONITOR_REDIS_VAR = "MONITOR_DATABASE_URL", "MONITOR_REDIS_URL"

# Key patterns. The internet-facing voting service gets only the prefixes it uses (shared/votestore/keys.py:
# {c*, faces:campaign:*; voting_service/redis_keys.py: otp:*, rl:*, dev:outbox:*), so it cannot touch staff
# login throttles, for one; the flusher and the admin service, all keys of their database.
REDIS_KEYS: dict[str, tuple[str, ...]] = {
    "voting": ("{c*", "faces:campaign:*", "otp:*", "rl:*", "dev:outbox:*"),
    "flusher": ("*",),
    "admin": ("*",),
}


def _check(service: str) -> str:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    return service


def database_var(service: str) -> str:
    return f"{_check(service).upper()}_DATABASE_URL"


def redis_var(service: str) -> str:
    return f"{_check(service).upper()}_REDIS_URL"


def service_urls(env: Mapping[str, str], service: str) -> tuple[str, str]:
    """(database_url, redis_url) the ``service`` connects with; ConfigError names a missing variable.

    Outside APP_ENV development/test (unset counts as outside) the service's own variables are required: a
    production service must never quietly run as the owner."""
    return service_database_url(env, service), service_redis_url(env, service)


def service_database_url(env: Mapping[str, str], service: str) -> str:
    return _own_or_shared(env, service, database_var(service), "DATABASE_URL", DEFAULT_DATABASE_URL)


def service_redis_url(env: Mapping[str, str], service: str) -> str:
    return _own_or_shared(env, service, redis_var(service), "REDIS_URL", DEFAULT_REDIS_URL)


def _own_or_shared(env: Mapping[str, str], service: str, own: str, shared_var: str, default: str) -> str:
    value = env.get(own, "")
    if value:
        return value
    if env.get("APP_ENV") not in DEV_ENVS:
        raise ConfigError(f"{own} is required when APP_ENV is not development or test "
                          f"(the {service} service's own restricted credentials; see docs/running.md)")
    return env.get(shared_var, "") or default


# --------------------------------------------------------------------------------------------- URLs

def url_credentials(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return unquote(parts.username or ""), unquote(parts.password or "")


def with_credentials(url: str, user: str, password: str) -> str:
    """``url`` with its user and password replaced (host, port, database and query kept; unix sockets too)."""
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{hostport}"))


def new_password() -> str:
    return secrets.token_urlsafe(24)


# --------------------------------------------------------------------------------------------- Postgres

async def provision_postgres_login(conn, service: str, user: str, password: str) -> None:
    """Create (or update the password of) ``user`` as a LOGIN member of the service's group. ``conn`` must be
    allowed to create roles (superuser or CREATEROLE) and migration 0005 must have created the groups."""
    import asyncpg

    group = PG_GROUPS[_check(service)]
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", user)
    verb = "ALTER" if exists else "CREATE"
    stmt = await conn.fetchval(
        f"SELECT format('{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
        "INHERIT PASSWORD %L', $1::text, $2::text)", user, password)
    try:
        await conn.execute(stmt)
    except asyncpg.DuplicateObjectError:  # created concurrently since we looked
        await conn.execute(stmt.replace("CREATE ROLE", "ALTER ROLE", 1))
    await conn.execute(await conn.fetchval("SELECT format('GRANT %I TO %I', $1::text, $2::text)", group, user))


async def provision_monitor_login(conn, user: str, password: str) -> None:
    """Create (or update) ``user`` as a LOGIN member of ``pg_monitor`` only: the exporter's statistics, no table."""
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", user)
    verb = "ALTER" if exists else "CREATE"
    await conn.execute(await conn.fetchval(
        f"SELECT format('{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
        "INHERIT PASSWORD %L', $1::text, $2::text)", user, password))
    await conn.execute(await conn.fetchval("SELECT format('GRANT pg_monitor TO %I', $1::text)", user))


async def drop_postgres_login(conn, user: str) -> None:
    await conn.execute(await conn.fetchval("SELECT format('DROP ROLE IF EXISTS %I', $1::text)", user))


# --------------------------------------------------------------------------------------------- Redis

def redis_acl_rules(service: str, *, password: str | None = None, password_sha256: str | None = None,
                    setinfo: bool = False) -> list[str]:
    """ACL SETUSER rules (after the user name): only this service's commands and keys, a password."""
    cmds = REDIS_COMMANDS[_check(service)] + (("client|setinfo",) if setinfo else ())
    secret = f">{password}" if password is not None else f"#{password_sha256}"
    return ["reset", "on", secret, "resetchannels", *(f"~{k}" for k in REDIS_KEYS[service]), "-@all",
            *(f"+{c}" for c in cmds)]


async def _knows_setinfo(r) -> bool:
    version = (await r.info("server")).get("redis_version", "0")
    return tuple(int(x) for x in str(version).split(".")[:2]) >= (7, 2)


async def provision_redis_user(r, service: str, user: str, password: str) -> None:
    """ACL SETUSER on the server of ``r`` (needs the ACL permission; raises redis NoPermissionError if not)."""
    if user == "default":
        raise ValueError("the default user is never changed")
    rules = redis_acl_rules(service, password=password, setinfo=await _knows_setinfo(r))
    for node in await _every_node(r):
        await node.execute_command("ACL", "SETUSER", user, *rules)


async def delete_redis_user(r, user: str) -> None:
    if user != "default":
        for node in await _every_node(r):
            await node.execute_command("ACL", "DELUSER", user)


async def _every_node(r) -> list:
    """``[r]``; on Redis Cluster a client of every node, replicas included: ACL users are per node and not
    propagated, and a promoted replica must know them. A node added later needs them too (``redis-acl-file``
    for its ``--aclfile``, or provision again)."""
    from shared.infra import ClusterClient

    return await r.every_node() if isinstance(r, ClusterClient) else [r]


def redis_acl_file(env: Mapping[str, str]) -> str:
    """An ACL file for redis-server --aclfile: the default (owner) user with REDIS_URL's password, one user per
    ``*_REDIS_URL``; passwords only as SHA-256."""
    def sha(pw: str) -> str:
        return hashlib.sha256(pw.encode()).hexdigest()

    _, owner_pw = url_credentials(env.get("REDIS_URL", ""))
    if not owner_pw:
        raise ConfigError("REDIS_URL must carry the default user's password (redis://:PASSWORD@host:port/0)")
    lines = [f"user default on #{sha(owner_pw)} ~* &* +@all"]
    for service in SERVICES:
        user, pw = url_credentials(env.get(redis_var(service), ""))
        if not user or not pw or user == "default":
            raise ConfigError(f"{redis_var(service)} must name its own user and password "
                              f"(redis://USER:PASSWORD@host:port/0)")
        lines.append(" ".join(["user", user, *redis_acl_rules(service, password_sha256=sha(pw))[1:]]))
    if env.get(MONITOR_REDIS_VAR):
        user, pw = url_credentials(env[MONITOR_REDIS_VAR])
        if not user or not pw or user == "default":
            raise ConfigError(f"{MONITOR_REDIS_VAR} must name its own user and password")
        lines.append(" ".join(["user", user, *monitor_acl_rules(sha(pw))]))
    return "\n".join(lines) + "\n"


def monitor_acl_rules(password_sha256: str) -> list[str]:
    """The exporter's user (after its name): on, a hashed password, no key, no channel, introspection only."""
    return ["on", f"#{password_sha256}", "resetkeys", "resetchannels", "-@all",
            *(f"+{c}" for c in MONITOR_REDIS_COMMANDS)]


# --------------------------------------------------------------------------------------------- make run

async def provision_dev(env: Mapping[str, str], *, names: Mapping[str, str] | None = None,
                        warn=print) -> dict[str, str]:
    """For development: create a restricted Postgres role and Redis user per service with fresh passwords,
    connected as DATABASE_URL / REDIS_URL, and return the ``*_DATABASE_URL`` / ``*_REDIS_URL`` to use. Where
    the given credentials may not (no CREATEROLE, no ACL permission), warn and return nothing for that store:
    the services then fall back to the given URLs. Variables already set in ``env`` are left alone.
    ``names``: service -> base name (default ``faces_<service>``; Redis users use '-' for '_')."""
    import asyncpg
    import redis.exceptions

    from shared.infra import create_redis

    out: dict[str, str] = {}
    db_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = env.get("REDIS_URL") or DEFAULT_REDIS_URL
    base = {s: (names or {}).get(s, f"faces_{s}") for s in SERVICES}

    todo = [s for s in SERVICES if not env.get(database_var(s))]
    if todo:
        conn = await asyncpg.connect(db_url)
        try:
            for s in todo:
                pw = new_password()
                await provision_postgres_login(conn, s, base[s], pw)
                out[database_var(s)] = with_credentials(db_url, base[s], pw)
        except asyncpg.InsufficientPrivilegeError as exc:
            warn(f"WARNING: cannot create the services' Postgres roles as the DATABASE_URL user ({exc}); "
                 "every service uses DATABASE_URL itself (development only)")
            out = {k: v for k, v in out.items() if not k.endswith("_DATABASE_URL")}
        finally:
            await conn.close()

    todo = [s for s in SERVICES if not env.get(redis_var(s))]
    if todo:
        r = create_redis(redis_url, timeout_s=5)
        try:
            for s in todo:
                user, pw = base[s].replace("_", "-"), new_password()
                await provision_redis_user(r, s, user, pw)
                out[redis_var(s)] = with_credentials(redis_url, user, pw)
        except redis.exceptions.NoPermissionError as exc:
            warn(f"WARNING: cannot create the services' Redis ACL users as the REDIS_URL user ({exc}); "
                 "every service uses REDIS_URL itself (development only)")
            out = {k: v for k, v in out.items() if not k.endswith("_REDIS_URL")}
        finally:
            await r.aclose()
    return out


def process_env(env: Mapping[str, str], service: str) -> dict[str, str]:
    """The environment for one service's process: its own URLs only; the owner's DATABASE_URL / REDIS_URL
    only where the service has no own URL for that store (the development fallback)."""
    drop = {v for s in SERVICES if s != service for v in (database_var(s), redis_var(s))}
    if env.get(database_var(service)):
        drop.add("DATABASE_URL")
    if env.get(redis_var(service)):
        drop.add("REDIS_URL")
    return {k: v for k, v in env.items() if k not in drop}


# --------------------------------------------------------------------------------------------- CLI

async def _provision_postgres_from_env(env: Mapping[str, str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    try:
        for s in SERVICES:
            user, pw = url_credentials(env.get(database_var(s), ""))
            if not user or not pw:
                raise ConfigError(f"{database_var(s)} must name its own role and password")
            await provision_postgres_login(conn, s, user, pw)
            print(f"role {user}: login, member of {PG_GROUPS[s]}")
        if env.get(MONITOR_DATABASE_VAR):
            user, pw = url_credentials(env[MONITOR_DATABASE_VAR])
            if not user or not pw:
                raise ConfigError(f"{MONITOR_DATABASE_VAR} must name its own role and password")
            await provision_monitor_login(conn, user, pw)
            print(f"role {user}: login, member of pg_monitor")
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    import asyncio

    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv == ["provision-postgres"]:
            asyncio.run(_provision_postgres_from_env(os.environ))
            return 0
        if argv == ["redis-acl-file"]:
            sys.stdout.write(redis_acl_file(os.environ))
            return 0
    except ConfigError as exc:
        print(f"store_access: {exc}", file=sys.stderr)
        return 2
    print("usage: python -m shared.store_access provision-postgres | redis-acl-file", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
