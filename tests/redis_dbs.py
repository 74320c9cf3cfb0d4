"""Which Redis database each kind of test uses, one set per pytest-xdist worker (``make test`` runs two).

The Redis server is shared (other suites, a developer's ``make run`` on database 0), and tests flush the
databases they own, so each worker gets its own: ``TEST_REDIS_DB`` (kind TEST) or ``TEST_<KIND>_REDIS_DB`` names
the first worker's (the one a plain ``pytest`` run uses), the same with ``_GW<n>`` worker n's; without them the
defaults below.
Database 12 is the benchmark's (``make bench``), 0 the development stack's.
"""

from __future__ import annotations

import os

# kind: (worker gw0, worker gw1)
DEFAULTS = {"TEST": (13, 10), "DEMO": (14, 9), "BENCH": (11, 8)}


def worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def redis_db(kind: str) -> int:
    """The database for ``kind`` ("TEST", "DEMO", "BENCH", "LOCUST": the locust smoke test falls back to BENCH's)."""
    n = worker_index()
    prefix = "TEST_REDIS_DB" if kind == "TEST" else f"TEST_{kind}_REDIS_DB"  # not TEST_TEST_REDIS_DB
    name = prefix + (f"_GW{n}" if n else "")
    if os.environ.get(name):
        return int(os.environ[name])
    if kind == "LOCUST":
        return redis_db("BENCH")
    defaults = DEFAULTS[kind]
    if n >= len(defaults):
        raise RuntimeError(f"pytest-xdist worker gw{n} has no Redis database for {kind}: set {name}")
    return defaults[n]
