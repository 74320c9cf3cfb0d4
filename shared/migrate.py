"""Forward-only migrations: numbered plain SQL files in ``shared/migrations``, applied in order.

Each file runs in its own transaction with lock and statement timeouts; an advisory lock keeps two
runners (two services starting at once) from racing. ``python -m shared.migrate`` applies them, connected
as the owner role named by ``DATABASE_URL``. After every run the services' grants are applied again
(``faces_apply_grants()``, migration 0005), so a table added by any migration gets its grants.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

log = logging.getLogger("shared.migrate")

_LOCK_KEY = 0x100FACE5
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    found = []
    for entry in resources.files("shared.migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.version)
    return found


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations; return the names applied. Refuses if an applied file was edited."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        done = {r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")}
        for mig in available():
            if mig.version in done:
                if done[mig.version] != mig.checksum:
                    raise RuntimeError(f"migration {mig.name} was changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute("SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '120s'")
                await conn.execute(mig.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    mig.version, mig.name, mig.checksum,
                )
            log.info("applied migration %s", mig.name)
            applied_now.append(mig.name)
        await apply_grants(conn)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


async def apply_grants(conn: asyncpg.Connection) -> None:
    """Re-run the services' grants (migration 0005) so tables created by any migration get theirs."""
    if await conn.fetchval("SELECT to_regprocedure('faces_apply_grants()') IS NOT NULL"):
        async with conn.transaction():
            await conn.execute("SELECT faces_apply_grants()")


async def migrate_url(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def main() -> None:
    import os

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    url = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
    names = asyncio.run(migrate_url(url))
    print(f"applied {len(names)} migration(s)" + (": " + ", ".join(names) if names else ""))


if __name__ == "__main__":
    main()
