"""Factories for the Postgres pool and the Redis client. Called from lifespans and commands, never at import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
import msgspec
import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.cluster import ClusterNode, RedisCluster

_json_encode = msgspec.json.encode
_json_decode = msgspec.json.decode


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=lambda v: _json_encode(v).decode(), decoder=_json_decode,
                                  schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A pool's ``reset`` that sends nothing: asyncpg still rolls back a transaction left open and drops the
    connection's listeners before calling it (``Connection._reset``); the default ``RESET ALL; CLOSE ALL;
    UNLISTEN *; SELECT pg_advisory_unlock_all()`` round trip is skipped."""


async def create_pool(database_url: str, *, min_size: int = 0, max_size: int = 10,
                      reset_session: bool = True) -> asyncpg.Pool:
    """min_size=0 by default: a service starts (and serves what needs no Postgres) while Postgres is down.

    ``reset_session=False`` for a service whose code never changes a session's state (no session ``SET``,
    ``LISTEN``, advisory lock or ``WITH HOLD`` cursor; ``SET LOCAL`` in a transaction is fine): a connection
    goes back to the pool without the reset round trip. The voting service: it saves one round trip (and
    Postgres' work for it) per request that reads Postgres, e.g. the receipt lookup (docs/performance.md)."""
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=_init_connection,
        command_timeout=10, timeout=5, reset=None if reset_session else _keep_session,
    )


CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}  # scheme -> TLS


def is_cluster_url(redis_url: str) -> bool:
    return urlsplit(redis_url).scheme in CLUSTER_SCHEMES


def is_cluster(r: Any) -> bool:
    """Is ``r`` a Redis Cluster client (``create_redis`` of a ``redis+cluster://`` URL)?"""
    return isinstance(r, RedisCluster)


def create_redis(redis_url: str, *, timeout_s: float = 1.0, max_connections: int = 64) -> aioredis.Redis:
    """Short socket timeouts: a hung Redis turns into an error within ``timeout_s``, never a hung request.

    ``redis://`` / ``rediss://`` / ``unix://``: one Redis (redis-py's client on a blocking pool).
    ``redis+cluster://[user:password@]host:port,host:port,...`` (``rediss+cluster://`` with TLS): a Redis
    Cluster through redis-py's ``RedisCluster``; the nodes listed are seeds (any reachable one will do, the
    client learns the rest from CLUSTER SLOTS); a path (database) is ignored, a cluster has only database 0.
    ``max_connections`` is then per node."""
    if is_cluster_url(redis_url):
        return create_redis_cluster(redis_url, timeout_s=timeout_s, max_connections=max_connections)
    # A blocking pool: a burst beyond max_connections waits (up to timeout_s) for a free connection
    # instead of failing at once.
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=0,
        max_connections=max_connections,
        timeout=timeout_s,
        decode_responses=True,
    )
    return aioredis.Redis.from_pool(pool)  # the client owns the pool and closes it


def cluster_seeds(redis_url: str) -> tuple[list[tuple[str, int]], str | None, str | None, bool]:
    """(seed nodes, user, password, tls) of a ``redis+cluster://`` URL."""
    parts = urlsplit(redis_url)
    if parts.scheme not in CLUSTER_SCHEMES:
        raise ValueError(f"not a cluster URL: {parts.scheme}://")
    creds, _, hosts = parts.netloc.rpartition("@")
    user, _, password = creds.partition(":")
    seeds = []
    for hp in hosts.split(","):
        host, _, port = hp.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"cluster node {hp!r} is not host:port")
        seeds.append((host.strip("[]"), int(port)))
    return seeds, unquote(user) or None, unquote(password) or None, CLUSTER_SCHEMES[parts.scheme]


