"""The Redis ACL file docker-compose.yml generates (``python -m shared.store_access redis-acl-file``) loads in a real
redis-server: the default user needs its password, each service user logs in with its own and may run only its
commands. And the compose file hands each service only its own store credentials."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError
from redis.retry import Retry

from devtools.ports import free_port
from tests.e2e.servers import _wait_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("voting", "flusher", "admin")


@pytest.fixture
def acl_server(tmp_path: Path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed")
    env = {"REDIS_URL": "redis://:owner-pw@redis:6379/0", "MONITOR_REDIS_URL": "redis://faces-monitor:monitor-pw@redis:6379",
           **{f"{s.upper()}_REDIS_URL": f"redis://faces-{s}:{s}-pw@redis:6379/0" for s in SERVICES}}
    made = subprocess.run([sys.executable, "-m", "shared.store_access", "redis-acl-file"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    (tmp_path / "users.acl").write_text(made.stdout)
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", "",
                             "--aclfile", str(tmp_path / "users.acl"), "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        yield port
    finally:
        proc.kill()
        proc.wait(timeout=10)


def client(port: int, user: str | None, password: str | None) -> redis.Redis:
    # No retries: a refused login is the answer here, not a hiccup to ride out.
    return redis.Redis(port=port, username=user, password=password, socket_timeout=2, decode_responses=True,
                       retry=Retry(NoBackoff(), 0))


def test_the_generated_acl_file_loads_and_confines_each_user(acl_server):
    port = acl_server
    with pytest.raises((AuthenticationError, redis.exceptions.ResponseError)):
        client(port, None, None).set("x", "1")  # the default user is no longer open
    owner = client(port, None, "owner-pw")
    assert owner.ping()
    with pytest.raises(AuthenticationError):
        client(port, "faces-voting", "flusher-pw").ping()
    voting = client(port, "faces-voting", "voting-pw")
    assert voting.incr("rl:otp:ip:x") == 1
    for command in (["FLUSHALL"], ["CONFIG", "GET", "maxmemory"], ["KEYS", "*"], ["ACL", "LIST"]):
        with pytest.raises(NoPermissionError):
            voting.execute_command(*command)
    flusher = client(port, "faces-flusher", "flusher-pw")
    flusher.xgroup_create("{c1:s0}:stream", "flusher", id="0", mkstream=True)
    assert flusher.xreadgroup("flusher", "f1", {"{c1:s0}:stream": ">"}, count=1) == []
    with pytest.raises(NoPermissionError):
        flusher.execute_command("FLUSHDB")
    admin = client(port, "faces-admin", "admin-pw")
    assert admin.incrby("admin:login:acct:x", 1) == 1
    with pytest.raises(NoPermissionError):
        admin.execute_command("CONFIG", "SET", "appendonly", "no")
    monitor = client(port, "faces-monitor", "monitor-pw")  # the exporter's: introspection, no key
    assert monitor.info("memory")["used_memory"] > 0 and monitor.config_get("maxmemory")
    for command in (["GET", "admin:login:acct:x"], ["SET", "x", "1"], ["KEYS", "*"], ["CONFIG", "SET", "maxmemory", "1"],
                    ["FLUSHALL"], ["EVAL", "return 1", "0"]):
        with pytest.raises(NoPermissionError):
            monitor.execute_command(*command)
    for c in (owner, voting, flusher, admin, monitor):
        c.close()


@pytest.mark.skipif(shutil.which("prometheus-redis-exporter") is None, reason="prometheus-redis-exporter not installed")
def test_the_exporter_reads_everything_it_needs_as_the_monitor_user(acl_server):
    import httpx

    port, exporter = acl_server, free_port()
    proc = subprocess.Popen(["prometheus-redis-exporter", "-redis.addr", f"redis://127.0.0.1:{port}",
                             "-redis.user", "faces-monitor", "-web.listen-address", f"127.0.0.1:{exporter}"],
                            env={"REDIS_PASSWORD": "monitor-pw", "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(exporter)
        text = httpx.get(f"http://127.0.0.1:{exporter}/metrics", timeout=10).text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    for line in ("redis_up 1", "redis_memory_max_bytes 0", "redis_connected_slaves 0"):
        assert f"\n{line}\n" in text, line
    assert 'redis_exporter_last_scrape_error{err=""} 0' in text, [ln for ln in text.splitlines() if "error" in ln]
    owner = client(port, None, "owner-pw")
    denied = [e for e in owner.acl_log() if e.get("username") == "faces-monitor"]
    owner.close()
    assert not denied, denied  # every command the exporter sent was allowed


def test_compose_gives_each_service_only_its_own_store_credentials():
    yaml = pytest.importorskip("yaml")
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    owner = {"DATABASE_URL", "REDIS_URL"}
    for service in SERVICES:
        env = set(services[{"voting": "voting", "flusher": "flusher", "admin": "admin"}[service]]["environment"])
        own = {f"{service.upper()}_DATABASE_URL", f"{service.upper()}_REDIS_URL"}
        urls = {k for k in env if k.endswith("_URL") and ("DATABASE" in k or "REDIS" in k)}
        assert urls == own, (service, urls)
        assert not owner & env
    assert owner <= set(services["migrate"]["environment"])
    assert "--aclfile" in services["redis"]["command"]
