"""A page reaches the receiver: Debian's Alertmanager runs ops/alertmanager/alertmanager.yml (its webhook URLs
pointed at a local alert sink instead of the compose service name), an alert is posted to it as Prometheus
posts them, and ops/alertmanager/alert_sink.py writes the notification, routed to ``oncall``, with its runbook."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from devtools.ports import free_port
from devtools.servers import _wait_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AM = ROOT / "ops" / "alertmanager"
BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


@pytest.mark.skipif(BINARY is None, reason="Alertmanager not installed (Debian package prometheus-alertmanager)")
def test_a_page_reaches_the_oncall_receiver(tmp_path):
    sink_port, am_port = free_port(), free_port()
    config = (AM / "alertmanager.yml").read_text().replace("http://alert-sink:9099/", f"http://127.0.0.1:{sink_port}/")
    assert f"127.0.0.1:{sink_port}/oncall" in config
    # The oncall route's group_wait (10 s: how long Alertmanager gathers a group's first alerts) down to 1 s: the
    # routing, receiver and runbook are what this test checks, not the wait (it was most of the test's 10 s).
    assert config.count("      group_wait: 10s\n") == 1
    config = config.replace("      group_wait: 10s\n", "      group_wait: 1s\n")
    (tmp_path / "alertmanager.yml").write_text(config)
    out = tmp_path / "alerts.jsonl"
    procs = [
        subprocess.Popen([sys.executable, str(AM / "alert_sink.py"), "--host", "127.0.0.1", "--port", str(sink_port),
                          "--file", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([BINARY, f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'data'}",
                          f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        _wait_port(sink_port)
        _wait_port(am_port)
        now = dt.datetime.now(dt.UTC).isoformat()
        alert = {"labels": {"alertname": "RedisDown", "severity": "page", "job": "redis",
                            "instance": "redis-exporter:9121"},
                 "annotations": {"summary": "Redis (redis-exporter:9121) does not answer its exporter",
                                 "runbook": "ops/README.md#redisdown"},
                 "startsAt": now}
        r = httpx.post(f"http://127.0.0.1:{am_port}/api/v2/alerts", json=[alert], timeout=5)
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30  # the oncall route's group_wait is 1 s here
        while not (out.exists() and out.read_text().strip()):
            assert time.monotonic() < deadline, "no notification reached the sink"
            time.sleep(0.2)
        got = json.loads(out.read_text().splitlines()[0])
        assert got["receiver"] == "oncall" and got["status"] == "firing"
        (a,) = got["alerts"]
        assert a["alertname"] == "RedisDown" and a["severity"] == "page" and a["runbook"] == "ops/README.md#redisdown"
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
