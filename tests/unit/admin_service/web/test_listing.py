"""Long lists on the staff pages (admin_service/web/controllers/listing.py): the pages of a filtered, sorted list
are that list cut in order, nothing lost or repeated; group counts add up; bad parameters never fail."""

from __future__ import annotations

from urllib.parse import parse_qs

from hypothesis import given
from hypothesis import strategies as st

from admin_service.web.controllers.listing import slice_rows

SORTS = {"votes": lambda r: (-r["votes"], r["id"]), "name": lambda r: (r["full_name"].casefold(), r["id"])}
REGIONS, SPHERES = ("KZ-75", "KZ-71", "KZ-79"), ("healthcare", "social")

rows_strategy = st.lists(st.builds(
    lambda i, name, region, sphere, votes: {"id": i, "full_name": name, "region": region, "sphere": sphere,
                                            "votes": votes},
    st.integers(), st.text(alphabet="абвгдеӘәҚқ xyz", min_size=1, max_size=12), st.sampled_from(REGIONS),
    st.sampled_from(SPHERES), st.integers(0, 50)), max_size=130).map(
    lambda rows: [{**r, "id": n} for n, r in enumerate(rows)])
params_strategy = st.fixed_dictionaries({}, optional={
    "q": st.text(alphabet="абвӘ xyz", max_size=3), "region": st.sampled_from(("", *REGIONS, "KZ-00")),
    "sphere": st.sampled_from(("", *SPHERES)), "sort": st.sampled_from(("", "votes", "name", "nonsense")),
    "page": st.sampled_from(("", "0", "1", "2", "3", "-1", "x", "99999999999", "²", "١"))})


@given(rows_strategy, params_strategy, st.integers(1, 20))
def test_pages_cut_the_filtered_sorted_list_in_order(rows, params, per_page) -> None:
    first = slice_rows(rows, {**params, "page": "1"}, sorts=SORTS, per_page=per_page)
    joined = []
    for page in range(1, first.pages + 1):
        s = slice_rows(rows, {**params, "page": str(page)}, sorts=SORTS, per_page=per_page)
        assert s.page == page and s.total == first.total and len(s.items) <= per_page
        joined += s.items
    q = " ".join(params.get("q", "").split()).casefold()
    wanted = [r for r in rows if q in r["full_name"].casefold()
              and params.get("region", "") in ("", r["region"]) and params.get("sphere", "") in ("", r["sphere"])]
    assert sorted(r["id"] for r in joined) == sorted(r["id"] for r in wanted)  # nothing lost, nothing twice
    assert joined == sorted(joined, key=SORTS[first.sort])
    assert first.sort == (params.get("sort") if params.get("sort") in SORTS else "votes")


@given(rows_strategy, params_strategy)
def test_any_page_parameter_gives_a_page_and_counts_add_up(rows, params) -> None:
    s = slice_rows(rows, params, sorts=SORTS)
    assert 1 <= s.page <= s.pages
    if params.get("region") in REGIONS:
        assert s.by_region.get(params["region"], 0) == s.total
    if not params.get("region") and not params.get("sphere"):
        assert sum(s.by_region.values()) == sum(s.by_sphere.values()) == s.total
    assert s.first == (0 if not s.items else (s.page - 1) * s.per_page + 1)
    assert s.last - s.first + 1 == len(s.items) if s.items else s.last == 0


def test_links_keep_the_filters_and_drop_defaults() -> None:
    rows = [{"id": i, "full_name": f"Name {i}", "region": "KZ-75", "sphere": "social", "votes": i}
            for i in range(120)]
    s = slice_rows(rows, {"q": "  name  ", "region": "KZ-75", "sort": "name", "page": "2"}, sorts=SORTS)
    assert s.q == "name" and s.page == 2 and s.filtered
    assert parse_qs(s.query(page=3)[1:]) == {"q": ["name"], "region": ["KZ-75"], "sort": ["name"], "page": ["3"]}
    assert "page" not in s.query(page=1)
    assert slice_rows(rows, {}, sorts=SORTS).query() == "?sort=votes"
