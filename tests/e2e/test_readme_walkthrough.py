"""The README's curl walkthrough, run as written against a served voting service: it reads the service's URL
from .data/dev.env (as after `make run`), signs in through the dev SMS outbox, votes with string ids, is refused
a second vote for the same candidate, lists my-votes and checks the receipt (issue 14, item 8)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devtools.ports import free_port
from tests.e2e.conftest import wait_for
from tests.factories import make_campaign

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Walkthrough: a vote with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
async def test_the_readme_walkthrough_works_against_a_served_voting_service(pool, redis, spawn, tmp_path):
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    port = free_port()
    spawn("-m", "voting_service", "serve", "--port", str(port), "--workers", "1")
    base = f"http://127.0.0.1:{port}"

    def live() -> bool:
        try:
            return httpx.get(f"{base}/health/live", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(live, 30, "the voting service to answer")
    campaigns = httpx.get(f"{base}/api/v1/campaigns").json()
    assert next(c["id"] for c in campaigns if c["status"] == "open") == str(camp.id), campaigns  # the one open

    # The folder as `make run` leaves it: .data/dev.env with VOTING_URL, .venv/bin/python.
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "dev.env").write_text(f"APP_ENV=development\nVOTING_URL={base}\n")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough()], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    out = done.stdout
    assert done.returncode == 0, f"{out}\n{done.stderr}"
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0] == '{"expires_in":300,"resend_after":60}', out
    vote = httpx.Response(200, content=lines[1]).json()
    assert vote["candidate_id"] == str(camp.candidate_ids[0]) and vote["votes_left"] == 2 and vote["receipt"]
    assert lines[2] == "already_voted"
    assert httpx.Response(200, content=lines[3]).json() == {"votes_left": 2,
                                                            "candidate_ids": [str(camp.candidate_ids[0])]}
    receipt = httpx.Response(200, content=lines[4]).json()
    assert receipt["receipt"] == vote["receipt"] and receipt["status"] in ("accepted", "recorded")
