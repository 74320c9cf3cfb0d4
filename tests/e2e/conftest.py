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
    """Start a project command (``python -m ...``) as a real process with the test settings; all are
    killed at the end whatever happens."""
    procs: list[subprocess.Popen] = []

    def _spawn(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        proc_env = {**os.environ, **env, **(extra_env or {})}
        p = subprocess.Popen([sys.executable, *args], env=proc_env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        procs.append(p)
        return p

    yield _spawn
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        if p.stdout:
            p.stdout.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
