"""docker-compose.yml's structure (issue 13): a TLS reverse proxy is the only thing published on all interfaces and
the only address the voting replicas trust for X-Forwarded-For; N voting replicas; the exporters, the
reconciler, Alertmanager and its receiver; every service runs as a named non-root user (but the one-shot that
writes the ACL file) and has a health check (one-shots: disabled, their exit code awaited). Prometheus scrapes
and Alertmanager posts to services that exist. Read as YAML (no Docker engine here); ``docker compose config``
or ``docker-compose config`` validates the file where a client is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
ONE_SHOTS = {"redis-acl", "migrate"}
ROOT_ALLOWED = {"redis-acl"}  # writes the ACL file into a fresh (root-owned) volume, then exits
EXPECTED = {"postgres", "redis", "redis-acl", "migrate", "proxy", "voting", "flusher", "reconciler", "admin",
            "redis-exporter", "postgres-exporter", "prometheus", "alertmanager", "alert-sink", "grafana"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def default_of(value: str) -> str:
    """``${NAME:-default}`` -> ``default``."""
    m = re.fullmatch(r"\$\{\w+:-([^}]*)\}(.*)", str(value))
    return m.group(1) + m.group(2) if m else str(value)


def test_the_expected_services(services):
    assert set(services) == EXPECTED


def test_every_service_has_a_user_and_only_the_acl_one_shot_is_root(services):
    for name, svc in services.items():
        user = str(svc.get("user", ""))
        assert user, f"{name}: no user"
        if name in ROOT_ALLOWED:
            assert user == "root" and svc["restart"] == "no", name
        else:
            assert user not in ("root", "0") and not user.startswith("0:"), f"{name} runs as root"


def test_every_service_has_a_health_check(services):
    for name, svc in services.items():
        check = svc.get("healthcheck") or {}
        if name in ONE_SHOTS:
            assert check == {"disable": True} and svc["restart"] == "no", name
            awaited = [n for n, s in services.items()
                       if isinstance(s.get("depends_on"), dict)
                       and s["depends_on"].get(name, {}).get("condition") == "service_completed_successfully"]
            assert awaited, f"nobody waits for the one-shot {name} to succeed"
            continue
        test = check.get("test")
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {check}"
        assert check.get("interval") and check.get("timeout") and check.get("retries"), f"{name}: {check}"


def test_only_the_proxy_is_published_on_all_interfaces(services):
    for name, svc in services.items():
        for port in svc.get("ports", []):
            if name == "proxy":
                continue
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert [default_of(p.rsplit(":", 1)[0]) + ":" + p.rsplit(":", 1)[1] for p in services["proxy"]["ports"]] == \
        ["80:8080", "443:8443"]
    assert "ports" not in services["voting"]  # replicas: reached through the proxy only


def test_voting_replicas_trust_only_the_proxy(services):
    voting, proxy = services["voting"], services["proxy"]
    assert int(default_of(voting["deploy"]["replicas"])) >= 2
    proxy_ip = default_of(proxy["networks"]["default"]["ipv4_address"])
    assert voting["environment"]["TRUSTED_PROXIES"] == "${PROXY_IP:-%s}/32" % proxy_ip
    assert voting["environment"]["TRUSTED_PROXIES"].startswith("${PROXY_IP:-")
    assert proxy["networks"]["default"]["ipv4_address"].startswith("${PROXY_IP:-")
    assert default_of(services["admin"]["environment"]["TRUSTED_PROXIES"]) == ""  # admin is not behind it
    import ipaddress

    subnet = yaml.safe_load(COMPOSE.read_text())["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(default_of(subnet))
    assert proxy["depends_on"]["voting"]["condition"] == "service_healthy"


def test_the_proxy_terminates_tls_and_replaces_x_forwarded_for(services):
    mounts = services["proxy"]["volumes"]
    conf_src = next(m.split(":")[0] for m in mounts if m.split(":")[1] == "/etc/nginx/conf.d/default.conf")
    conf = (ROOT / conf_src).read_text()
    directives = {line.strip() for line in conf.splitlines() if line.strip() and not line.strip().startswith("#")}
    assert "listen 8443 ssl default_server;" in directives and "listen 8080 default_server;" in directives
    assert "ssl_certificate     /etc/nginx/tls/fullchain.pem;" in directives
    assert any(m.rsplit(":", 2)[1:] == ["/etc/nginx/tls", "ro"] for m in mounts)
    assert "proxy_set_header X-Forwarded-For $remote_addr;   # replaced, never appended (see above)" in directives
    assert not any("proxy_add_x_forwarded_for" in d for d in directives)  # appending would pass a forged header on
    assert "set $voting http://voting:8000;" in directives and "proxy_pass $voting;" in directives
    assert "resolver 127.0.0.11 valid=10s ipv6=off;" in directives  # every replica, re-resolved
    assert "return 308 https://$host$request_uri;" in directives
    assert services["proxy"]["read_only"] is True


def test_prometheus_scrapes_services_that_exist(services):
    prom = yaml.safe_load((ROOT / "ops" / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert {"voting", "admin", "flusher", "reconciler", "redis", "postgres", "alertmanager"} <= set(jobs)
    for job in jobs.values():
        for sc in job.get("static_configs", []):
            for target in sc["targets"]:
                host, port = target.split(":")
                if host != "localhost":
                    assert host in services, (job["job_name"], target)
                    assert port in str(services[host]) or port in " ".join(services[host].get("command", [])) \
                        or port in str(services[host].get("environment", {})), (job["job_name"], target)
    voting_dns = jobs["voting"]["dns_sd_configs"][0]
    assert voting_dns["names"] == ["voting"] and voting_dns["port"] == 8000  # each replica on its own
    (am,) = prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert am == "alertmanager:9093" and "alertmanager" in services


def test_alertmanager_posts_to_the_sink_service(services):
    config = yaml.safe_load((ROOT / "ops" / "alertmanager" / "alertmanager.yml").read_text())
    sink = services["alert-sink"]
    port = sink["command"][sink["command"].index("--port") + 1]
    for rec in config["receivers"]:
        for hook in rec["webhook_configs"]:
            assert hook["url"].startswith(f"http://alert-sink:{port}/"), hook
    assert any(v.startswith("./ops/alertmanager:/etc/alertmanager") for v in services["alertmanager"]["volumes"])


def test_store_credentials_reach_only_their_services(services):
    def env(name: str) -> dict:
        return services[name].get("environment") or {}

    monitor = {n for n in services if any("MONITOR_" in str(v) for v in env(n).values())}
    assert monitor == {"redis-acl", "migrate", "redis-exporter", "postgres-exporter"}
    assert set(env("redis-exporter")) == {"REDIS_PASSWORD"} and "MONITOR_REDIS_PASSWORD" in env("redis-exporter")["REDIS_PASSWORD"]
    assert set(env("postgres-exporter")) == {"DATA_SOURCE_NAME"}
    assert env("postgres-exporter")["DATA_SOURCE_NAME"].startswith("postgresql://faces_monitor:${MONITOR_DB_PASSWORD")
    owner = {n for n in services if {"DATABASE_URL", "REDIS_URL"} & set(env(n))}
    assert owner == {"redis-acl", "migrate"}
    assert set(k for k in env("reconciler") if k.endswith("_URL")) == {"FLUSHER_DATABASE_URL", "FLUSHER_REDIS_URL"}


def _client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.mark.skipif(_client() is None, reason="neither `docker compose` nor docker-compose is installed")
def test_compose_config_accepts_the_file(tmp_path):
    names = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    envfile = tmp_path / "test.env"
    envfile.write_text("".join(f"{n}=x{i}\n" for i, n in enumerate(sorted(names))))
    r = subprocess.run([*_client(), "--env-file", str(envfile), "-f", str(COMPOSE), "config", "--quiet"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
