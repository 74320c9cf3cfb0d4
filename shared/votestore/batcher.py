"""The batcher that sends many concurrent calls of one Lua script to Redis in one pipeline.

Under load hundreds of requests in one worker want Redis at once; rather than each taking a connection
and a round trip, calls queue up and a drainer sends them together (``EVALSHA`` x N in one pipeline, no
MULTI: each script is atomic on its own). When Redis is slow the batches simply grow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from shared.errors import Unavailable
from shared.votestore import wire
from shared.votestore.script import Script


def _bulk(value: Any) -> bytes:
    """One RESP bulk string (what redis-py's ``pack_command`` makes of str, int and bytes arguments)."""
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str):
        raw = value.encode()
    elif isinstance(value, int) and not isinstance(value, bool):
        raw = b"%d" % value
    else:
        raise TypeError(f"unsupported script argument {value!r}")
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


class ReplicaWaitFailed(redis.exceptions.ConnectionError):
    """WAIT returned fewer replicas than required: the batch's writes may be lost in a failover, so none of its
    callers is told it succeeded (they get Unavailable, like a connection failure)."""


def _expire(group: list[asyncio.Future[Any]]) -> None:
    for fut in group:
        if not fut.done():
            fut.set_exception(Unavailable("The vote store did not answer in time; try again."))


