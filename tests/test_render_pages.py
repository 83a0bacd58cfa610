"""The pure parts of the site: pagination, the popular score, groupings, discovery helpers."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from conftest import BUILT_AT, build_catalog, make_episode
from hypothesis import example, given
from hypothesis import strategies as st
from markupsafe import Markup

from devcasts.model import Topic
from devcasts.records import Episode, Person, Podcast, SourceRef
from devcasts.site import discovery, filters, pages
from devcasts.site.content_pages import render_markdown
from devcasts.site.filters import (
    clock,
    foreign_language,
    human_date,
    human_duration,
    media_label,
    printable,
)
from devcasts.util.episode_dates import newest_first_key


@given(st.lists(st.integers(), max_size=200), st.integers(min_value=1, max_value=40))
def test_paginate_keeps_every_item_once_in_order(items: list[int], size: int) -> None:
    result = pages.paginate(items, "x/", size)
    assert [item for page in result for item in page.items] == items
    front, *older = result
    assert front.relpath == "x/" and front.is_front
    assert [p.relpath for p in older] == [f"x/page/{n}/" for n in range(len(older), 0, -1)]
    assert all(len(page.items) == size for page in older)
    assert len(front.items) == len(items) if not older else size <= len(front.items) < 2 * size


@given(
    st.lists(st.integers(), max_size=200),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=30),
)
def test_newer_items_leave_the_numbered_pages_as_they_were(
    items: list[int], size: int, new: int
) -> None:
    """Only the first page and the newest three numbered pages can change."""
    before = {p.relpath: p for p in pages.paginate(items, "x/", size)}
    after = {p.relpath: p for p in pages.paginate([-1] * new + items, "x/", size)}
    assert set(before) <= set(after)
    numbered = [p for p in before.values() if not p.is_front]
    for page in numbered:
        assert after[page.relpath].items == page.items
        if int(page.relpath.split("/")[2]) <= len(numbered) - 3:
            assert after[page.relpath].nav == page.nav


@given(st.integers(min_value=0, max_value=600), st.integers(min_value=1, max_value=40))
def test_every_page_link_leads_to_a_page_of_the_listing(count: int, size: int) -> None:
    for paginate in (pages.paginate, lambda i, b, s: pages.paginate_ranked(i, b, s, 5)):
        result = paginate(list(range(count)), "x/", size)
        paths = {page.relpath for page in result}
        for page in result:
            targets = {link.relpath for link in page.links} - {None}
            assert targets <= paths and {page.newer, page.older} - {None} <= paths
            current = [link.relpath for link in page.links if link.current]
            assert current == ([page.relpath] if len(result) > 1 else [])
            assert len(page.links) <= 11


def test_ranked_pages_stop_at_the_top_ones() -> None:
    result = pages.paginate_ranked(list(range(100)), "x/popular/", 10, 3)
    assert [p.relpath for p in result] == ["x/popular/", "x/popular/page/2/", "x/popular/page/3/"]
    assert result[1].items == tuple(range(10, 20)) and result[2].label == "page 3 of 3"
    assert result[0].older == "x/popular/page/2/" and result[2].older is None


def test_popularity_grows_with_carriers_and_weight_and_decays_with_age() -> None:
    solo = make_episode("a", 1, published=BUILT_AT)
    shared = make_episode("a", 1, published=BUILT_AT, also_in=(SourceRef("b"), SourceRef("c")))
    assert pages.popularity(shared, 1.0, BUILT_AT) == 3 * pages.popularity(solo, 1.0, BUILT_AT)
    assert pages.popularity(solo, 2.0, BUILT_AT) == 2.0
    old = make_episode("a", 2, published=BUILT_AT - timedelta(days=180))
    assert abs(pages.popularity(old, 1.0, BUILT_AT) - 0.5) < 1e-9


@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 3), st.booleans()), max_size=30))
@example([(249, 0, False), (429, 1, False)])  # equal scores on paper: carried twice, 180 days older
def test_popular_order_does_not_change_when_time_moves_on(
    specs: list[tuple[int, int, bool]],
) -> None:
    episodes = [
        make_episode(
            "a",
            i,
            published=BUILT_AT - timedelta(days=age),
            also_in=tuple(SourceRef(f"p{j}") for j in range(shared)),
            featured=featured,
        )
        for i, (age, shared, featured) in enumerate(specs)
    ]
    now = pages.popular_order(episodes, {"a": 1.5}, BUILT_AT)
    later = pages.popular_order(episodes, {"a": 1.5}, BUILT_AT + timedelta(days=30))
    assert [e.id for e in now] == [e.id for e in later]
    featured = [e.featured for e in now]
    assert featured == sorted(featured, reverse=True)  # featured ones first


def test_equal_popular_scores_go_to_the_newer_episode_at_every_build_date() -> None:
    newer = make_episode("a", 1, published=BUILT_AT - timedelta(days=249))
    older = make_episode(
        "a", 2, published=BUILT_AT - timedelta(days=429), also_in=(SourceRef("b"),)
    )
    for days in range(120):
        order = pages.popular_order([older, newer], {"a": 1.5}, BUILT_AT + timedelta(days=days))
        assert [e.id for e in order] == ["a-0001", "a-0002"], f"{days} days later"


def test_neighbors_stay_within_a_podcast() -> None:
    episodes = [make_episode("a", n) for n in (1, 2, 3)] + [make_episode("b", 1)]
    around = pages.neighbors_in(pages.episodes_by_podcast(episodes).values())
    assert around["a-0002"].older and around["a-0002"].older.id == "a-0003"
    assert around["a-0002"].newer and around["a-0002"].newer.id == "a-0001"
    assert around["b-0001"] == pages.Neighbors(None, None)


def test_people_are_merged_by_slug_across_shows() -> None:
    ada = Person("Ada Example", "ada-example", "host")
    episodes = [
        make_episode("a", 1, people=(ada,)),
        make_episode("b", 2, people=(Person("Ada  Example", "ada-example", "guest"),)),
    ]
    [entry] = pages.people_index(episodes)
    assert entry.name == "Ada Example" and entry.roles == ("guest", "host")
    assert [e.id for e in entry.episodes] == ["a-0001", "b-0002"]


def test_categories_group_podcasts() -> None:
    podcasts = [
        Podcast("b", "Bravo", "u", categories=("Technology",)),
        Podcast("a", "Alpha", "u", categories=("Technology", " ")),
    ]
    [entry] = pages.category_index(podcasts)
    assert entry.slug == "technology" and [p.slug for p in entry.podcasts] == ["a", "b"]


@given(st.text(max_size=200))
def test_script_json_never_closes_the_script(text: str) -> None:
    encoded = str(discovery.script_json({"name": text}))
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded) == {"name": text}


def test_external_url_accepts_only_http() -> None:
    assert discovery.external_url("https://x.example/a") == "https://x.example/a"
    for bad in (
        "javascript:alert(1)",
        "data:text/html,x",
        "/local",
        "feeds/x.xml",
        "http://",
        None,
    ):
        assert discovery.external_url(bad) is None


def test_formats() -> None:
    assert discovery.iso_duration(3723) == "PT1H2M3S" and discovery.iso_duration(0) == "PT0S"
    assert human_duration(3723) == "1 h 02 min" and human_duration(30) == "1 min"
    assert clock(65) == "1:05" and clock(3725.9) == "1:02:05"
    assert human_date(datetime(2025, 2, 3, tzinfo=UTC)) == "3 Feb 2025"
    assert media_label("text/vtt; charset=utf-8") == "WebVTT" and media_label("x/y") == "x/y"


def test_markdown_rebases_site_links_and_escapes_html() -> None:
    html = render_markdown("[a](/topics/) [b](https://x.example/) <b>x</b>", "/repo/")
    assert 'href="/repo/topics/"' in html and 'href="https://x.example/"' in html
    assert "&lt;b&gt;" in html


def test_lang_attribute_only_for_other_languages() -> None:
    assert foreign_language("es-ES", "en") == "es-ES"
    assert foreign_language("en-US", "en") is None
    assert foreign_language("de", "de-AT") is None
    assert foreign_language('x" onload="y', "en") is None and foreign_language(None, "en") is None


def test_printable_drops_code_points_html_forbids_and_keeps_markup() -> None:
    assert printable("a\x00b\x90c\x0bd\tе\n") == "abcd\tе\n"
    cleaned = printable(Markup("<p>x\x81</p>"))
    assert isinstance(cleaned, Markup) and cleaned == Markup("<p>x</p>")
    assert printable(3) == 3


FORBIDDEN = "\x00\x01\x08\x0b\x0e\x1f\x7f\x80\x9f\ufdd0\ufdef\ufffe\uffff"


@given(st.text(alphabet=st.sampled_from([*"ab <&\t\n\r\x0c~", "é", "\u2028", *FORBIDDEN])))
def test_printable_removes_exactly_the_forbidden_code_points(text: str) -> None:
    """The ASCII shortcut and the search agree: nothing else is removed, nothing forbidden stays."""
    cleaned = printable(text)
    assert cleaned == "".join(c for c in text if c not in FORBIDDEN)
    assert printable(Markup(text)) == Markup(cleaned)


def test_sitemap_splits_past_the_protocol_limit() -> None:
    site = build_catalog().site
    pages_ = {f"p/{n}/": None for n in range(5)}
    assert [name for name, _ in discovery.sitemap_files(site, pages_, limit=5)] == ["sitemap.xml"]
    files = dict(discovery.sitemap_files(site, pages_, limit=2))
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml", "sitemap.xml"]
    assert (
        "<sitemapindex" in files["sitemap.xml"]
        and site.base_url + "sitemap-3.xml" in files["sitemap.xml"]
    )
    assert files["sitemap-3.xml"].count("<url>") == 1


@given(st.text(max_size=5), st.text(max_size=5), st.text(max_size=5), st.text(max_size=5))
def test_an_episode_fingerprint_tells_any_two_episodes_apart(
    title_a: str, summary_a: str, title_b: str, summary_b: str
) -> None:
    a = make_episode("a", 1, title=title_a, summary=summary_a)
    b = make_episode("a", 1, title=title_b, summary=summary_b)
    same = (title_a, summary_a) == (title_b, summary_b)
    assert (a.fingerprint == b.fingerprint) == same
    assert a.fingerprint != replace(a, duration=1).fingerprint


# --- what listing pages say about newer and older -----------------------------------------


def test_date_spans_read_as_a_person_names_a_stretch_of_time() -> None:
    def span(a: tuple[int, int, int], b: tuple[int, int, int]) -> str:
        return filters.date_span(datetime(*a, tzinfo=UTC), datetime(*b, tzinfo=UTC))

    assert span((2025, 2, 3), (2025, 2, 3)) == "3 Feb 2025"
    assert span((2025, 2, 3), (2025, 2, 17)) == "3–17 Feb 2025"
    assert span((2025, 1, 30), (2025, 3, 2)) == "Jan–Mar 2025"
    assert span((2024, 11, 5), (2025, 2, 1)) == "Nov 2024 – Feb 2025"


def test_episode_pages_are_named_by_their_dates_and_keep_their_names() -> None:
    """Weekly episodes by 10: links to older pages name their months, never a bare number,
    and a page's name depends on its own episodes, so newer episodes leave it alone."""
    start = datetime(2021, 1, 4, 12, tzinfo=UTC)
    weekly = [make_episode("a", n, published=start + timedelta(weeks=n)) for n in range(35)]
    listing = sorted(weekly, key=newest_first_key)
    front, *older = pages.paginate_episodes(listing, "podcasts/a/", 10)
    assert [link.label for link in front.links] == [
        "Newest",
        "Mar–May 2021",
        "Jan–Mar 2021",
    ]
    assert front.links[0].current and front.span == "May–Aug 2021"
    oldest = older[-1]
    assert oldest.relpath == "podcasts/a/page/1/" and oldest.span == "Jan–Mar 2021"
    assert oldest.offset == 25 and [e.id for e in oldest.items] == [e.id for e in listing[25:]]
    more = sorted(
        [
            *weekly,
            *(make_episode("a", n, published=start + timedelta(weeks=n)) for n in range(35, 60)),
        ],
        key=newest_first_key,
    )
    later = {page.relpath: page for page in pages.paginate_episodes(more, "podcasts/a/", 10)}
    assert later["podcasts/a/page/1/"].span == "Jan–Mar 2021"
    assert later["podcasts/a/page/1/"].items == oldest.items


