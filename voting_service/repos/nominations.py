"""SQL for citizens' nominations."""

from __future__ import annotations

import asyncpg

# The reference (NF-XXXX-XXXX) is the column's default (migration 0006): random, never the caller's choice.
INSERT = """
INSERT INTO nominations (nominee, story, achievements, nominator_kind, nominator_sealed, nominator_pseudonym, ip_hash,
                         consent, phone_confirmed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, reference
"""

STATUS = "SELECT reference, status, created_at FROM nominations WHERE reference = $1"

REFERENCE_TAKEN = "nominations_reference_key"
ATTEMPTS = 5  # a collision is about one in a million at a million nominations; five in a row never happen


async def insert(conn: asyncpg.Connection, *, nominee: dict, story: str, achievements: list[dict],
                 nominator_kind: str, nominator_sealed: bytes, nominator_pseudonym: str, ip_hash: str,
                 consent: dict | None = None, phone_confirmed: bool = False) -> tuple[str, str]:
    """(nomination id, reference); a reference that collides with an earlier one is drawn again."""
    for attempt in range(ATTEMPTS):
        try:
            row = await conn.fetchrow(INSERT, nominee, story, achievements, nominator_kind, nominator_sealed,
                                      nominator_pseudonym, ip_hash, consent, phone_confirmed)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != REFERENCE_TAKEN or attempt == ATTEMPTS - 1:
                raise
            continue
        return str(row["id"]), row["reference"]
    raise AssertionError("unreachable")


async def status(conn: asyncpg.Connection, *, reference: str) -> asyncpg.Record | None:
    return await conn.fetchrow(STATUS, reference)
