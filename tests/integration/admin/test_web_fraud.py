"""The fraud review page: the flagged clusters with their signals for the reviewing roles, and the working
group's invalidation of a whole cluster through the form (reason required; refusals back on the page)."""

from __future__ import annotations

import re

from tests.integration.admin.test_fraud import CAP_NET, FARM_NET, farmed_campaign, voting_from
from tests.integration.admin.test_web_pages import html, signed_in  # noqa: F401 (signed_in is a fixture)


async def test_fraud_page_lists_clusters_and_the_working_group_invalidates_one(signed_in, pool, redis, settings):
    async with voting_from(settings, pool, redis) as client_at:
        camp, ordinary, farm, sim = await farmed_campaign(settings, pool, redis, client_at)
    wg, auditor = await signed_in("working_group"), await signed_in("auditor")
    url = f"/campaigns/{camp.id}/fraud"

    body = html(await auditor.get(url))
    assert f'data-cluster="net:{FARM_NET}"' in body and f'data-cluster="net:{CAP_NET}"' in body
    assert 'data-testid="invalidate"' not in body  # the auditor reads only
    # highest score first (which of the farm's network and the scripts' signature leads depends on the timing
    # signals of this run: machine-regular timing scores the farm's real spacing of votes)
    rows = re.findall(r'<tr data-cluster="([^"]+)">\s*<td>.*?</td>\s*<td>([0-9.]+)</td>', body, re.S)
    assert {"ua:script.n.x.en", f"net:{FARM_NET}"} <= {cid for cid, _ in rows}, rows
    scores = [float(score) for _, score in rows]
    assert scores == sorted(scores, reverse=True), rows
    # The signals explained in the page's language (the API's reason sentences are English).
    assert "разных голосующих" in body and "distinct voters" not in body and "flagged from" not in body
    for lang, words in (("kk", "түрлі дауыс беруші"), ("en", "distinct voters")):
        assert words in html(await auditor.get(url, params={"lang": lang}))
    only_ip = html(await auditor.get(url, params={"kind": "ip"}))
    assert f"net:{FARM_NET}" not in only_ip and 'data-cluster="ip:' in only_ip
    assert f'href="{url}"' in html(await auditor.get(f"/campaigns/{camp.id}"))

    assert 'data-testid="invalidate"' in html(await wg.get(url))
    form = {"csrf_token": wg.token, "cluster_id": f"net:{FARM_NET}", "reason": ""}
    body = html(await wg.post(f"{url}/invalidate", data=form), 422)  # a reason is required
    assert 'data-code="invalid_request"' in body
    html(await wg.post(f"{url}/invalidate", data={**form, "cluster_id": "net:203.0.113.0/24", "reason": "x"}), 404)
    html(await auditor.post(f"{url}/invalidate", data={**form, "csrf_token": auditor.token, "reason": "x"}), 403)
    assert await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1 AND invalidated_at IS NOT NULL",
                               camp.id) == 0

    r = await wg.post(f"{url}/invalidate", data={**form, "reason": "Bot farm, one /24"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?ok=invalidated", r.text
    bad = {x["vote_id"] for x in await pool.fetch(
        "SELECT vote_id FROM votes WHERE campaign_id = $1 AND invalidated_at IS NOT NULL", camp.id)}
    assert bad == set(farm)
    row = await pool.fetchrow("SELECT actor_email, reason FROM audit_log WHERE action = 'votes.invalidate' "
                              "AND entity_id = $1", str(camp.id))
    assert (row["actor_email"], row["reason"]) == (wg.user["email"], "Bot farm, one /24")
    body = html(await wg.get(r.headers["location"]))  # the listing shows it at once (the cache was forgotten)
    farm_row = body.split(f'data-cluster="net:{FARM_NET}"')[1].split("</tr>")[0]
    assert f'data-testid="already-invalidated">{len(farm)}<' in farm_row and 'data-testid="invalidate"' not in farm_row
