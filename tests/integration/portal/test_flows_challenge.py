"""The portal's proof-of-work page (issue 12): a challenged form post answers a page that carries the challenge,
re-posts the same fields with the solution (what static/pow.js does after its Web Worker solved it) and says,
in kk/ru/en, what to do without JavaScript."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.factories import make_campaign
from tests.integration.portal.flows import citizen_browser, csrf_of, post_form, same_origin, sign_in
from tests.integration.portal.test_flows_vote import slug_of
from tests.integration.voting.conftest import outbox_code, settings_with
from tests.integration.voting.test_abuse_defence import EASY, solve

FORM = re.compile(r'<form method="post" action="([^"]+)" id="pow-form" data-challenge="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def challenge_form(page: str) -> tuple[str, dict, dict[str, str]]:
    m = FORM.search(page)
    assert m is not None, page
    return m.group(1), json.loads(html.unescape(m.group(2))), {k: html.unescape(v) for k, v in HIDDEN.findall(page)}


@pytest.mark.parametrize("lang, no_js", [("kk", "JavaScript-ті қосып"), ("ru", "включите JavaScript"),
                                         ("en", "turn JavaScript on")])
async def test_a_challenged_sign_in_solves_and_reposts_the_same_form(env, pool, voting_pool, voting_redis, portal_app,
                                                                     redis, lang, no_js):
    s = settings_with(env, OTP_MAX_PER_IP_HOUR="1", **EASY)
    async with citizen_browser(s, voting_pool, voting_redis, portal_app) as b:
        b.cookies.set("faces_lang", lang)
        await sign_in(b, "+77015550201")  # the address's one free code request
        r = await post_form(b, "/signin", {"phone": "+77015550202", "next": "/my-votes"}, page="/signin?again=1")
        assert r.status_code == 428 and r.headers["cache-control"] == "no-store"
        assert no_js in r.text and "<noscript>" in r.text
        assert re.search(r'<script src="/static/pow\.[0-9a-f]+\.js" defer></script>', r.text)
        assert re.search(r'data-worker="/static/pow-worker\.[0-9a-f]+\.js"', r.text)
        action, ch, hidden = challenge_form(r.text)
        assert action == "/signin" and "r=otp" in ch["salt"]
        assert hidden["phone"] == "+77015550202" and hidden["next"] == "/my-votes" and hidden["csrf_token"]
        # What pow.js sends once the worker has the number.
        hidden["challenge_solution"] = solve(ch)
        r = await b.post(action, data=hidden, headers=same_origin(b))
        assert r.status_code == 303 and r.headers["location"] == "/signin/code", r.text
        assert await outbox_code(b, "+77015550202")
        # The same solution a second time: refused, and a fresh challenge page says so.
        r = await b.post(action, data=hidden, headers=same_origin(b))
        assert r.status_code == 403
        assert challenge_form(r.text)[1]["challenge"] != ch["challenge"]


async def test_a_challenged_vote_on_the_portal(env, pool, voting_pool, voting_redis, portal_app, redis):
    s = settings_with(env, VOTE_LIMIT_IP="1", **EASY)
    camp = await make_campaign(pool, redis, candidates=3, k=3)
    async with citizen_browser(s, voting_pool, voting_redis, portal_app) as b:
        await sign_in(b, "+77015550301")
        ballot = f"/campaigns/{await slug_of(pool, camp.id)}"
        page = await b.get(ballot)
        r = await b.post(f"{ballot}/vote", data={"csrf_token": csrf_of(page.text),
                                                 "candidate_id": str(camp.candidate_ids[0])}, headers=same_origin(b))
        assert r.status_code == 303
        page = await b.get(ballot)
        r = await b.post(f"{ballot}/vote", data={"csrf_token": csrf_of(page.text),
                                                 "candidate_id": str(camp.candidate_ids[1])}, headers=same_origin(b))
        assert r.status_code == 428
        action, ch, hidden = challenge_form(r.text)
        assert action == f"{ballot}/vote" and hidden["candidate_id"] == str(camp.candidate_ids[1])
        hidden["challenge_solution"] = solve(ch)
        r = await b.post(action, data=hidden, headers=same_origin(b))
        assert r.status_code == 303 and r.headers["location"].endswith("#outcome"), r.text
        mine = await b.get(f"/api/v1/campaigns/{camp.id}/my-votes",
                           headers={"Authorization": "Bearer " + b.cookies["faces_voter"]})
        assert set(mine.json()["candidate_ids"]) == {str(camp.candidate_ids[0]), str(camp.candidate_ids[1])}
