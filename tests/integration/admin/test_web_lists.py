"""Long lists on the campaign and results pages: a page at a time from query parameters, the ballot builder
keeps the boxes ticked on other pages (hidden fields), and no parameter makes a page fail."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_campaign
from tests.integration.admin.test_web_pages import html, signed_in  # noqa: F401 (signed_in is a fixture)

TICKED = re.compile(r'<input type="checkbox" name="candidate_id" value="(\d+)"[^>]* checked')
HIDDEN = re.compile(r'<input type="hidden" name="candidate_id" value="(\d+)">')


async def test_the_ballot_builder_pages_and_keeps_what_other_pages_ticked(signed_in, pool, redis) -> None:
    camp = await make_campaign(pool, redis, candidates=70, publish=False)
    wg = await signed_in("working_group")
    # The builder offers the ballot first, then every shortlisted card (other tests' too) not on it.
    others = await pool.fetch("SELECT region FROM candidates WHERE status = 'shortlisted' AND id <> ALL($1::bigint[])",
                              camp.candidate_ids)
    first = html(await wg.get(f"/campaigns/{camp.id}"))
    ticked, hidden = TICKED.findall(first), HIDDEN.findall(first)
    assert len(ticked) == 50 and len(hidden) == 20
    assert sorted(map(int, ticked + hidden)) == sorted(camp.candidate_ids)
    assert f'data-total="{70 + len(others)}"' in first and 'rel="next"' in first
    second = html(await wg.get(f"/campaigns/{camp.id}?page=2"))
    assert len(TICKED.findall(second)) == 20 and len(HIDDEN.findall(second)) == 50
    # Saving page 2 as a browser sends it (its ticked boxes and the hidden ones) keeps all 70.
    r = await wg.post(f"/campaigns/{camp.id}/ballot", data={
        "csrf_token": wg.token, "candidate_id": TICKED.findall(second) + HIDDEN.findall(second)})
    assert r.status_code == 303, r.text
    assert await pool.fetchval("SELECT count(*) FROM ballot_entries WHERE campaign_id = $1", camp.id) == 70
    # Filtered by region: the option counts its people, the list shows them.
    narrowed = html(await wg.get(f"/campaigns/{camp.id}?region=KZ-75"))
    n = 14 + sum(o["region"] == "KZ-75" for o in others)
    assert f'data-total="{n}"' in narrowed and re.search(rf'value="KZ-75" selected>[^<]*\({n}\)', narrowed)


@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=999999", "page=%C2%B2", "sort=evil", "region=XX", "sphere=%00", "q=" + "я" * 500,
    "q=%3Cscript%3E", "page=2&sort=votes_asc&region=KZ-75",
])
async def test_no_list_parameter_makes_a_page_fail(signed_in, pool, redis, query: str) -> None:
    camp = await make_campaign(pool, redis, candidates=60)
    auditor = await signed_in("auditor")
    for path in (f"/campaigns/{camp.id}", f"/campaigns/{camp.id}/results"):
        body = html(await auditor.get(f"{path}?{query}"))
        assert "<script>" not in body.split("</head>")[1]


async def test_results_sorted_by_votes_either_way(signed_in, pool, redis) -> None:
    camp = await make_campaign(pool, redis, candidates=60)
    votes = {cid: n % 7 for n, cid in enumerate(camp.candidate_ids)}
    await pool.executemany(
        "INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, ip_hash, ip_net, cast_at) "
        "VALUES ($1, $2, $3, $4, 'h', '100.64.0.0/24', now())",
        [(camp.id, f"{camp.id}.0.{cid}-{i}.x", cid, f"v{cid}-{i}") for cid, n in votes.items() for i in range(n)])
    auditor = await signed_in("auditor")
    for sort, order in (("votes", True), ("votes_asc", False)):
        body = html(await auditor.get(f"/campaigns/{camp.id}/results?sort={sort}"))
        valid = [int(v) for v in re.findall(r'data-testid="valid">(\d+)<', body)]
        assert len(valid) == 50 and valid == sorted(valid, reverse=order)
    page2 = html(await auditor.get(f"/campaigns/{camp.id}/results?page=2"))
    ranks = [int(v) for v in re.findall(r'data-rank="(\d+)"', page2)]
    assert ranks == list(range(51, 61))
