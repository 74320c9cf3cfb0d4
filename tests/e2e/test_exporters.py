"""The exporters Prometheus scrapes (docker-compose services redis-exporter and postgres-exporter, Debian's
prometheus-redis-exporter and prometheus-postgres-exporter) export every metric the alert rules of
ops/prometheus/alerts.yml use, under that name: started here against a real Redis primary with a replica and
the test Postgres, with the project's extra queries (ops/postgres-exporter/queries.yaml)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import redis
import yaml

from devtools.ports import free_port
from devtools.servers import _wait_port
from shared.store_access import drop_postgres_login, new_password, provision_monitor_login, with_credentials

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REDIS_EXPORTER = shutil.which("prometheus-redis-exporter")
POSTGRES_EXPORTER = shutil.which("prometheus-postgres-exporter")


def rule_metrics(prefixes: tuple[str, ...]) -> set[str]:
    rules = yaml.safe_load((ROOT / "ops" / "prometheus" / "alerts.yml").read_text())
    exprs = " ".join(r["expr"] for g in rules["groups"] for r in g["rules"])
    return {m for m in re.findall(r"\b([a-z_]+)\b", exprs) if m.startswith(prefixes)}


def scrape(url: str, names: set[str], timeout: float = 20.0) -> str:
    """The exposition text once it holds every name in ``names`` (the exporters connect lazily)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        try:
            text = httpx.get(url, timeout=5).text
        except httpx.HTTPError:
            text = ""
        if all(re.search(rf"^{n}[{{ ]", text, re.M) for n in names):
            break
        time.sleep(0.3)
    return text


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.mark.skipif(REDIS_EXPORTER is None, reason="prometheus-redis-exporter not installed")
def test_redis_exporter_exports_what_the_rules_use(procs):
    wanted = rule_metrics(("redis_",))
    assert {"redis_up", "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_connected_slaves",
            "redis_master_link_up"} <= wanted
    work = Path(tempfile.mkdtemp(prefix="exporters-"))
    primary, replica, port = free_port(), free_port(), free_port()
    try:
        # The replica's sync starts at once (the default waits 5 s for more replicas to share the transfer).
        for p, extra in ((primary, ["--maxmemory", "64mb", "--repl-diskless-sync-delay", "0"]),
                         (replica, ["--replicaof", "127.0.0.1", str(primary)])):
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(work), "--dbfilename", f"{p}.rdb", *extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            _wait_port(p)
        r = redis.Redis(port=replica)
        deadline = time.monotonic() + 20
        while r.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica never linked"
            time.sleep(0.1)
        r.close()
        procs.append(subprocess.Popen(
            [REDIS_EXPORTER, "-redis.addr", f"redis://127.0.0.1:{primary}", "-web.listen-address",
             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_port(port)
        on_primary = scrape(f"http://127.0.0.1:{port}/metrics", wanted - {"redis_master_link_up"})
        on_replica = scrape(f"http://127.0.0.1:{port}/scrape?target=redis://127.0.0.1:{replica}",
                            {"redis_master_link_up"})
        for name in wanted - {"redis_master_link_up"}:
            assert re.search(rf"^{name}[{{ ]", on_primary, re.M), name
        assert re.search(r"^redis_memory_max_bytes 6\.7108864e\+07$", on_primary, re.M)
        assert re.search(r"^redis_connected_slaves 1$", on_primary, re.M)
        assert re.search(r"^redis_master_link_up\{[^}]*\} 1$", on_replica, re.M)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
async def monitor_url(database_url: str) -> AsyncIterator[str]:
    """A login in pg_monitor only, as ``provision-postgres`` creates for MONITOR_DATABASE_URL."""
    user, password = f"faces_mon_{uuid.uuid4().hex[:8]}", new_password()
    conn = await asyncpg.connect(database_url)
    try:
        await provision_monitor_login(conn, user, password)
        yield with_credentials(database_url, user, password)
    finally:
        await drop_postgres_login(conn, user)
        await conn.close()


async def test_the_monitor_role_reads_statistics_and_no_table(monitor_url):
    conn = await asyncpg.connect(monitor_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query <> ''") >= 1
        for table in ("votes", "candidates", "users", "nominations"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
    finally:
        await conn.close()


@pytest.mark.skipif(POSTGRES_EXPORTER is None, reason="prometheus-postgres-exporter not installed")
def test_postgres_exporter_exports_what_the_rules_use(procs, monitor_url):
    wanted = rule_metrics(("pg_", "faces_"))
    assert {"pg_up", "pg_stat_activity_count", "pg_settings_max_connections", "faces_replication_lag_seconds",
            "faces_replication_senders"} <= wanted
    parts = urlsplit(monitor_url)  # as the exporter runs in docker-compose: pg_monitor only
    dsn = urlunsplit(parts._replace(query="sslmode=disable"))
    port = free_port()
    procs.append(subprocess.Popen(
        [POSTGRES_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
         f"--extend.query-path={ROOT / 'ops' / 'postgres-exporter' / 'queries.yaml'}"],
        env={"DATA_SOURCE_NAME": dsn, "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    _wait_port(port)
    text = scrape(f"http://127.0.0.1:{port}/metrics", wanted)
    for name in wanted:
        assert re.search(rf"^{name}[{{ ]", text, re.M), name
    assert re.search(r"^pg_up 1$", text, re.M)
    assert re.search(r"^faces_replication_is_replica\{[^}]*\} 0$", text, re.M)  # the test server is a primary
