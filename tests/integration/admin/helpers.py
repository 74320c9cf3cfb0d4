"""Builders shared by the admin domain tests (candidates, lifecycle, reviews, nominations, campaigns)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import httpx

from shared.problem import PROBLEM_JSON


def candidate_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": f"Айдана Серикова {uuid.uuid4().hex[:6]}",
        "region": "KZ-75",
        "sphere": "education_science",
        "gender": "female",
        "birth_year": 1990,
        "ethnicity": "kazakh",
        "source": {"kind": "akimat", "name": "Акимат города Алматы"},
        "story": "Основала сеть бесплатных кружков робототехники в сёлах Алматинской области.",
        "achievements": [{"claim": "Обучила 1200 детей", "evidence_url": "https://example.kz/robots"}],
    }
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


DROP = object()


def problem(resp: httpx.Response, status: int | tuple[int, ...], code: str | None = None) -> dict[str, Any]:
    allowed = (status,) if isinstance(status, int) else status
    assert resp.status_code in allowed, f"{resp.status_code} not in {allowed}: {resp.text}"
    assert resp.headers["content-type"].split(";")[0] == PROBLEM_JSON, resp.headers["content-type"]
    body = resp.json()
    if code is not None:
        assert body["code"] == code, body
    return body


async def create_candidate(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/candidates", json=candidate_body(**changes))
    assert r.status_code == 201, r.text
    return r.json()


async def move(client: httpx.AsyncClient, candidate_id: str, to: str, reason: str = "") -> httpx.Response:
    return await client.post(f"/api/v1/candidates/{candidate_id}/transitions", json={"to": to, "reason": reason})


async def set_status(pool: asyncpg.Pool, candidate_id: str | int, status: str) -> None:
    """Puts a card straight into ``status`` (test set-up only; the API would write history)."""
    await pool.execute("UPDATE candidates SET status = $2 WHERE id = $1", int(candidate_id), status)


async def status_of(pool: asyncpg.Pool, candidate_id: str | int) -> str:
    return await pool.fetchval("SELECT status FROM candidates WHERE id = $1", int(candidate_id))


async def counts(pool: asyncpg.Pool, candidate_id: str | int) -> tuple[int, int]:
    """(history rows, audit entries) of one candidate."""
    cid = int(candidate_id)
    history = await pool.fetchval("SELECT count(*) FROM candidate_transitions WHERE candidate_id = $1", cid)
    audit = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity_type = 'candidate' AND entity_id = $1", str(cid))
    return history, audit


INSERT_SHORTLISTED = """
INSERT INTO candidates (full_name, region, sphere, gender, birth_year, ethnicity, summary, story, source_kind, status)
VALUES ($1, $2, $3, $4, $5, $6, 'Кратко', 'История успеха кандидата, проверенная и рекомендованная.', 'ngo',
        'shortlisted')
RETURNING id
"""


async def shortlisted(pool: asyncpg.Pool, n: int, *, regions: tuple[str, ...] = ("KZ-75", "KZ-71", "KZ-61"),
                      spheres: tuple[str, ...] = ("healthcare", "social")) -> list[str]:
    """``n`` cards already shortlisted (inserted directly: the lifecycle has its own tests)."""
    ids = []
    for i in range(n):
        ids.append(str(await pool.fetchval(
            INSERT_SHORTLISTED, f"Кандидат {uuid.uuid4().hex[:8]}", regions[i % len(regions)],
            spheres[i % len(spheres)], "female" if i % 2 == 0 else "male", 1975 + i,
            None if i % 3 == 0 else "kazakh")))
    return ids


def campaign_body(**changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    body: dict[str, Any] = {
        "slug": f"season-{uuid.uuid4().hex[:10]}",
        "title": {"kk": "100 жаңа есім", "ru": "100 новых лиц", "en": "100 New Faces"},
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=7)).isoformat(),
        "votes_per_voter": 3,
        "seats": 100,
        "live_results": True,
    }
    body.update(changes)
    return body
