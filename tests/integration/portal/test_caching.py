"""Pages that are the same for everyone: rendered once, compressed once, ETag / 304, a new page as soon as the
ballot changes; the home page and each page of a 200-candidate ballot stay under 50 KB compressed."""

from __future__ import annotations

import gzip

import brotli

from tests.integration.portal.conftest import BROWSER
from tests.integration.portal.helpers import articles, directory_refresh, html, portal_campaign

BUDGET = 50 * 1024


async def test_a_public_page_is_served_with_etag_and_304(browser, pool, redis):
    camp = await portal_campaign(pool, redis)
    url = f"/campaigns/{camp.slug}?lang=ru"
    first = await browser.get(url)
    html(first)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, no-cache"
    assert first.headers["vary"] == "Accept-Encoding, Cookie"
    assert first.headers["content-encoding"] == "br"
    again = await browser.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    # Another language, another filter: another page with its own tag.
    en = await browser.get(f"/campaigns/{camp.slug}?lang=en")
    assert en.headers["etag"] != etag
    assert (await browser.get(url, headers={"If-None-Match": en.headers["etag"]})).status_code == 200
    # Each encoding is the same page.
    plain = await browser.get(url, headers={"Accept-Encoding": "identity"})
    gz = await browser.get(url, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and gz.headers["content-encoding"] == "gzip"
    assert plain.text == gz.text == first.text and gz.headers["etag"] == plain.headers["etag"] == etag


async def test_the_page_changes_when_the_ballot_changes(browser, pool, redis):
    camp = await portal_campaign(pool, redis, candidates=3)
    url = f"/campaigns/{camp.slug}"
    first = await browser.get(url)
    assert len(articles(html(first))) == 3
    async with pool.acquire() as conn:
        await conn.execute("UPDATE candidates SET full_name = 'Жаңа Есім' WHERE id = $1", camp.candidate_ids[0])
        await conn.execute("DELETE FROM ballot_entries WHERE campaign_id = $1 AND candidate_id = $2",
                           camp.id, camp.candidate_ids[2])
    await directory_refresh()
    second = await browser.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
    assert articles(html(second)) == ["Жаңа Есім", camp.names[camp.candidate_ids[1]]]


async def test_a_published_campaign_appears_and_a_closed_one_loses_its_vote_buttons(browser, pool, redis):
    before = await browser.get("/")
    camp = await portal_campaign(pool, redis)
    after = await browser.get("/", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and f'href="/campaigns/{camp.slug}"' in html(after)
    assert 'class="vote"' in html(await browser.get(f"/campaigns/{camp.slug}"))
    async with pool.acquire() as conn:
        await conn.execute("UPDATE campaigns SET state = 'closed', closed_at = now() WHERE id = $1", camp.id)
    await directory_refresh()
    body = html(await browser.get(f"/campaigns/{camp.slug}"))
    assert 'class="vote"' not in body and 'id="vote-form"' not in body


async def test_home_and_a_200_candidate_ballot_stay_under_50_kb_compressed(browser, pool, redis):
    """The ballot of 200 is four pages of 50: each under the budget, together every candidate once."""
    camp = await portal_campaign(pool, redis, candidates=200, varied=True)
    sizes = {}
    for lang in ("kk", "ru", "en"):
        listed = []
        pages = [(f"ballot{n}", f"/campaigns/{camp.slug}?page={n}&") for n in (2, 3, 4)]
        for name, url in (("home", "/?"), ("ballot1", f"/campaigns/{camp.slug}?"), *pages):
            r = await browser.get(f"{url}lang={lang}", headers={"Accept-Encoding": "gzip"})
            body = html(r)
            if name.startswith("ballot"):
                assert len(articles(body)) == 50
                listed += articles(body)
            raw = body.encode("utf-8")
            sizes[name, lang] = (len(raw), len(gzip.compress(raw, 9)), len(brotli.compress(raw)))
            assert r.headers["content-encoding"] == "gzip"
            assert int(r.headers["content-length"]) == len(gzip.compress(raw, 9, mtime=0))  # sent = measured
        assert listed == [camp.names[c] for c in camp.candidate_ids]
    for (name, lang), (raw, gz, br) in sizes.items():
        assert gz < BUDGET, f"{name} {lang}: {gz} bytes gzip (raw {raw})"
        assert br < gz
    print({f"{n}/{lang}": s for (n, lang), s in sizes.items()})


async def test_cached_pages_carry_nothing_personal(browser, pool, redis):
    """A cached page never sets anything but the language, and is the same whatever cookies come with it."""
    camp = await portal_campaign(pool, redis)
    url = f"/campaigns/{camp.slug}"
    a = await browser.get(url, headers={**BROWSER, "Cookie": "faces_lang=kk; other=1"})
    b = await browser.get(url, headers={**BROWSER, "Cookie": "faces_lang=kk"})
    assert a.headers["etag"] == b.headers["etag"] and a.text == b.text
    assert "set-cookie" not in a.headers
    assert "csrf" not in a.text.lower()