class ClusterClient(RedisCluster):
    """redis-py's ``RedisCluster`` plus plain clients of single primaries, for what its cluster API does badly:

    - ``node_client(host, port)``: a pooled plain client of one node (the vote batcher pipelines its script
      calls per primary over it: shared/votestore/batcher.py);
    - ``transaction(key, fill)``: MULTI/EXEC of commands on keys of one slot, on the primary owning ``key``.
      redis-py 8's async cluster transaction pipeline runs each queued command through ``asyncio.run`` in a
      thread (and initialises the client on that thread's loop when it must), so it is never used here.

    The node clients' connections are closed with the cluster client (``aclose``)."""

    def __init__(self, *args: Any, faces_node_options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.faces_node_options = faces_node_options
        self._node_clients: dict[str, aioredis.Redis] = {}

    def node_client(self, host: str, port: int) -> aioredis.Redis:
        name = f"{host}:{port}"
        client = self._node_clients.get(name)
        if client is None:
            o = self.faces_node_options
            timeout_s = o["timeout_s"]
            pool = aioredis.BlockingConnectionPool(
                host=host, port=port, username=o.get("username"), password=o.get("password"),
                socket_timeout=timeout_s, socket_connect_timeout=timeout_s, health_check_interval=0,
                max_connections=o["max_connections"], timeout=timeout_s, decode_responses=True,
                **({"connection_class": aioredis.SSLConnection} if o.get("ssl") else {}),
            )
            client = self._node_clients[name] = aioredis.Redis.from_pool(pool)
        return client

    async def primary_client(self, key: str) -> aioredis.Redis:
        await self.initialize()
        node = self.nodes_manager.get_node_from_slot(self.keyslot(key))
        return self.node_client(node.host, node.port)

    async def every_node(self) -> list[aioredis.Redis]:
        """Plain clients of every node, primaries and their replicas (from each primary's INFO replication:
        redis-py's node list holds primaries only). For what a cluster does not propagate: ACL users."""
        await self.initialize()
        out = []
        for node in self.get_primaries():
            primary = self.node_client(node.host, node.port)
            out.append(primary)
            info = await primary.info("replication")
            for k, v in info.items():
                if k.startswith("slave") and isinstance(v, dict) and "port" in v:
                    out.append(self.node_client(str(v["ip"]), int(v["port"])))
        return out

    async def refresh_slots(self) -> None:
        """Re-read the slot map (after MOVED or a node that stopped answering)."""
        await self.nodes_manager.initialize()

    async def transaction(self, key: str, fill: Callable[[Any], None]) -> list[Any]:
        """``fill(pipe)`` queues commands on keys of ``key``'s slot; run them as MULTI/EXEC on its primary.
        A ``MOVED`` or a dead primary re-reads the slot map and tries once more."""
        for attempt in (0, 1):
            pipe = (await self.primary_client(key)).pipeline(transaction=True)
            fill(pipe)
            try:
                return await pipe.execute()
            except (redis.exceptions.MovedError, redis.exceptions.ConnectionError,
                    redis.exceptions.TimeoutError, redis.exceptions.ClusterDownError,
                    redis.exceptions.TryAgainError):
                if attempt:
                    raise
                await self.refresh_slots()
        raise AssertionError("unreachable")

    async def aclose(self, *args: Any, **kwargs: Any) -> None:
        # redis-py also calls ``aclose`` itself to reset its slot map (on CLUSTERDOWN, a slot not covered, every
        # few MOVEDs), not only when the owner closes the client. Every connection of the node clients is closed
        # either way, but the clients stay registered: the vote batchers hold them and reconnect through them.
        # Forgetting them here once let a batcher open connections in a pool nobody would close again
        # (unclosed sockets after a failover).
        for client in list(self._node_clients.values()):
            await client.aclose()
        await super().aclose(*args, **kwargs)


async def transaction(r: Any, key: str, fill: Callable[[Any], None]) -> list[Any]:
    """MULTI/EXEC of the commands ``fill(pipe)`` queues, all on keys sharing ``key``'s hash slot: on one Redis
    a transaction pipeline; on a cluster on the primary owning the slot (``ClusterClient.transaction``)."""
    if isinstance(r, ClusterClient):
        return await r.transaction(key, fill)
    pipe = r.pipeline(transaction=True)
    fill(pipe)
    return await pipe.execute()


def create_redis_cluster(redis_url: str, *, timeout_s: float = 1.0, max_connections: int = 64) -> ClusterClient:
    seeds, user, password, tls = cluster_seeds(redis_url)
    options: dict[str, Any] = {"username": user, "password": password, "socket_timeout": timeout_s,
                               "socket_connect_timeout": timeout_s, "ssl": tls}
    return ClusterClient(
        startup_nodes=[ClusterNode(h, p) for h, p in seeds],
        decode_responses=True,
        max_connections=max_connections,
        # After a primary fails its replica takes over within the cluster's node timeout; until then, calls
        # for its slots fail (the caller answers 503) and the client re-reads the slot map.
        faces_node_options={**options, "max_connections": max_connections, "timeout_s": timeout_s},
        **options,
    )
