"""Public nominations: junk text is refused with 422 naming the field, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.integration.voting.conftest import assert_problem
from tests.integration.voting.test_nominations_api import nomination, row_of

URL = "/api/v1/nominations"

JUNK = [
    ("nominee__full_name", "   ", "full_name"),
    ("nominee__full_name", "\u00a0\u3000\t", "full_name"),
    ("nominee__full_name", "Ерлан\u202eвоналруН", "full_name"),
    ("nominee__full_name", "Ер\u200bлан Нурланов", "full_name"),
    ("nominee__full_name", "Ерлан\x07 Нурланов", "full_name"),
    ("nominee__full_name", "Ерлан\nНурланов", "full_name"),
    ("story", " " * 40, "story"),
    ("story", "\n\n\t  \r\n" * 5, "story"),
    ("story", "Открыл школу\u202e для детей из сёл и деревень", "story"),
    ("story", "Открыл школу\x1b[31m для детей из сёл и деревень", "story"),
    ("achievements__0__claim", "    ", "claim"),
    ("achievements__1__claim", "Грант\u2066 акимата", "claim"),
    ("nominated_by__full_name", "  \u3000 ", "full_name"),
]


async def count(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM nominations")


@pytest.mark.parametrize(("path", "value", "field"), JUNK)
async def test_junk_text_is_refused_naming_the_field(client, pool, path, value, field):
    before = await count(pool)
    r = await client.post(URL, json=nomination(**{path: value}))
    problem = assert_problem(r, 422, "invalid_request")
    assert f"`{field}`" in problem["detail"], problem
    assert await count(pool) == before


async def test_text_is_stored_normalised(client, pool):
    r = await client.post(URL, json=nomination(nominee__full_name="  Айгу\u0308ль Нурланова ",
                                               story="\r\n  Открыла школу.\r\nУчит детей робототехнике. \n"))
    assert r.status_code == 202, r.text
    row = await row_of(pool, r.json()["nomination_id"])
    assert row["nominee"]["full_name"] == "Айгӱль Нурланова"
    assert row["story"] == "Открыла школу.\nУчит детей робототехнике."


@pytest.mark.parametrize("year", [1899, 9999, 2025])
async def test_implausible_birth_year(client, pool, year):
    before = await count(pool)
    assert_problem(await client.post(URL, json=nomination(nominee__birth_year=year)), 422, "invalid_request")
    assert await count(pool) == before


async def test_non_ascii_otp_code_is_a_4xx(client):
    r = await client.post("/api/v1/auth/otp/verify", json={"phone": "+77011234567", "code": "١٢٣٤٥٦"})
    assert_problem(r, 401, "invalid_code")


@pytest.mark.parametrize("token", ["токен.подпись", "\u00e9t\u00e9.x", "a" * 300])
async def test_non_ascii_voter_token_is_401(client, token):
    """Raw UTF-8 bytes in the Authorization header, on the Litestar route and on the vote's fast path."""
    auth = {"Authorization": b"Bearer " + token.encode("utf-8")}
    assert_problem(await client.get("/api/v1/campaigns/1/my-votes", headers=auth), 401)
    assert_problem(await client.post("/api/v1/campaigns/1/votes", json={"candidate_id": "1"}, headers=auth), 401)
