"""A real Redis Cluster on loopback for tests, load tests and chaos runs: N primaries with one replica each,
started from ``redis-server`` (``--cluster-enabled yes``) and joined with ``redis-cli --cluster create``.

    from devtools.rediscluster import LocalCluster

    with LocalCluster(primaries=3) as cluster:      # 3 primaries + 3 replicas, ports from free_port()
        url = cluster.url()                          # "redis+cluster://127.0.0.1:p1,127.0.0.1:p2,..."
        old, new = cluster.kill_primary()            # kill -9 a primary, wait until its replica took over
        cluster.restart(old)                         # the killed node back (it rejoins as a replica)
        old, new = cluster.failover()                # CLUSTER FAILOVER on a replica: a clean switch-over

API (all synchronous, so fixtures and scripts share it; every method raises ``ClusterError`` on a timeout):

- ``LocalCluster(primaries=3, replicas=1, node_timeout_ms=1000, password=None, appendonly=False,
  extra_args=(), host="127.0.0.1")``; ``start()`` / ``stop()`` or ``with``.
- ``url(user=None, password=None)`` the ``redis+cluster://`` URL the services take (shared/infra.py);
  ``seed_urls()`` one ``redis://`` URL per node.
- ``nodes``: every ``Node`` (``port``, ``bus_port``, ``proc``; ``alive``); ``primaries()`` / ``replicas()``
  the live nodes' ports by their current role; ``replica_of(port)``; ``primary_for_key(key)``.
- ``kill_primary(port=None, sig=SIGKILL, wait=True)`` -> ``(killed, promoted)``: kills a primary (default the
  first; by ``port`` the one to kill; ``SIGSTOP`` also works: the node hangs and is failed over); with
  ``wait`` returns once one of its replicas serves its slots and every live node reports ``cluster_state:ok``
  (``promoted`` is that replica; without ``wait``, the replica expected).
- ``failover(port=None)`` -> ``(old, new)``: ``CLUSTER FAILOVER`` on a primary's replica (no loss, no kill).
- ``restart(port)`` starts a killed node again (same port, config file, data dir); ``resume(port)`` SIGCONTs
  a stopped one, ``freeze(port)`` stops one (any node). ``wait_ok(timeout_s)`` waits for ``cluster_state:ok`` and full slot coverage.
- ``acl_setuser(user, *rules)`` on every node (ACL users are per node in a cluster, replicas included).

Nothing here is imported by the services; it needs ``redis-server`` and ``redis-cli`` on PATH (7.0+).
"""

from __future__ import annotations

import atexit
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.crc import key_slot

from devtools.ports import free_port, port_open


class ClusterError(RuntimeError):
    pass


