"""Pieces of the portal that need no server: portraits, text fallback, the page cache and its slot."""

from __future__ import annotations

import asyncio
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting_service.portal.avatars import PALETTE, avatar_svg, avatar_version, colour, contrast_ratio, initials, photo_src
from voting_service.portal.controllers.campaigns import page_of
from voting_service.portal.cache import Fingerprints, PageCache, compile_page
from voting_service.portal.render import SLOT_END, SLOT_START


@pytest.mark.parametrize("background", PALETTE)
def test_every_portrait_colour_keeps_white_initials_readable(background):
    assert contrast_ratio("#ffffff", background) >= 4.5


def test_portraits_are_deterministic_and_escape_the_name():
    assert initials("Айгерім Сәрсенбаева") == "АС"
    assert initials("Ғалым") == "Ғ" and initials("  ") == "?"
    assert avatar_svg(42, "Әсел Қасымова") == avatar_svg(42, "Әсел Қасымова")
    assert colour(42) == colour(42) and len({colour(i) for i in range(200)}) > 6
    svg = avatar_svg(7, 'A "<b>" & Co').decode()
    assert "<b>" not in svg and "&quot;" in svg and "&amp;" in svg


def test_only_photos_of_this_site_are_used():
    avatar = "/photos/5.svg?v=" + avatar_version(avatar_svg(5, "Әсел Оспанова"))
    assert photo_src(5, None, "Әсел Оспанова") == avatar
    assert photo_src(5, "https://cdn.example/x.jpg", "Әсел Оспанова") == avatar  # the CSP would block it anyway
    assert photo_src(5, "//cdn.example/x.jpg", "Әсел Оспанова") == avatar
    assert photo_src(5, "/media/5.jpg", "Әсел Оспанова") == "/media/5.jpg"
    # A new name is a new picture, under a new URL (the old one stays cached for a year).
    assert photo_src(5, None, "Әсел Нұрланова") != avatar


def test_a_page_with_a_slot_is_cached_whole_and_split_for_personal_parts():
    page = compile_page(f"<p>top</p>{SLOT_START}<form id=x>anon</form>{SLOT_END}<p>end</p>")
    assert page.raw == b"<p>top</p><form id=x>anon</form><p>end</p>"
    assert gzip.decompress(page.gz) == page.raw
    assert page.prefix + b"<b>mine</b>" + page.suffix == b"<p>top</p><b>mine</b><p>end</p>"
    assert compile_page("<p>a</p>").etag != page.etag and compile_page("<p>a</p>").etag == compile_page("<p>a</p>").etag


async def test_concurrent_misses_render_once_and_a_full_cache_drops_the_oldest():
    cache = PageCache(max_entries=4)
    calls = 0

    async def render() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "<p>x</p>"

    pages = await asyncio.gather(*(cache.get("k", render) for _ in range(20)))
    assert calls == 1 and all(p is pages[0] for p in pages)
    for n in range(10):
        await cache.get(("k", n), lambda: "<p>y</p>")
    assert len(cache) <= 4


def test_fingerprints_change_with_the_data_not_with_each_call():
    prints = Fingerprints()
    rows = [{"id": 1, "name": "a"}]
    first = prints.of("ballot", rows)
    assert prints.of("ballot", rows) == first
    assert prints.of("ballot", [{"id": 1, "name": "b"}]) != first
    assert prints.of("ballot", [{"id": 1, "name": "a"}]) == first  # a reload with the same content


@given(found=st.integers(0, 1000), size=st.integers(1, 60),
       asked=st.one_of(st.integers(-5, 100).map(str), st.text(max_size=8), st.sampled_from(["²", "٣", "0003", " 2"])))
def test_ballot_pages_cover_every_candidate_once_and_any_page_asked_is_one_of_them(found, size, asked):
    page, pages = page_of(asked, found, size)
    assert 1 <= page <= pages
    assert pages == 1 if found == 0 else (pages - 1) * size < found <= pages * size
    shown = [n for p in range(1, pages + 1) for n in range(found)[(p - 1) * size:p * size]]
    assert shown == list(range(found))  # the pages in order are the whole list, each once
    if asked.isascii() and asked.isdigit() and 1 <= int(asked) <= pages:
        assert page == int(asked)
