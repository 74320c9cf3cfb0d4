"""The npm tools of the browser checks (tests/browser/package.json), installed by scripts/ensure_test_tools.sh
with `npm ci`: pinned exactly, locked, one axe-core for the test and for Lighthouse, never committed."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOOLS = ROOT / "tests" / "browser"


def test_lighthouse_and_axe_are_pinned_exactly_and_locked():
    wanted = json.loads((TOOLS / "package.json").read_text())["dependencies"]
    assert wanted["lighthouse"] == "12.2.3"  # 13 needs Node 22; Debian's and this machine's Node is 20
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted["axe-core"]), "an exact version, no range"
    lock = json.loads((TOOLS / "package-lock.json").read_text())
    packages = lock["packages"]
    assert packages[""]["dependencies"] == wanted
    assert packages["node_modules/lighthouse"]["version"] == "12.2.3"
    # the test injects the same axe-core Lighthouse runs: one copy, so their verdicts agree
    assert packages["node_modules/axe-core"]["version"] == wanted["axe-core"]
    assert not [p for p in packages if p.endswith("/node_modules/axe-core")], "a second axe-core"


def test_the_installed_tools_are_not_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", "tests/browser/node_modules/axe-core/axe.min.js"],
                             cwd=ROOT).returncode
    assert ignored == 0


def test_the_install_script_uses_the_lockfile_without_install_scripts():
    script = (ROOT / "scripts" / "ensure_test_tools.sh").read_text()
    assert "npm ci --no-audit --no-fund --ignore-scripts" in script
