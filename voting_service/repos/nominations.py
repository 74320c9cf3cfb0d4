"""SQL for citizens' nominations."""

from __future__ import annotations

import asyncpg

INSERT = """
INSERT INTO nominations (nominee, story, achievements, nominator_kind, nominator_sealed, nominator_pseudonym, ip_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
"""


async def insert(conn: asyncpg.Connection, *, nominee: dict, story: str, achievements: list[dict],
                 nominator_kind: str, nominator_sealed: bytes, nominator_pseudonym: str, ip_hash: str) -> str:
    nomination_id = await conn.fetchval(INSERT, nominee, story, achievements, nominator_kind, nominator_sealed,
                                        nominator_pseudonym, ip_hash)
    return str(nomination_id)
