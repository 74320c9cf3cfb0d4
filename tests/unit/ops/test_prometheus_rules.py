"""The Prometheus configuration and alert rules are valid and their unit tests pass (promtool)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

OPS = Path(__file__).resolve().parents[3] / "ops" / "prometheus"
PROMTOOL = shutil.which("promtool")

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")


@pytest.mark.parametrize("args", [
    ["check", "rules", "alerts.yml"],
    ["test", "rules", "alerts_test.yml"],
])
def test_promtool(args):
    r = subprocess.run([PROMTOOL, *args], cwd=OPS, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_config_is_valid(tmp_path):
    # check config resolves rule_files relative to the config; run it from a copy of the folder.
    for f in OPS.iterdir():
        shutil.copy(f, tmp_path / f.name)
    r = subprocess.run([PROMTOOL, "check", "config", "--syntax-only", "prometheus.yml"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