class ScriptBatcher:
    """Runs one script for many callers, pipelining whatever has queued since the last round trip.

    A call costs one future: no ``wait_for``/``shield`` per caller. Deadlines are kept per *group* of calls
    queued within ``GROUP_S`` of each other: one timer per group fails whatever of it is still unanswered
    ``timeout_s`` after the group opened (a caller waits at most ``timeout_s``, at least ``timeout_s -
    GROUP_S``). The ``EVALSHA`` commands are packed into RESP here, the script's constant trailing arguments
    (``tail_args``) once at construction, and each batch goes out in one write on one pooled connection.
    """

    GROUP_S = 0.01
    KEY_CACHE = 50_000

    def __init__(self, r: aioredis.Redis, script: Script, *, max_batch: int = 512, max_inflight: int = 2,
                 timeout_s: float = 1.5, tail_args: Sequence[Any] = (), wait_replicas: int = 0,
                 wait_timeout_ms: int = 100) -> None:
        self._redis = r
        self._script = script
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._timeout_s = timeout_s
        self._queue: list[tuple[Sequence[str], Sequence[Any], asyncio.Future[Any]]] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._tail = b"".join(_bulk(a) for a in tail_args)
        self._n_tail = len(tail_args)
        self._head = _bulk("EVALSHA") + _bulk(script.sha)
        self._group: list[asyncio.Future[Any]] = []
        self._group_t0 = float("-inf")
        self._packed_keys: dict[str, bytes] = {}  # a key's RESP form: most keys recur (per campaign, bucket)
        # ``wait_replicas`` > 0: every batch ends with ``WAIT wait_replicas wait_timeout_ms`` on the same
        # connection, so its writes are on that many replicas before any caller is answered; a batch the
        # replicas did not confirm in time fails (Unavailable) as a whole.
        self._wait_replicas = wait_replicas
        self._wait = (b"*3\r\n" + _bulk("WAIT") + _bulk(wait_replicas) + _bulk(wait_timeout_ms)
                      if wait_replicas > 0 else b"")

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        now = loop.time()
        if now - self._group_t0 > self.GROUP_S:
            self._group = []
            self._group_t0 = now
            loop.call_at(now + self._timeout_s, _expire, self._group)
        self._group.append(fut)
        self._queue.append((keys, args, fut))
        self._kick()
        return await fut

    def _kick(self) -> None:
        while self._queue and self._inflight < self._max_inflight:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch:]
            self._inflight += 1
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[Sequence[str], Sequence[Any], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._execute(batch)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError, TimeoutError) as exc:
            for _, _, fut in batch:
                if not fut.done():
                    err = Unavailable("The vote store is not answering; try again shortly.")
                    err.__cause__ = exc
                    fut.set_exception(err)
        except BaseException as exc:  # surface anything unexpected to the callers, never hang them
            for _, _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for (_, _, fut), res in zip(batch, results):
                if fut.done():
                    continue
                if isinstance(res, Exception):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)
        finally:
            self._inflight -= 1
            self._kick()

    async def _execute(self, batch: list[tuple[Sequence[str], Sequence[Any], asyncio.Future[Any]]]) -> list[Any]:
        results = await self._pipeline([(keys, args) for keys, args, _ in batch])
        retry = [i for i, res in enumerate(results) if isinstance(res, redis.exceptions.NoScriptError)]
        if retry:
            # Redis restarted or was flushed: a NOSCRIPT call did nothing, so load and re-send just those.
            await self._script.load(self._redis)
            again = await self._pipeline([(batch[i][0], batch[i][1]) for i in retry])
            for i, res in zip(retry, again):
                results[i] = res
        return results

    def _pack(self, calls: list[tuple[Sequence[str], Sequence[Any]]]) -> bytes:
        head, tail, n_tail, packed_keys = self._head, self._tail, self._n_tail, self._packed_keys
        if len(packed_keys) > self.KEY_CACHE:  # unique keys (per voter) pass through: start again
            packed_keys.clear()
        parts: list[bytes] = []
        append = parts.append
        for keys, args in calls:
            append(b"*%d\r\n" % (3 + len(keys) + len(args) + n_tail))
            append(head)
            append(_bulk(len(keys)))
            for key in keys:
                raw = packed_keys.get(key)
                if raw is None:
                    raw = packed_keys[key] = _bulk(key)
                append(raw)
            for a in args:
                append(_bulk(a))
            append(tail)
        return b"".join(parts)

    async def _pipeline(self, calls: list[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        """Like a non-transactional redis-py pipeline of ``EVALSHA``s (an error reply is returned in its
        place, a connection failure raised for the batch), with one deadline (``timeout_s``) for all the
        batch's replies; shared/votestore/wire.py does the connection work."""
        if not self._wait:
            return await wire.send_batch(self._redis, self._pack(calls), len(calls), self._timeout_s)
        results = await wire.send_batch(self._redis, self._pack(calls) + self._wait, len(calls) + 1,
                                        self._timeout_s)
        acked = results.pop()
        if isinstance(acked, Exception) or acked < self._wait_replicas:
            if all(isinstance(res, redis.exceptions.MovedError) for res in results):
                # A replica now (failed over: WAIT is refused there): nothing was written; the cluster batcher
                # re-sends each call to the new owner.
                return results
            raise ReplicaWaitFailed(f"{acked!r} of {self._wait_replicas} replicas confirmed the batch in time")
        return results

    async def close(self) -> None:
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)


class ClusterScriptBatcher:
    """``ScriptBatcher`` on Redis Cluster: one batcher (and pool) per primary, each call sent to the primary
    that owns its keys' slot (all keys of a call share one hash tag, so one slot).

    The slot map is redis-py's (``RedisCluster.nodes_manager``); a call's slot is cached by its first key. A
    ``MOVED`` reply (slots moved, a replica promoted) re-reads the map and re-sends that call to the new owner
    (at most twice); ``ASK`` (a slot migrating) sends it through redis-py's own cluster client, which follows
    the redirect (without the replica ``WAIT``: only during a resharding). A node that does not answer fails
    its callers with ``Unavailable`` at once, as on a single Redis, and the map is re-read in the background
    (at most every ``REFRESH_EVERY_S``) so calls go to the promoted replica as soon as the cluster has one.
    The single-Redis path (``ScriptBatcher``) is untouched: ``vote.vote_batcher`` picks one or the other.
    """

    REFRESH_EVERY_S = 0.25
    KEY_CACHE = 50_000

    def __init__(self, rc: Any, script: Script, **options: Any) -> None:
        """``rc``: a ``shared.infra.ClusterClient`` (``create_redis`` of a ``redis+cluster://`` URL)."""
        self._rc = rc
        self._script = script
        self._options = options
        self._tail = tuple(options.get("tail_args", ()))
        self._by_node: dict[str, ScriptBatcher] = {}
        self._slots: dict[str, int] = {}
        self._ready = False
        self._refresh_task: asyncio.Task[None] | None = None
        self._last_refresh = float("-inf")

    def _batcher(self, key: str) -> ScriptBatcher:
        slot = self._slots.get(key)
        if slot is None:
            if len(self._slots) > self.KEY_CACHE:
                self._slots.clear()
            slot = self._slots[key] = self._rc.keyslot(key)
        node = self._rc.nodes_manager.get_node_from_slot(slot)
        batcher = self._by_node.get(node.name)
        if batcher is None:
            batcher = self._by_node[node.name] = ScriptBatcher(
                self._rc.node_client(node.host, node.port), self._script, **self._options)
        return batcher

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        if not self._ready:
            await self._rc.initialize()
            self._ready = True
        for attempt in range(3):
            try:
                return await self._batcher(keys[0])(keys, args)
            except (redis.exceptions.MovedError, redis.exceptions.SlotNotCoveredError):  # (MovedError is an AskError)
                if attempt == 2:
                    raise Unavailable("The vote store is moving this vote's shard; try again shortly.") from None
                await self._refresh()
            except redis.exceptions.AskError:  # the slot is migrating: redis-py follows ASK (EVAL if NOSCRIPT)
                return await self._script(self._rc, keys, [*args, *self._tail])
            except (Unavailable, redis.exceptions.TryAgainError, redis.exceptions.ClusterDownError) as exc:
                self._refresh_soon()
                if isinstance(exc, Unavailable):
                    raise
                raise Unavailable("The vote store is failing over; try again shortly.") from exc
        raise AssertionError("unreachable")

    async def _refresh(self) -> None:
        loop = asyncio.get_running_loop()
        if self._refresh_task is None or self._refresh_task.done():
            self._refresh_task = loop.create_task(self._reinitialize())
        await asyncio.shield(self._refresh_task)

    def _refresh_soon(self) -> None:
        loop = asyncio.get_running_loop()
        if (self._refresh_task is None or self._refresh_task.done()) and \
                loop.time() - self._last_refresh >= self.REFRESH_EVERY_S:
            self._refresh_task = loop.create_task(self._reinitialize())
            self._refresh_task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _reinitialize(self) -> None:
        self._last_refresh = asyncio.get_running_loop().time()
        await self._rc.refresh_slots()

    async def close(self) -> None:
        if self._refresh_task is not None and not self._refresh_task.done():
            self._refresh_task.cancel()
            await asyncio.gather(self._refresh_task, return_exceptions=True)
        for batcher in list(self._by_node.values()):
            await batcher.close()  # the node clients are the cluster client's (closed with it)
