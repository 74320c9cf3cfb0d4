"""Every public page in the three languages, as a browser gets it: language choice, links, filters, stories,
results, the final 100, the generated portraits and the static files."""

from __future__ import annotations

import re
from html import unescape

import pytest

from devtools.campaigns import REGIONS
from tests.integration.portal.helpers import articles, finalise, html, portal_campaign
from voting_service.portal import staticfiles
from voting_service.portal.i18n import CATALOGUES

LANGS = {"kk": "Қазақстанның 100 жаңа есімі", "ru": "100 новых лиц Казахстана", "en": "100 New Faces of Kazakhstan"}


def assert_language(body: str, lang: str, canonical_path: str) -> None:
    """``<html lang>``, the site name in that language, and alternate links to every language of the page."""
    assert f'<html lang="{lang}">' in body
    assert LANGS[lang] in body
    for code in LANGS:
        assert re.search(rf'<link rel="alternate" hreflang="{code}" href="http://vote\.test{re.escape(canonical_path)}'
                         rf'[^"]*lang={code}">', body), code
        assert f'hreflang="{code}" lang="{code}"' in body  # the visible switch names each language in itself
    assert f'<link rel="canonical" href="http://vote.test{canonical_path}">' in body


async def test_home_links_every_page_in_each_language(browser, pool, redis):
    camp = await portal_campaign(pool, redis)
    for lang, heading in (("kk", "Қазір жүріп жатқан дауыс беру"), ("ru", "Идущие голосования"),
                          ("en", "Voting now")):
        body = html(await browser.get(f"/?lang={lang}"))
        assert_language(body, lang, "/")
        assert heading in body
        for link in (f"/campaigns/{camp.slug}", f"/campaigns/{camp.slug}/results", "/rules", "/privacy",
                     "/receipts", "/nominate", "/my-votes"):
            assert f'href="{link}"' in body, link


async def test_language_is_remembered_in_a_cookie_and_kazakh_is_the_default(browser):
    body = html(await browser.get("/"))
    assert '<html lang="kk">' in body and "faces_lang" not in browser.cookies
    r = await browser.get("/rules?lang=ru")
    assert "Правила голосования" in html(r)
    cookie = r.headers["set-cookie"]
    assert "faces_lang=ru" in cookie and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Secure" in cookie  # http://vote.test is not loopback
    browser.cookies.set("faces_lang", "ru")  # what a browser sends back (over https)
    body = html(await browser.get("/privacy"))  # remembered
    assert '<html lang="ru">' in body and "псевдоним" in body.lower()
    body = html(await browser.get("/privacy?lang=xx"))  # unknown: the remembered one
    assert '<html lang="ru">' in body
    body = html(await browser.get("/privacy?lang=en"))
    assert '<html lang="en">' in body and "never stored in clear" in body


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_ballot_lists_every_candidate_as_an_article_in_each_language(browser, pool, redis, lang):
    camp = await portal_campaign(pool, redis, candidates=6)
    body = html(await browser.get(f"/campaigns/{camp.slug}?lang={lang}"))
    assert_language(body, lang, f"/campaigns/{camp.slug}")
    assert articles(body) == [camp.names[c] for c in camp.candidate_ids]
    for cid in camp.candidate_ids:
        assert f'href="/campaigns/{camp.slug}/candidates/{cid}"' in body
        # The photo: the generated portrait, sized, lazy, decorative next to the name's heading.
        # (its URL versioned by its content, so it can be cached for a year)
        assert re.search(f'<img class="photo" src="/photos/{cid}.svg\\?v=[0-9a-f]{{16}}" width="96" height="96" '
                         f'alt="" loading="lazy"', body)
        # The button's name says whom it is for, starting with its visible word.
        t = CATALOGUES.translator(lang)
        assert (f'<button class="vote" form="vote-form" name="candidate_id" value="{cid}" aria-label="'
                f'{t("ballot.vote")} {t("ballot.vote_for", name=camp.names[cid])}">') in body
    # Region and sphere names from the reference data, in the page's language.
    region = {"kk": "Алматы облысы", "ru": "Алматинская область", "en": "Almaty Region"}[lang]
    assert region in body
    # Anonymous visitors: the vote buttons lead to sign-in, coming back to the ballot; no script to run.
    assert '<form id="vote-form" method="get" action="/signin">' in body and "<script" not in body
    assert f'name="next" value="/campaigns/{camp.slug}"' in body
    # The summaries are in Russian: a visible label outside Russian, and lang="ru" on the passage.
    if lang == "ru":
        assert 'lang="ru"' not in body.split("<main", 1)[1].replace('hreflang="ru" lang="ru"', "")
    else:
        label = {"kk": "орысша", "en": "in Russian"}[lang]
        assert f'<p lang="ru"><span class="fallback" lang="{lang}">{label}</span>' in body


