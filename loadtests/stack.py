"""What the benchmark stands up and tears down: a scratch database, a Redis database, a published
campaign, and server processes (granian, the flusher) it starts and always stops."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

# The campaign is published as the tests publish theirs (devtools/campaigns.py); free ports from devtools too.
from devtools.campaigns import Campaign, publish_campaign  # noqa: F401 - used as stack.Campaign, stack.publish_campaign
from devtools.ports import free_port  # noqa: F401 - used as stack.free_port
from shared import store_access
from shared.infra import create_redis
from shared.migrate import migrate_url


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


# --- the scratch database -----------------------------------------------------------------------------

class ScratchDatabase:
    """``CREATE DATABASE bench_<random>`` on the server of ``server_url``; ``drop()`` removes it."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        self.url = with_path(server_url, "/" + self.name)
        self._created = False

    async def create(self) -> str:
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{self.name}"')
            self._created = True
        finally:
            await admin.close()
        await migrate_url(self.url)
        return self.url

    async def drop(self) -> None:
        if not self._created:
            return
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._created = False
        finally:
            await admin.close()


class ServiceCredentials:
    """A Postgres role and a Redis ACL user per service, as production runs the services (shared/store_access.py),
    with names unique to this run; ``drop()`` (before the database is dropped) removes them. Where the owner may not create them, the services
    get the owner's URLs instead (said in the log)."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.names = {s: f"faces_lt{tag}_{s}" for s in store_access.SERVICES}
        self._owner: tuple[str, str] | None = None

    async def create(self, database_url: str, redis_url: str) -> dict[str, str]:
        """``*_DATABASE_URL`` / ``*_REDIS_URL`` for the services' environment."""
        self._owner = (database_url, redis_url)
        found = await store_access.provision_dev({"DATABASE_URL": database_url, "REDIS_URL": redis_url},
                                                 names=self.names, warn=log)
        fallback = {**{store_access.database_var(s): database_url for s in store_access.SERVICES},
                    **{store_access.redis_var(s): redis_url for s in store_access.SERVICES}}
        return {**fallback, **found}

    async def drop(self) -> None:
        if self._owner is None:
            return
        database_url, redis_url = self._owner
        self._owner = None
        conn = await asyncpg.connect(database_url)
        try:
            for name in self.names.values():
                await store_access.drop_postgres_login(conn, name)
        finally:
            await conn.close()
        r = create_redis(redis_url, timeout_s=5)  # on a cluster: the users are deleted on every node
        try:
            for name in self.names.values():
                try:
                    await store_access.delete_redis_user(r, name.replace("_", "-"))
                except Exception:  # noqa: BLE001 - the owner may not have had ACL rights: nothing was created
                    pass
        finally:
            await r.aclose()


# --- processes ----------------------------------------------------------------------------------------

# The flags `python -m voting_service serve` passes to granian (voting_service/__main__.py); the baselines
# are served with the same ones so that only the application differs.
GRANIAN_FLAGS = ("--factory", "--loop", "uvloop", "--no-ws", "--backpressure", "512")


def granian_command(target: str, *, port: int, workers: int, interface: str = "rsgi") -> list[str]:
    """``target``: a module path; its ``create_app`` (ASGI) or ``create_rsgi_app`` (RSGI) is served."""
    factory = "create_rsgi_app" if interface == "rsgi" else "create_app"
    return [sys.executable, "-m", "granian", "--interface", interface, *GRANIAN_FLAGS, "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), f"{target}:{factory}"]


@dataclass
class Process:
    """A child in its own process group (granian forks workers: stopping the group stops them all)."""

    name: str
    cmd: Sequence[str]
    env: dict[str, str]
    logfile: Path
    proc: subprocess.Popen[bytes] | None = None
    port: int | None = None
    _log: object = field(default=None, repr=False)

    def start(self) -> Process:
        self._log = open(self.logfile, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(list(self.cmd), env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        """Direct children (granian's workers)."""
        found: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                found += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return found

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout_s)
                    break
                except subprocess.TimeoutExpired:
                    log(f"{self.name} did not stop on SIGTERM; killing")
        if self.proc is not None:
            try:  # workers left behind by a leader that died first
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_ready(p: Process, url: str, timeout_s: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail early (with the log) if the process exits."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not p.alive():
                raise RuntimeError(f"{p.name} exited with code {p.proc.returncode if p.proc else '?'}:\n{p.tail()}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"{p.name} not ready at {url} after {timeout_s:.0f} s:\n{p.tail()}")


# --- CPU accounting (read-only /proc) -------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """user+system CPU of one process, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def pids_named(comm: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in groups.items()}


def cpu_delta(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each group used between two snapshots (processes present in both)."""
    return {name: round(sum(max(0.0, after[name].get(pid, 0.0) - t0) for pid, t0 in pids.items()), 2)
            for name, pids in before.items()}


def cpu_busy() -> tuple[int, int, int]:
    """(busy, total, steal) jiffies of the whole machine from /proc/stat; steal (a hypervisor giving the
    CPU to someone else) is neither busy nor idle for us."""
    fields = ([int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]] + [0] * 8)[:8]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq, sum(fields), steal


def machine() -> dict[str, Any]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


# A phone's browser, as the load tools' citizens present themselves: an HTTP library's User-Agent counts as a script
# (shared/fraud_signals.py), and a minute of mostly scripted votes turns the national attack mode on in production
# (voting_service/services/attack.py). wrk/vote.lua and locust/common.py send the same string.
BROWSER_UA = ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Mobile Safari/537.36")


def spread_phone(k: int, codes: Sequence[int] = (701,)) -> str:
    """The ``k``-th of distinct Kazakhstan mobile numbers spread over the blocks of 100 as real people's are.
    Numbers of one block signing in one after another look like a SIM farm walking a range, and their codes
    cost proof of work (voting_service/services/signin_risk.py): consecutive ``k`` fall in different blocks, one
    block comes back only 100 000 numbers later. Distinct for k < 10**7 x len(codes)."""
    block, position = (k * 7919) % 100_000, (k // 100_000) % 100  # 7919 is prime to 10**5: a permutation
    return f"+7{codes[(k // 10**7) % len(codes)]}{block:05d}{position:02d}"


def production_env(*, database_url: str, redis_url: str, service_urls: dict[str, str], token_key: bytes,
                   pseudonym_key: bytes) -> dict[str, str]:
    """The environment of a throwaway voting service configured as production runs it (``APP_ENV=production``,
    an SMS gateway that is never reached, 127.0.0.1 as the trusted proxy in front)."""
    import base64

    return {
        **service_urls,
        "APP_ENV": "production", "SMS_BACKEND": "http", "SMS_GATEWAY_URL": "http://127.0.0.1:9/unused",
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "VOTER_TOKEN_KEY": base64.urlsafe_b64encode(token_key).decode(),
        "PSEUDONYM_KEY": base64.urlsafe_b64encode(pseudonym_key).decode(),
        "CONTACT_PUBLIC_KEY": contact_public_key(),
        # the load balancer in front (wrk, a browser's proxy): its address is trusted, X-Forwarded-For the client
        "TRUSTED_PROXIES": "127.0.0.1/32", "LOG_LEVEL": "WARNING",
    }


def contact_public_key() -> str:
    """A CONTACT_PUBLIC_KEY for a throwaway stack (its private half is not needed: nothing is opened)."""
    import base64

    from shared.crypto import new_contact_keypair

    return base64.urlsafe_b64encode(new_contact_keypair()[1]).decode()
