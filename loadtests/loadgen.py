"""Running wrk with ``wrk/vote.lua`` (the votes) or ``wrk/page.lua`` (a page) and reading the JSON line their
``done()`` prints."""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VOTE_LUA = Path(__file__).parent / "wrk" / "vote.lua"
PAGE_LUA = Path(__file__).parent / "wrk" / "page.lua"
SIGNIN_LUA = Path(__file__).parent / "wrk" / "signin.lua"  # code request + code check, one phone a line
RECEIPTS_LUA = Path(__file__).parent / "wrk" / "receipts.lua"  # GET /api/v1/receipts/<r>, one receipt a line


class WrkMissing(RuntimeError):
    pass


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise WrkMissing("wrk is not installed; on Debian/Ubuntu: sudo apt-get install -y wrk "
                         "(https://github.com/wg/wrk)")
    return found


@dataclass
class WrkResult:
    raw: dict[str, Any]
    cpu_s: float  # the load generator's own CPU time

    @property
    def duration_s(self) -> float:
        return self.raw["duration_us"] / 1e6

    @property
    def statuses(self) -> dict[int, int]:
        return {int(k): v for k, v in self.raw["statuses"].items()}

    def count(self, pred: Callable[[int], bool]) -> int:
        return sum(n for s, n in self.statuses.items() if pred(s))

    @property
    def answered(self) -> int:
        """Answers that mean the vote endpoint did its job: 2xx, and 409 (already voted / limit reached)."""
        return self.count(lambda s: 200 <= s < 300 or s == 409)

    @property
    def accepted(self) -> int:
        return self.count(lambda s: s == 201)

    @property
    def errors(self) -> int:
        e = self.raw["errors"]
        return self.count(lambda s: not (200 <= s < 300 or s == 409)) + e["connect"] + e["read"] + e["write"] + e["timeout"]

    @property
    def ok(self) -> int:
        """2xx answers (a page phase's successes: nothing else is a right answer to a GET)."""
        return self.count(lambda s: 200 <= s < 300)

    @property
    def page_errors(self) -> int:
        """Any answer but 2xx, and every socket error."""
        e = self.raw["errors"]
        return self.count(lambda s: not 200 <= s < 300) + e["connect"] + e["read"] + e["write"] + e["timeout"]

    def per_s(self, n: int) -> float:
        return round(n / self.duration_s, 1) if self.duration_s else 0.0

    def latency_ms(self, key: str) -> float:
        return round(self.raw["latency_us"][key] / 1000, 2)


def replay_script(lua: Path, data: Path, campaign_id: int, threads: int) -> tuple[Path, list[str]]:
    """``lua`` (vote.lua, receipts.lua) replaying ``data``, one request a line, against the campaign."""
    return lua, [str(data), str(campaign_id), str(threads)]


def page_script(path: str) -> tuple[Path, list[str]]:
    """page.lua fetching ``path`` as a phone browser."""
    return PAGE_LUA, [path]


async def run_wrk(*, url: str, script: tuple[Path, list[str]], duration_s: float, connections: int, threads: int,
                  timeout_s: float, log_path: Path,
                  while_running: Callable[[], Awaitable[None]] | None = None) -> WrkResult:
    """Run wrk with ``script`` (a Lua file and its arguments) to completion; ``while_running`` is awaited
    repeatedly (sampling) until wrk exits."""
    lua, args = script
    cmd = [wrk_binary(), "-t", str(threads), "-c", str(max(connections, threads)), "-d", f"{duration_s:g}s",
           "--timeout", f"{timeout_s:g}s", "-s", str(lua), url, "--", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                if while_running is not None:
                    await while_running()
                await asyncio.sleep(0.25)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = log_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited with code {proc.returncode}:\n{text[-2000:]}")
    for line in reversed(text.splitlines()):
        if line.startswith("BENCH_JSON "):
            return WrkResult(json.loads(line.removeprefix("BENCH_JSON ")), round(cpu, 2))
    raise RuntimeError(f"wrk printed no BENCH_JSON line:\n{text[-2000:]}")