async def test_ballot_filters_by_region_sphere_and_name_without_javascript(browser, pool, redis):
    camp = await portal_campaign(pool, redis, candidates=10)
    ids = camp.candidate_ids
    # devtools/campaigns.py: candidate i is in REGIONS[i % 5] and SPHERES[i % 5]
    body = html(await browser.get(f"/campaigns/{camp.slug}?region=KZ-71&lang=en"))
    assert articles(body) == [camp.names[ids[1]], camp.names[ids[6]]]
    assert "Showing 2 of 10." in body and '<option value="KZ-71" selected>' in body
    body = html(await browser.get(f"/campaigns/{camp.slug}?sphere=social&lang=en"))
    assert articles(body) == [camp.names[ids[3]], camp.names[ids[8]]]
    body = html(await browser.get(f"/campaigns/{camp.slug}?region=KZ-71&sphere=social&lang=en"))
    assert articles(body) == [] and "No one matches" in body
    name = camp.names[ids[4]]
    first, last, tag = name.split()
    body = html(await browser.get(f"/campaigns/{camp.slug}", params={"q": f"  {tag.upper()}  {first.lower()} "}))
    assert articles(body) == [name]
    assert f'value="{tag.upper()} {first.lower()}"' in body  # what was typed stays in the box
    # Values that mean nothing are ignored, not errors; markup in the query is escaped.
    body = html(await browser.get(f"/campaigns/{camp.slug}", params={"region": "KZ-00", "sphere": "x",
                                                                      "q": '<script>"'}))
    assert "<script>\"" not in body and "&lt;script&gt;&#34;" in body
    assert articles(body) == []
    body = html(await browser.get(f"/campaigns/{camp.slug}?region=KZ-00&sphere=x"))
    assert len(articles(body)) == 10


async def test_a_long_ballot_comes_in_pages_of_50_and_filters_reach_everyone(browser, pool, redis):
    """130 people: pages of 50, 50, 30 with links that keep the filters; the filters and the search work over
    the whole ballot, not the page; a page past the end is the last one, a page that is not a number the first."""
    camp = await portal_campaign(pool, redis, candidates=130)
    ids, names, slug = camp.candidate_ids, camp.names, camp.slug
    ballot = f"/campaigns/{slug}"
    body = html(await browser.get(f"{ballot}?lang=en"))
    assert articles(body) == [names[c] for c in ids[:50]]
    assert "130 candidates, 1–50 on this page." in body
    nav = body.split('<nav class="pages" aria-label="Pages of the list">', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="([^"]+)#h-candidates"([^>]*)>(\w+)</a>', nav) == [
        (ballot, ' aria-current="page"', "1"), (f"{ballot}?page=2", "", "2"), (f"{ballot}?page=3", "", "3"),
        (f"{ballot}?page=2", ' rel="next"', "Next")]
    assert '<h2 id="h-candidates">' in body  # where the links land
    body = html(await browser.get(f"{ballot}?page=3&lang=en"))
    assert articles(body) == [names[c] for c in ids[100:]]
    assert "130 candidates, 101–130 on this page." in body and "· page 3 — 100 New Faces" in body
    assert f'<a href="{ballot}?page=2#h-candidates" rel="prev">Previous</a>' in body and 'rel="next"' not in body
    assert f'<a href="{ballot}?page=3#h-candidates" aria-current="page">3</a>' in body
    assert f'<link rel="canonical" href="http://vote.test{ballot}?page=3">' in body
    assert html(await browser.get(f"{ballot}?page=9&lang=en")) == body                     # past the end: the last
    for odd in ("abc", "0", "-1", "²", "1.5"):
        assert articles(html(await browser.get(ballot, params={"page": odd}))) == [names[c] for c in ids[:50]]
    # Every page in turn: everyone once, in ballot order.
    seen = [n for p in (1, 2, 3) for n in articles(html(await browser.get(f"{ballot}?page={p}")))]
    assert seen == [names[c] for c in ids]
    # The search runs over the whole ballot: names are "... {tag}{n:03d}", so "{tag}0" finds n = 0 … 99.
    tag = names[ids[0]].split()[-1][:-3]
    body = html(await browser.get(ballot, params={"q": f"{tag}0", "lang": "en"}))
    assert "100 of 130 found, 1–50 on this page." in body
    assert f'<a href="{ballot}?q={tag}0&amp;page=2#h-candidates" rel="next">Next</a>' in body  # the filter kept
    body = html(await browser.get(ballot, params={"q": f"{tag}0", "page": "2", "lang": "en"}))
    assert articles(body) == [names[c] for c in ids[50:100]]
    assert "100 of 130 found, 51–100 on this page." in body and f'value="{tag}0"' in body
    # Someone on the last page is found from the first page's search box, and by their region.
    last = names[ids[129]]
    assert articles(html(await browser.get(ballot, params={"q": last}))) == [last]
    by_region = [n for region in REGIONS
                 for n in articles(html(await browser.get(ballot, params={"region": region})))]
    assert sorted(by_region) == sorted(names.values())
    # A short list has no page links.
    body = html(await browser.get(ballot, params={"q": last}))
    assert 'class="pages"' not in body and "?page=" not in body