def test_undated_pages_fall_back_to_their_number() -> None:
    result = pages.paginate(list(range(30)), "x/", 10)
    assert [link.label for link in result[0].links] == ["Newest", "Page 2", "Page 1"]


def test_popular_order_depends_on_the_build_date_only_for_episodes_after_it() -> None:
    episodes = [make_episode("a", n, published=BUILT_AT - timedelta(days=40 * n)) for n in range(4)]
    assert pages.popular_cap(episodes, BUILT_AT) is None
    assert pages.popular_cap(episodes, BUILT_AT - timedelta(days=1)) == BUILT_AT - timedelta(days=1)
    assert pages.popular_cap([], BUILT_AT) is None
    assert pages.popular_cap(episodes, None) is None


@given(
    st.dictionaries(
        st.text(alphabet=st.sampled_from("ab-/&<>'\"é\x01\ufffe"), max_size=8),
        st.none() | st.datetimes(timezones=st.just(UTC)),
        max_size=6,
    )
)
def test_a_sitemap_names_every_page_as_xml_allows(pages_: dict[str, datetime | None]) -> None:
    """Whatever a path holds: escaped where XML needs it, without what XML cannot hold."""
    site = build_catalog().site
    [(_, text)] = discovery.sitemap_files(site, pages_)
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    entries = ET.fromstring(text.encode()).findall(f"{namespace}url")
    assert [e.findtext(f"{namespace}loc") for e in entries] == [
        site.base_url + re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", path)
        for path in sorted(pages_)
    ]
    assert [e.findtext(f"{namespace}lastmod") for e in entries] == [
        None if pages_[path] is None else pages_[path].date().isoformat()  # type: ignore[union-attr]
        for path in sorted(pages_)
    ]


