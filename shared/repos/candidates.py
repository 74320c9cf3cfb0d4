"""SQL for candidate cards and their status history, shared by the admin service and the demo loader."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import asyncpg

INSERT_CANDIDATE = """
INSERT INTO candidates (full_name, region, sphere, gender, birth_year, ethnicity, summary, story, achievements,
                        photo_url, source_kind, source_name, status, text_lang, texts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING id
"""

# Many cards in one statement (the demo loader): rows in, ids out in the same order (WITH ORDINALITY); the
# jsonb columns arrive as JSON text (an array of lists is not an array asyncpg can send).
INSERT_MANY = """
WITH rows AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
             WITH ORDINALITY AS t (full_name, region, sphere, gender, birth_year, ethnicity, summary, story,
                                   achievements, photo_url, source_kind, source_name, text_lang, texts, n)
), added AS (
    INSERT INTO candidates (full_name, region, sphere, gender, birth_year, ethnicity, summary, story, achievements,
                            photo_url, source_kind, source_name, status, text_lang, texts)
    SELECT full_name, region, sphere, gender, birth_year, ethnicity, summary, story, achievements::jsonb,
           photo_url, source_kind, source_name, $15, text_lang, texts::jsonb
    FROM rows ORDER BY n
    RETURNING id, full_name
)
SELECT a.id FROM added a JOIN rows r USING (full_name) ORDER BY r.n
"""

INSERT_TRANSITION = """
INSERT INTO candidate_transitions (candidate_id, from_status, to_status, reason, actor)
VALUES ($1, $2, $3, $4, $5)
"""

# After a ballot is published every candidate on it is 'on_ballot'; this writes the matching history rows
# for the candidates the publication moved (those whose last recorded status is still 'shortlisted').
RECORD_ON_BALLOT = """
INSERT INTO candidate_transitions (candidate_id, from_status, to_status, reason, actor)
SELECT b.candidate_id, 'shortlisted', 'on_ballot', $2, $3
FROM ballot_entries b
JOIN candidates k ON k.id = b.candidate_id
WHERE b.campaign_id = $1 AND k.status = 'on_ballot'
  AND (SELECT t.to_status FROM candidate_transitions t WHERE t.candidate_id = b.candidate_id
       ORDER BY t.at DESC, t.id DESC LIMIT 1) IS DISTINCT FROM 'on_ballot'
ORDER BY b.position
RETURNING candidate_id
"""

HISTORY = """
SELECT from_status, to_status, reason, actor, at FROM candidate_transitions
WHERE candidate_id = $1 ORDER BY at, id
"""


async def insert(conn: asyncpg.Connection, *, full_name: str, region: str, sphere: str, gender: str,
                 birth_year: int, story: str, source_kind: str, source_name: str = "", summary: str = "",
                 achievements: Sequence[Mapping[str, Any]] = (), ethnicity: str | None = None,
                 photo_url: str | None = None, status: str = "nominated", text_lang: str = "ru",
                 texts: Mapping[str, Any] | None = None) -> int:
    """``summary``, ``story``, ``achievements`` are in ``text_lang``; ``texts`` the other languages (0006)."""
    return await conn.fetchval(
        INSERT_CANDIDATE, full_name, region, sphere, gender, birth_year, ethnicity, summary, story,
        [dict(a) for a in achievements], photo_url, source_kind, source_name, status, text_lang, dict(texts or {}),
    )


async def insert_many(conn: asyncpg.Connection, cards: Sequence[Mapping[str, Any]], *, status: str) -> list[int]:
    """``cards`` (mappings with the keys of ``insert``; full names unique among them) in one statement; their
    ids in the same order."""
    cols = ("full_name", "region", "sphere", "gender", "birth_year", "ethnicity", "summary", "story",
            "achievements", "photo_url", "source_kind", "source_name", "text_lang", "texts")
    defaults = {"ethnicity": None, "summary": "", "achievements": [], "photo_url": None, "source_name": "",
                "text_lang": "ru", "texts": {}}
    columns = [[json.dumps(c.get(col, defaults[col]), ensure_ascii=False) if col in ("achievements", "texts")
                else c.get(col, defaults.get(col)) for c in cards] for col in cols]
    return [r["id"] for r in await conn.fetch(INSERT_MANY, *columns, status)]


async def record_transitions(conn: asyncpg.Connection, rows: Iterable[tuple[int, str | None, str, str, str]]) -> None:
    """rows: (candidate_id, from_status, to_status, reason, actor), in the order they happened."""
    await conn.executemany(INSERT_TRANSITION, list(rows))


async def record_on_ballot(conn: asyncpg.Connection, *, campaign_id: int, reason: str, actor: str) -> list[int]:
    return [r["candidate_id"] for r in await conn.fetch(RECORD_ON_BALLOT, campaign_id, reason, actor)]


async def history(conn: asyncpg.Connection, *, candidate_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(HISTORY, candidate_id)