async def test_candidate_page_has_the_story_achievements_and_share_tags(browser, pool, redis):
    camp = await portal_campaign(pool, redis)
    cid = camp.candidate_ids[2]
    name = camp.names[cid]
    path = f"/campaigns/{camp.slug}/candidates/{cid}"
    for lang in ("kk", "ru", "en"):
        body = html(await browser.get(f"{path}?lang={lang}"))
        assert_language(body, lang, path)
        assert f"<h1>{name}</h1>" in body
        assert f"<p>История {name}.</p>" in body and "<p>Второй абзац истории.</p>" in body
        assert "Достижение 2" in body and 'href="https://example.kz/evidence" rel="nofollow noopener noreferrer"' in body
        assert f'<meta property="og:title" content="{name}">' in body
        assert f'<meta property="og:url" content="http://vote.test{path}">' in body
        assert re.search(f'<meta property="og:image" content="http://vote.test/photos/{cid}.svg\\?v=[0-9a-f]{{16}}">', body)
        assert '<meta property="og:type" content="profile">' in body
        assert '<meta name="twitter:card" content="summary">' in body
        description = re.search(r'<meta property="og:description" content="([^"]*)">', body).group(1)
        assert unescape(description).startswith("Ауылдық мектептің мұғалімі")
    body = html(await browser.get(f"{path}?lang=en"))
    assert '<div lang="ru">' in body and "in Russian" in body  # the story is in Russian, and says so
    # Not on this ballot, not a number, another campaign's slug: the 404 page.
    other = await portal_campaign(pool, redis, candidates=1)
    for bad in (f"/campaigns/{camp.slug}/candidates/{other.candidate_ids[0]}",
                f"/campaigns/{camp.slug}/candidates/abc", f"/campaigns/no-such-campaign/candidates/{cid}"):
        assert "Бет табылмады" in html(await browser.get(bad), 404)


async def test_results_page_when_public_and_a_clear_message_when_not(browser, pool, redis):
    live = await portal_campaign(pool, redis, live_results=True)
    body = html(await browser.get(f"/campaigns/{live.slug}/results?lang=en"))
    assert_language(body, "en", f"/campaigns/{live.slug}/results")
    assert "Votes in total: 0" in body and "Provisional figures as of" in body
    for cid in live.candidate_ids:
        assert live.names[cid] in body
    hidden = await portal_campaign(pool, redis, live_results=False)
    body = html(await browser.get(f"/campaigns/{hidden.slug}/results?lang=ru"))
    assert "будут опубликованы после подведения итогов" in body
    assert hidden.names[hidden.candidate_ids[0]] not in body
    assert '<a href="/campaigns/' + hidden.slug + '/results">' not in html(await browser.get(f"/campaigns/{hidden.slug}"))


