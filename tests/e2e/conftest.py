from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def spawn(env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a project command (``python -m ...``) as a real process with the test settings, in its own
    process group; at the end every group is stopped (SIGTERM, then SIGKILL), so a granian server's
    worker processes never outlive the test."""
    procs: list[subprocess.Popen] = []

    def _spawn(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        proc_env = {**os.environ, **env, **(extra_env or {})}
        p = subprocess.Popen([sys.executable, *args], env=proc_env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        procs.append(p)
        return p

    yield _spawn
    for p in procs:
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(p.pid, sig)  # the group outlives a leader killed earlier by the test itself
            except ProcessLookupError:
                break
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
            if sig == signal.SIGTERM:
                time.sleep(0.2)  # let workers finish exiting before the group is checked again
        if p.stdout:
            p.stdout.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
