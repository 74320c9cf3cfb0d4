"""Throw-away databases for tests that need one of their own, made fast: the migrations run once per test process
into a template, and each database is a copy of it (``CREATE DATABASE ... TEMPLATE``: a fraction of a second
where the migrations take about one); dropping one (a checkpoint on the server, 1 - 2 s when it is busy) happens
in a background thread while the tests go on. ``drop_all()`` (tests/conftest.py, at the end of the session)
waits for those drops and removes the templates."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from shared.migrate import migrate_url

_templates: dict[str, str] = {}  # maintenance URL -> template database name
_template_lock = threading.Lock()
_dropper = ThreadPoolExecutor(max_workers=2, thread_name_prefix="drop-database")
_drops: list[Future[None]] = []


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + path))


async def _execute(maintenance: str, sql: str) -> None:
    conn = await asyncpg.connect(maintenance)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _template(maintenance: str) -> str:
    """The migrated template of this process on that server (made on first use)."""
    with _template_lock:
        name = _templates.get(maintenance)
    if name is not None:
        return name
    name = f"faces_tpl_{uuid.uuid4().hex[:10]}"
    await _execute(maintenance, f'CREATE DATABASE "{name}"')
    await migrate_url(with_path(maintenance, name))
    with _template_lock:
        if maintenance in _templates:  # another task of this process was quicker: keep one
            _drop_later(maintenance, name)
            return _templates[maintenance]
        _templates[maintenance] = name
    return name


async def create_database(server_url: str, prefix: str) -> str:
    """A new database, migrated (a copy of the template); its URL."""
    maintenance = with_path(server_url, "postgres")
    template = await _template(maintenance)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    deadline = time.monotonic() + 10
    while True:
        try:
            await _execute(maintenance, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            break
        except asyncpg.ObjectInUseError:
            # "source database is being accessed by other users": the migration's connection is closed but its
            # server process has not quite exited yet
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
    # A copy does not take the template's database-level privileges (the migrations revoke TEMPORARY from PUBLIC):
    # copied from the catalogue, whatever they are.
    conn = await asyncpg.connect(maintenance)
    try:
        await conn.execute("UPDATE pg_database SET datacl = (SELECT datacl FROM pg_database WHERE datname = $1) "
                           "WHERE datname = $2", template, name)
    finally:
        await conn.close()
    return with_path(server_url, name)


def _drop_later(maintenance: str, name: str) -> None:
    _drops.append(_dropper.submit(asyncio.run, _execute(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


def drop_database(url: str) -> None:
    """Drops the database of ``url`` in the background (``drop_all()`` waits for it)."""
    _drop_later(with_path(url, "postgres"), urlsplit(url).path.lstrip("/"))


def drop_all() -> None:
    """Waits for the background drops, then drops the templates; raises the first error of any."""
    with _template_lock:
        templates = list(_templates.items())
        _templates.clear()
    for maintenance, name in templates:
        _drop_later(maintenance, name)
    errors = []
    for future in _drops:
        try:
            future.result(timeout=60)
        except Exception as exc:  # noqa: BLE001 - every drop is waited for; the first error is raised
            errors.append(exc)
    _drops.clear()
    if errors:
        raise errors[0]
