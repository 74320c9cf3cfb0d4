"""Alertmanager's configuration is valid (amtool), routes pages and warnings to the documented receivers, and the
stand-in receiver (ops/alertmanager/alert_sink.py) writes what Alertmanager posts; every alert rule links to a
runbook section that exists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
AM = ROOT / "ops" / "alertmanager"
AMTOOL = shutil.which("amtool")


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed (Debian package prometheus-alertmanager)")
def test_amtool_check_config():
    r = subprocess.run([AMTOOL, "check-config", "alertmanager.yml"], cwd=AM, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed (Debian package prometheus-alertmanager)")
@pytest.mark.parametrize(("labels", "receiver"), [
    ({"alertname": "RedisDown", "severity": "page"}, "oncall"),
    ({"alertname": "RedisMaxmemoryUnset", "severity": "warning"}, "team"),
    ({"alertname": "Unknown"}, "team"),
])
def test_routing(labels, receiver):
    r = subprocess.run([AMTOOL, "config", "routes", "test", "--config.file", "alertmanager.yml",
                        *(f"{k}={v}" for k, v in labels.items())], cwd=AM, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == receiver, r.stdout + r.stderr


def test_receivers_post_to_the_sink():
    config = yaml.safe_load((AM / "alertmanager.yml").read_text())
    urls = [w["url"] for rec in config["receivers"] for w in rec.get("webhook_configs", [])]
    assert urls and all(u.startswith("http://alert-sink:9099/") for u in urls)


def test_alert_sink_appends_one_line_per_notification(tmp_path):
    sys.path.insert(0, str(AM))
    try:
        import alert_sink  # ops/alertmanager/alert_sink.py: a standalone script, not a package module
    finally:
        sys.path.remove(str(AM))
    out = tmp_path / "alerts.jsonl"
    server = ThreadingHTTPServer(("127.0.0.1", 0), alert_sink.make_handler(out))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    payload = {"version": "4", "status": "firing", "receiver": "oncall", "groupLabels": {"alertname": "RedisDown"},
               "alerts": [{"status": "firing", "labels": {"alertname": "RedisDown", "severity": "page"},
                           "annotations": {"summary": "Redis down", "runbook": "ops/README.md#redisdown"},
                           "startsAt": "2026-12-02T03:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}
    try:
        req = urllib.request.Request(f"{base}/oncall", data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200
        bad = urllib.request.Request(f"{base}/oncall", data=b"not json", method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=5)
        err.value.close()
        assert err.value.code == 400
        with urllib.request.urlopen(f"{base}/health", timeout=5) as resp:
            assert resp.status == 200
    finally:
        server.shutdown()
        server.server_close()
    (line,) = out.read_text().splitlines()
    got = json.loads(line)
    assert got["receiver"] == "oncall" and got["status"] == "firing"
    assert got["alerts"][0]["alertname"] == "RedisDown" and got["alerts"][0]["runbook"] == "ops/README.md#redisdown"


def test_every_alert_has_a_runbook_section():
    rules = yaml.safe_load((ROOT / "ops" / "prometheus" / "alerts.yml").read_text())
    runbook = (ROOT / "ops" / "README.md").read_text()
    sections = {h.lower() for h in re.findall(r"^### (\w+)$", runbook, re.M)}
    for group in rules["groups"]:
        for rule in group["rules"]:
            name = rule["alert"]
            assert rule["annotations"]["runbook"] == f"ops/README.md#{name.lower()}", name
            assert name.lower() in sections, f"ops/README.md has no '### {name}' section"
