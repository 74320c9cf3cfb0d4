"""Admin-side SQL for candidate cards: intake, search, the status with its history (who, why)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

CARD_COLUMNS = """
    id, full_name, region, sphere, gender, birth_year, ethnicity, summary, story, achievements, photo_url,
    source_kind, source_name, status, contact_sealed, duplicate_of, created_at, updated_at, text_lang, texts
"""

LIST_COLUMNS = """
    id, full_name, region, sphere, gender, birth_year, ethnicity, summary, source_kind, source_name, status,
    created_at, updated_at
"""

INSERT = """
INSERT INTO candidates (full_name, region, sphere, gender, birth_year, ethnicity, summary, story, achievements,
                        photo_url, source_kind, source_name, contact_sealed, text_lang, texts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING id
"""

# The texts in the card's own language (the columns) or in another one (an entry of ``texts``; NULL removes).
SET_BASE_TEXTS = """
UPDATE candidates SET summary = $2, story = $3, achievements = $4, updated_at = now() WHERE id = $1
"""
SET_OTHER_TEXTS = """
UPDATE candidates
   SET texts = CASE WHEN $3::jsonb IS NULL THEN texts - $2::text ELSE texts || jsonb_build_object($2::text, $3::jsonb) END,
       updated_at = now()
 WHERE id = $1
"""

GET = f"SELECT {CARD_COLUMNS} FROM candidates WHERE id = $1"
GET_FOR_UPDATE = GET + " FOR UPDATE"
GET_FOR_SHARE = GET + " FOR SHARE"

LOCK_MANY = "SELECT id, status FROM candidates WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"

# ILIKE with the pattern characters escaped: `q` is plain text, never a pattern.
SEARCH = f"""
SELECT {LIST_COLUMNS}, count(*) OVER () AS total
FROM candidates
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::text IS NULL OR region = $2)
  AND ($3::text IS NULL OR sphere = $3)
  AND ($4::text IS NULL OR full_name ILIKE $4 ESCAPE '\\' OR story ILIKE $4 ESCAPE '\\'
       OR summary ILIKE $4 ESCAPE '\\')
ORDER BY id DESC
LIMIT $5 OFFSET $6
"""

COUNT = """
SELECT count(*) FROM candidates
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::text IS NULL OR region = $2)
  AND ($3::text IS NULL OR sphere = $3)
  AND ($4::text IS NULL OR full_name ILIKE $4 ESCAPE '\\' OR story ILIKE $4 ESCAPE '\\'
       OR summary ILIKE $4 ESCAPE '\\')
"""

SET_STATUS = "UPDATE candidates SET status = $2, updated_at = now() WHERE id = $1"

INSERT_TRANSITION = """
INSERT INTO candidate_transitions (candidate_id, from_status, to_status, reason, actor, actor_id)
VALUES ($1, $2, $3, $4, $5, $6)
"""

HISTORY = """
SELECT id, from_status, to_status, reason, actor, actor_id, at FROM candidate_transitions
WHERE candidate_id = $1 ORDER BY at, id
"""


def like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def insert(conn: asyncpg.Connection, *, full_name: str, region: str, sphere: str, gender: str,
                 birth_year: int, ethnicity: str | None, summary: str, story: str,
                 achievements: Sequence[dict[str, Any]], photo_url: str | None, source_kind: str,
                 source_name: str, contact_sealed: bytes | None, text_lang: str = "ru",
                 texts: dict[str, Any] | None = None) -> int:
    return await conn.fetchval(INSERT, full_name, region, sphere, gender, birth_year, ethnicity, summary, story,
                               list(achievements), photo_url, source_kind, source_name, contact_sealed, text_lang,
                               texts or {})


async def set_texts(conn: asyncpg.Connection, *, candidate_id: int, lang: str, base: bool,
                    texts: dict[str, Any] | None) -> None:
    """``base``: ``lang`` is the card's text_lang (``texts`` must be given); else ``texts`` None removes ``lang``."""
    if base:
        assert texts is not None
        await conn.execute(SET_BASE_TEXTS, candidate_id, texts["summary"], texts["story"], texts["achievements"])
    else:
        await conn.execute(SET_OTHER_TEXTS, candidate_id, lang, texts)


async def get(conn: asyncpg.Connection, *, candidate_id: int, lock: str | None = None) -> asyncpg.Record | None:
    """``lock``: None, "update" (a status change) or "share" (a change that depends on the status)."""
    sql = {None: GET, "update": GET_FOR_UPDATE, "share": GET_FOR_SHARE}[lock]
    return await conn.fetchrow(sql, candidate_id)


async def lock_many(conn: asyncpg.Connection, *, candidate_ids: Sequence[int]) -> list[asyncpg.Record]:
    return await conn.fetch(LOCK_MANY, list(candidate_ids))


async def search(conn: asyncpg.Connection, *, status: str | None, region: str | None, sphere: str | None,
                 q: str | None, limit: int, offset: int) -> tuple[list[asyncpg.Record], int]:
    pattern = like_pattern(q) if q else None
    rows = await conn.fetch(SEARCH, status, region, sphere, pattern, limit, offset)
    if rows:
        return rows, rows[0]["total"]
    # A page past the end still reports how many there are.
    return [], await conn.fetchval(COUNT, status, region, sphere, pattern)


async def set_status(conn: asyncpg.Connection, *, candidate_id: int, status: str) -> None:
    await conn.execute(SET_STATUS, candidate_id, status)


async def insert_transition(conn: asyncpg.Connection, *, candidate_id: int, from_status: str | None,
                            to_status: str, reason: str, actor: str, actor_id: int | None) -> None:
    await conn.execute(INSERT_TRANSITION, candidate_id, from_status, to_status, reason, actor, actor_id)


async def insert_transitions(conn: asyncpg.Connection,
                             rows: Sequence[tuple[int, str | None, str, str, str, int | None]]) -> None:
    """rows: (candidate_id, from_status, to_status, reason, actor, actor_id)."""
    await conn.executemany(INSERT_TRANSITION, list(rows))


async def history(conn: asyncpg.Connection, *, candidate_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(HISTORY, candidate_id)