async def test_final_100_gallery_composition_and_person_pages(browser, pool, redis):
    camp = await portal_campaign(pool, redis, candidates=8, live_results=False)
    body = html(await browser.get(f"/campaigns/{camp.slug}/final?lang=en"))
    assert "published here once voting has ended" in body  # not finalised yet
    winners = await finalise(pool, redis, camp, 5)
    assert winners == camp.candidate_ids[:5]
    for lang in ("kk", "ru", "en"):
        body = html(await browser.get(f"/campaigns/{camp.slug}/final?lang={lang}"))
        assert_language(body, lang, f"/campaigns/{camp.slug}/final")
        assert sorted(articles(body)) == sorted(camp.names[c] for c in winners)
        for cid in camp.candidate_ids[5:]:
            assert camp.names[cid] not in body
        assert f'<h2 id="r-KZ-75">' in body  # grouped by region
        assert "История " in body  # each with its story
    body = html(await browser.get(f"/campaigns/{camp.slug}/final?lang=en"))
    assert "5 people chosen by the public vote" in body
    # Composition against the population: 3 men and 2 women of 5 (devtools: odd positions are female).
    assert re.search(r"<th scope=\"row\">Women</th>\s*<td>2</td>.*?40\.0%.*?51\.1%", body, re.S)
    assert re.search(r"<th scope=\"row\">Almaty</th>\s*<td>1</td>.*?20\.0%.*?11\.5%", body, re.S)
    body = html(await browser.get(f"/campaigns/{camp.slug}/final?region=KZ-71&lang=en"))
    assert articles(body) == [camp.names[winners[1]]]
    # The person page says they are one of the 100; the home page links the gallery.
    body = html(await browser.get(f"/campaigns/{camp.slug}/candidates/{winners[0]}?lang=en"))
    assert "One of the final 100" in body
    assert f'href="/campaigns/{camp.slug}/final"' in html(await browser.get("/"))
    # Finalised: public counts, no vote buttons.
    body = html(await browser.get(f"/campaigns/{camp.slug}?lang=en"))
    assert 'class="vote"' not in body and "This vote has ended." in body
    assert "Final: the valid votes after review." in html(await browser.get(f"/campaigns/{camp.slug}/results?lang=en"))


async def test_rules_and_privacy_say_what_is_stored_and_how_to_check(browser):
    body = html(await browser.get("/privacy?lang=en"))
    assert_language(body, "en", "/privacy")
    assert "keyed pseudonym of your phone number" in body and "never stored in clear" in body
    assert "15 minutes" in body and 'href="/receipts"' in body
    body = html(await browser.get("/rules?lang=kk"))
    assert "Меркл" in body and 'id="check"' in body


async def test_generated_portrait_is_deterministic_and_public_only(browser, pool, redis):
    camp = await portal_campaign(pool, redis, candidates=2)
    cid = camp.candidate_ids[0]
    r = await browser.get(f"/photos/{cid}.svg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.headers["cache-control"] == "public, max-age=86400"  # unversioned (a shared link): a day
    # The URL the pages use names the version: cached for a year; the version changes with the name.
    src = re.search(f'src="(/photos/{cid}.svg\\?v=[0-9a-f]+)"', html(await browser.get(f"/campaigns/{camp.slug}")))[1]
    versioned = await browser.get(src)
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.content == r.content and versioned.headers["etag"] == r.headers["etag"] == f'"{src[-16:]}"'
    assert (await browser.get(src + "0")).headers["cache-control"] == "public, max-age=86400"  # not its version
    assert "default-src 'none'" in r.headers["content-security-policy"]
    first, last, _ = camp.names[cid].split()
    assert f">{first[0]}{last[0]}</text>" in r.text and 'role="img"' in r.text
    assert (await browser.get(f"/photos/{cid}.svg")).content == r.content
    assert (await browser.get(f"/photos/{cid}.svg", headers={"If-None-Match": r.headers["etag"]})).status_code == 304
    # A candidate on no published ballot has no public portrait (and no name leaks through one).
    draft = await portal_campaign(pool, redis, candidates=1, publish=False)
    for path in (f"/photos/{draft.candidate_ids[0]}.svg", "/photos/abc.svg", f"/photos/{cid}.png"):
        assert (await browser.get(path)).status_code == 404


async def test_static_files_have_hashed_names_and_a_long_cache(browser):
    body = html(await browser.get("/"))
    css = re.search(r'href="(/static/portal\.[0-9a-f]{10}\.css)"', body).group(1)
    assert "<script" not in body  # the script comes with a signed-in voter's personal block only (test_flows_vote)
    js = staticfiles.url("portal.js")
    assert re.fullmatch(r"/static/portal\.[0-9a-f]{10}\.js", js)
    r = await browser.get(css)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "gzip" and ".cand" in r.text
    assert (await browser.get(js)).headers["content-type"].startswith("text/javascript")
    assert (await browser.get("/static/portal.css")).headers["cache-control"] == "public, no-cache"
    assert (await browser.get("/static/nothing.css")).status_code == 404


async def test_every_page_is_safe_to_frame_nowhere_and_runs_only_own_scripts(browser, pool, redis):
    camp = await portal_campaign(pool, redis)
    for path in ("/", f"/campaigns/{camp.slug}", f"/campaigns/{camp.slug}/candidates/{camp.candidate_ids[0]}",
                 f"/campaigns/{camp.slug}/results", f"/campaigns/{camp.slug}/final", "/rules", "/privacy", "/nope"):
        r = await browser.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        body = r.text
        assert "<script>" not in body and " style=" not in body and "<style" not in body, path
        assert not re.search(r'(src|href)="(https?:)?//(?!vote\.test|example\.kz)', body), path  # nothing third-party
