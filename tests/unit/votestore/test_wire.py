"""The batcher's only use of redis-py internals (shared/votestore/wire.py) against the installed redis-py:
if a release renames, removes or changes one of the methods it drives, this fails naming it, before any vote
does. The behaviour itself (a batch written and read, a dead connection dropped) is covered against a real
Redis by the vote tests and tests/e2e/test_batcher_stall.py."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
import redis.asyncio.connection as connection
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from shared.votestore import wire

ROOT = Path(__file__).resolve().parents[3]


def _redis_requirement() -> SpecifierSet:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    (req,) = [d for d in deps if re.match(r"redis\s*[<>=!~]", d)]
    return SpecifierSet(req.removeprefix("redis").split(";")[0].strip())


def test_the_installed_redis_py_is_within_the_bounds_wire_py_was_checked_against():
    spec = _redis_requirement()
    assert any(s.operator == "<" for s in spec), \
        "pyproject.toml must bound redis from above: shared/votestore/wire.py relies on its internals"
    assert Version(redis.__version__) in spec, (
        f"redis-py {redis.__version__} is outside {spec} (pyproject.toml): check shared/votestore/wire.py "
        "against this release, then widen the bounds")


@pytest.mark.parametrize(("cls_name", "method", "params"), wire.REQUIRED, ids=lambda v: str(v))
def test_redis_py_still_has_the_methods_wire_py_drives(cls_name, method, params):
    cls = getattr(connection, cls_name, None)
    assert cls is not None, f"redis.asyncio.connection.{cls_name} is gone: shared/votestore/wire.py needs it"
    fn = getattr(cls, method, None)
    where = f"redis.asyncio.connection.{cls_name}.{method}"
    assert callable(fn), f"{where} is gone (redis-py {redis.__version__}): update shared/votestore/wire.py"
    assert inspect.iscoroutinefunction(fn), f"{where} is no longer a coroutine function: wire.py awaits it"
    sig = inspect.signature(fn)
    for name in params:
        assert name in sig.parameters, (f"{where}{sig} no longer takes {name!r} "
                                        f"(redis-py {redis.__version__}): update shared/votestore/wire.py")
    required = [p.name for p in list(sig.parameters.values())[1:]
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert set(required) <= set(params), (f"{where}{sig} now requires {required}, which wire.py does not pass "
                                          f"(redis-py {redis.__version__})")


def test_the_client_s_pool_and_connections_are_the_classes_checked_above():
    r = aioredis.Redis(host="127.0.0.1", port=1)  # never connects: only the classes are looked at
    assert isinstance(r.connection_pool, connection.ConnectionPool)
    assert issubclass(r.connection_pool.connection_class, connection.AbstractConnection)
