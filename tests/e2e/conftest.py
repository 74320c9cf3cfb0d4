from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest


class Spawner:
    """Starts project commands (``python -m ...``) as real processes with the test settings, each in its own
    process group; ``stop_all()`` stops every group (SIGTERM, then SIGKILL), so a granian server's worker
    processes never outlive it. The ``spawn`` fixture holds one per test; a module that shares its servers
    between tests holds one for the module."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: list[subprocess.Popen] = []

    def __call__(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        proc_env = {**os.environ, **self.env, **(extra_env or {})}
        p = subprocess.Popen([sys.executable, *args], env=proc_env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.procs.append(p)
        return p

    def stop_all(self) -> None:
        for p in self.procs:
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
        self.procs.clear()


@pytest.fixture
def spawn(env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen]]:
    """A project command as a real process with the test settings, stopped with its workers after the test."""
    spawner = Spawner(env)
    yield spawner
    spawner.stop_all()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the browser tests left their screenshots (a test records ``record_property("artifacts", text)``)."""
    said: set[str] = set()
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == "artifacts" and str(value) not in said:
                    said.add(str(value))
                    terminalreporter.write_line(str(value))