_SHOWS = ["alpha", "beta", "gamma"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(_SHOWS),
            st.lists(st.sampled_from(_SHOWS), max_size=2),
            st.lists(st.sampled_from(["heroku", "render", "gone"]), max_size=3),
        ),
        max_size=8,
    ),
    st.lists(st.lists(st.sampled_from(_SHOWS), max_size=3), min_size=1, max_size=3),
)
def test_every_grouping_lists_each_episode_it_holds_once_in_the_catalog_s_order(
    shapes: list[tuple[str, list[str], list[str]]], category_members: list[list[str]]
) -> None:
    """An episode is in its show's listing and in those of the shows it was merged from, in
    each topic it names (once, even named twice) and in each category of any of its shows."""
    newest = [
        make_episode(
            show,
            n,
            also_in=tuple(SourceRef(other) for other in dict.fromkeys(others) if other != show),
            topics=tuple(topics),
        )
        for n, (show, others, topics) in enumerate(shapes)
    ]

    def shows(e: Episode) -> set[str]:
        return {e.podcast, *(ref.podcast for ref in e.also_in)}

    published = pages.episodes_published_by_podcast(newest)
    assert published == {
        slug: [e for e in newest if slug in shows(e)]
        for slug in sorted({slug for e in newest for slug in shows(e)})
    }
    topics = (Topic("heroku", "Heroku", ("heroku",)), Topic("render", "Render", ("render",)))
    assert pages.episodes_by_topic(topics, newest) == {
        t.slug: [e for e in newest if t.slug in e.topics] for t in topics
    }
    categories = [
        pages.CategoryEntry(
            f"c{n}", f"C{n}", tuple(Podcast(slug=s, title=s, feed_url="") for s in members)
        )
        for n, members in enumerate(category_members)
    ]
    assert pages.episodes_by_category(categories, newest) == {
        c.slug: [e for e in newest if shows(e) & {p.slug for p in c.podcasts}] for c in categories
    }