@dataclass
class Node:
    port: int
    bus_port: int
    proc: subprocess.Popen[bytes] | None = None
    stopped: bool = False  # SIGSTOPped

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class LocalCluster:
    def __init__(self, primaries: int = 3, replicas: int = 1, *, node_timeout_ms: int = 1000,
                 password: str | None = None, appendonly: bool = False, extra_args: Sequence[str] = (),
                 host: str = "127.0.0.1") -> None:
        self.primaries_n, self.replicas_n = primaries, replicas
        self.node_timeout_ms, self.password, self.appendonly = node_timeout_ms, password, appendonly
        self.extra_args, self.host = tuple(extra_args), host
        self.nodes: list[Node] = []
        self.workdir: Path | None = None

    # ------------------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout_s: float = 30.0) -> LocalCluster:
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            raise ClusterError("redis-server and redis-cli must be on PATH")
        self.workdir = Path(tempfile.mkdtemp(prefix="faces-cluster-"))
        atexit.register(self.stop)  # an interrupted run (Ctrl-C, SIGTERM turned into an exception) leaves nothing
        try:
            used: set[int] = set()
            for _ in range(self.primaries_n * (1 + self.replicas_n)):
                port, bus = self._port(used), self._port(used)
                self.nodes.append(Node(port, bus))
            for node in self.nodes:
                self._spawn(node)
            for node in self.nodes:
                self._wait_port(node.port, timeout_s)
            if self.primaries_n >= 3:
                cmd = ["redis-cli", "--cluster", "create", *[f"{self.host}:{n.port}" for n in self.nodes],
                       "--cluster-replicas", str(self.replicas_n), "--cluster-yes"]
                if self.password:
                    cmd[1:1] = ["-a", self.password, "--no-auth-warning"]
                out = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
                if out.returncode != 0:
                    raise ClusterError(f"redis-cli --cluster create failed: {out.stdout.decode()[-2000:]}"
                                       f"{out.stderr.decode()[-2000:]}")
            else:
                self._create_small()  # redis-cli --cluster create wants at least 3 primaries
            self.wait_ok(timeout_s, replicas=True)
        except BaseException:
            self.stop()
            raise
        return self

    def _create_small(self) -> None:
        """1 or 2 primaries (a baseline for scaling figures): the slots split by hand, the nodes introduced to the
        first, each primary's replicas attached to it."""
        primaries = self.nodes[:self.primaries_n]
        share = 16384 // self.primaries_n
        for i, node in enumerate(primaries):
            hi = 16383 if i == self.primaries_n - 1 else (i + 1) * share - 1
            with self.client(node.port) as c:
                c.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, hi)
        with self.client(self.nodes[0].port) as c:
            for node in self.nodes[1:]:
                c.execute_command("CLUSTER", "MEET", self.host, node.port, node.bus_port)
        deadline = time.monotonic() + 30
        for i, node in enumerate(self.nodes[self.primaries_n:]):
            primary = primaries[i % self.primaries_n]
            while True:
                with self.client(primary.port) as c:
                    primary_id = c.execute_command("CLUSTER", "MYID")
                try:
                    with self.client(node.port) as c:
                        c.execute_command("CLUSTER", "REPLICATE", primary_id)
                    break
                except redis.RedisError:  # not yet known to it (gossip)
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

    def stop(self) -> None:
        atexit.unregister(self.stop)
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                if node.stopped:
                    node.proc.send_signal(signal.SIGCONT)
                node.proc.kill()
        for node in self.nodes:
            if node.proc is not None:
                try:
                    node.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _port(self, used: set[int]) -> int:
        for _ in range(100):
            p = free_port(host=self.host)
            if p not in used:
                used.add(p)
                return p
        raise ClusterError("no free port")

    def _spawn(self, node: Node) -> None:
        assert self.workdir is not None
        d = self.workdir / str(node.port)
        d.mkdir(exist_ok=True)
        args = ["redis-server", "--port", str(node.port), "--bind", self.host, "--cluster-enabled", "yes",
                "--cluster-port", str(node.bus_port), "--cluster-config-file", f"nodes-{node.port}.conf",
                "--cluster-node-timeout", str(self.node_timeout_ms), "--dir", str(d), "--save", "",
                "--appendonly", "yes" if self.appendonly else "no", "--daemonize", "no",
                "--logfile", str(d / "redis.log"), "--protected-mode", "no",
                # A replica that lost its primary may take over at once (no "data too old" refusal in tests).
                "--cluster-replica-validity-factor", "0",
                # A replica's full sync starts at once: the default waits 5 s for more replicas to share one
                # transfer, which was most of a cluster's start (and of a restarted node's rejoining).
                "--repl-diskless-sync-delay", "0"]
        if self.password:
            args += ["--requirepass", self.password, "--masterauth", self.password]
        args += list(self.extra_args)
        node.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        node.stopped = False

    def _wait_port(self, port: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not port_open(self.host, port):
            if time.monotonic() > deadline:
                raise ClusterError(f"redis-server on port {port} did not start")
            time.sleep(0.05)

    # ------------------------------------------------------------------------------------------ addresses

    def url(self, user: str | None = None, password: str | None = None) -> str:
        """``redis+cluster://[user:password@]host:port,host:port,...``: every node as a seed."""
        password = password if password is not None else (self.password if user is None else None)
        cred = ""
        if user or password:
            from urllib.parse import quote
            cred = f"{quote(user or '', safe='')}:{quote(password or '', safe='')}@"
        return "redis+cluster://" + cred + ",".join(f"{self.host}:{n.port}" for n in self.nodes)

    def seed_urls(self) -> list[str]:
        return [f"redis://{self.host}:{n.port}/0" for n in self.nodes]

    def client(self, port: int, timeout_s: float = 2.0) -> redis.Redis:
        return redis.Redis(host=self.host, port=port, password=self.password, socket_timeout=timeout_s,
                           socket_connect_timeout=timeout_s, decode_responses=True)

    def node(self, port: int) -> Node:
        for n in self.nodes:
            if n.port == port:
                return n
        raise ClusterError(f"no node on port {port}")

    def _live(self) -> list[Node]:
        return [n for n in self.nodes if n.alive and not n.stopped]

    def _view(self) -> list[dict[str, str]]:
        """CLUSTER NODES as seen by a live node: one dict per node (port, flags, master id, id, slots)."""
        for n in self._live():
            try:
                with self.client(n.port) as c:
                    text = c.execute_command("CLUSTER", "NODES")
            except redis.RedisError:
                continue
            if isinstance(text, dict):  # redis-py may parse it
                raise ClusterError("unexpected parsed CLUSTER NODES reply")
            rows = []
            for line in text.strip().splitlines():
                parts = line.split()
                addr = parts[1].split("@")[0]
                rows.append({"id": parts[0], "port": addr.rsplit(":", 1)[1], "flags": parts[2],
                             "master": parts[3], "slots": " ".join(parts[8:])})
            return rows
        raise ClusterError("no live node answers")

    def primaries(self) -> list[int]:
        """Ports of the live nodes that are primaries now (serving slots)."""
        live = {n.port for n in self._live()}
        return sorted(int(r["port"]) for r in self._view()
                      if "master" in r["flags"] and "fail" not in r["flags"] and int(r["port"]) in live
                      and r["slots"])

    def replicas(self) -> list[int]:
        live = {n.port for n in self._live()}
        return sorted(int(r["port"]) for r in self._view() if "slave" in r["flags"] and int(r["port"]) in live)

    def replica_of(self, port: int) -> int:
        rows = self._view()
        by_port = {int(r["port"]): r for r in rows}
        pid = by_port[port]["id"]
        live = {n.port for n in self.nodes if n.alive}  # a frozen replica counts (it will be thawed)
        for r in rows:
            if r["master"] == pid and int(r["port"]) in live and "fail" not in r["flags"]:
                return int(r["port"])
        raise ClusterError(f"primary {port} has no live replica")

    def primary_for_key(self, key: str) -> int:
        slot = key_slot(key.encode())
        for r in self._view():
            if "master" not in r["flags"] or "fail" in r["flags"]:
                continue
            for rng in r["slots"].split():
                if rng.startswith("["):
                    continue
                lo, _, hi = rng.partition("-")
                if int(lo) <= slot <= int(hi or lo):
                    return int(r["port"])
        raise ClusterError(f"no primary serves slot {slot}")

    # ------------------------------------------------------------------------------------------ health

    def wait_ok(self, timeout_s: float = 30.0, *, replicas: bool = False) -> None:
        """Every live node says ``cluster_state:ok`` with all 16384 slots ok (and, with ``replicas``, each
        primary has its replicas attached and in sync)."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            try:
                ok = True
                for n in self._live():
                    with self.client(n.port) as c:
                        info = c.execute_command("CLUSTER", "INFO")
                    text = info if isinstance(info, str) else "\n".join(f"{k}:{v}" for k, v in info.items())
                    if "cluster_state:ok" not in text or "cluster_slots_ok:16384" not in text:
                        ok, last = False, f"node {n.port}: {text[:200]}"
                        break
                if ok and replicas and not self._replicas_synced():
                    ok, last = False, "replicas not in sync yet"
                if ok:
                    return
            except redis.RedisError as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise ClusterError(f"cluster not ok after {timeout_s} s: {last}")

    def _replicas_synced(self) -> bool:
        for port in self.primaries():
            with self.client(port) as c:
                info = c.info("replication")
            if int(info.get("connected_slaves", 0)) < self.replicas_n:
                return False
            for k, v in info.items():
                if k.startswith("slave") and isinstance(v, dict) and v.get("state") != "online":
                    return False
        return True

    # ------------------------------------------------------------------------------------------ faults

    def kill_primary(self, port: int | None = None, *, sig: int = signal.SIGKILL, wait: bool = True,
                     timeout_s: float = 30.0) -> tuple[int, int]:
        """Kill (or, with SIGSTOP, freeze) a primary; its replica is promoted by the cluster itself after
        ``node_timeout_ms``. Returns (the killed port, the replica that takes over)."""
        port = port if port is not None else self.primaries()[0]
        replica = self.replica_of(port)
        slot = self._first_slot(port)
        node = self.node(port)
        assert node.proc is not None
        node.proc.send_signal(sig)
        if sig == signal.SIGSTOP:
            node.stopped = True
        else:
            node.proc.wait(10)
        if wait:  # with several replicas the cluster picks one (the most up to date): whichever it is
            replica = self._wait_slot_moved(slot, port, timeout_s)
            self.wait_ok(timeout_s)
        return port, replica

    def _first_slot(self, port: int) -> int:
        for r in self._view():
            if int(r["port"]) == port:
                for rng in r["slots"].split():
                    if not rng.startswith("["):
                        return int(rng.partition("-")[0])
        raise ClusterError(f"node {port} serves no slot")

    def _wait_slot_moved(self, slot: int, old: int, timeout_s: float) -> int:
        """The live primary that serves ``slot`` once it is no longer ``old``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                for r in self._view():
                    p = int(r["port"])
                    if p == old or "master" not in r["flags"] or "fail" in r["flags"]:
                        continue
                    for rng in r["slots"].split():
                        if rng.startswith("["):
                            continue
                        lo, _, hi = rng.partition("-")
                        if int(lo) <= slot <= int(hi or lo):
                            return p
            except (ClusterError, redis.RedisError):
                pass
            time.sleep(0.05)
        raise ClusterError(f"no replica of {old} was promoted within {timeout_s} s")

    def failover(self, port: int | None = None, timeout_s: float = 30.0) -> tuple[int, int]:
        """A clean switch-over: ``CLUSTER FAILOVER`` on the primary's replica (it catches up first: no loss)."""
        port = port if port is not None else self.primaries()[0]
        replica = self.replica_of(port)
        with self.client(replica) as c:
            c.execute_command("CLUSTER", "FAILOVER")
        self._wait_promoted(replica, timeout_s)
        self.wait_ok(timeout_s)
        self._wait_demoted(port, timeout_s)
        return port, replica

    def _wait_demoted(self, port: int, timeout_s: float) -> None:
        """Until the cluster's view (the node ``primary_for_key`` asks) no longer has ``port`` as a primary: the
        promoted replica's claim spreads by gossip, a moment after the replica itself says it is the primary."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if not any(int(r["port"]) == port and "master" in r["flags"] for r in self._view()):
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise ClusterError(f"node {port} still a primary in the cluster's view after {timeout_s} s")

    def _wait_promoted(self, port: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with self.client(port) as c:
                    if c.info("replication").get("role") == "master":
                        return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise ClusterError(f"node {port} was not promoted within {timeout_s} s")

    def restart(self, port: int, timeout_s: float = 30.0) -> None:
        """Start a killed node again; it rejoins (as a replica of whoever took its slots)."""
        node = self.node(port)
        if node.alive:
            raise ClusterError(f"node {port} is running")
        self._spawn(node)
        self._wait_port(port, timeout_s)
        self.wait_ok(timeout_s)

    def freeze(self, port: int) -> None:
        """SIGSTOP a node (it hangs: a replica falls behind, a primary is failed over after the node timeout)."""
        node = self.node(port)
        if node.proc is not None and node.alive:
            node.proc.send_signal(signal.SIGSTOP)
            node.stopped = True

    def resume(self, port: int) -> None:
        node = self.node(port)
        if node.proc is not None and node.stopped:
            node.proc.send_signal(signal.SIGCONT)
            node.stopped = False

    # ------------------------------------------------------------------------------------------ setup

    def acl_setuser(self, user: str, *rules: str) -> None:
        """ACL SETUSER on every node: a cluster does not propagate ACL users (replicas need them too)."""
        for n in self._live():
            with self.client(n.port) as c:
                c.execute_command("ACL", "SETUSER", user, *rules)


def main(argv: list[str] | None = None) -> int:
    """``python -m devtools.rediscluster [--primaries N]``: start a cluster, print its URL, run until Ctrl-C."""
    import argparse

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--primaries", type=int, default=3)
    p.add_argument("--replicas", type=int, default=1)
    opts = p.parse_args(argv)
    with LocalCluster(opts.primaries, opts.replicas) as cluster:
        print(cluster.url(), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
