"""The pure parts of the site: pagination, the popular score, groupings, discovery helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from conftest import BUILT_AT, build_catalog, make_episode
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from devcasts import discovery, pages
from devcasts.content_pages import render_markdown
from devcasts.model import Person, Podcast, SourceRef
from devcasts.template_filters import (
    clock,
    foreign_language,
    human_date,
    human_duration,
    media_label,
    printable,
)


@given(st.lists(st.integers(), max_size=200), st.integers(min_value=1, max_value=40))
def test_paginate_keeps_every_item_once_in_order(items: list[int], size: int) -> None:
    result = pages.paginate(items, "x/", size)
    assert [item for page in result for item in page.items] == items
    assert [page.number for page in result] == list(range(1, len(result) + 1))
    assert all(0 < len(page.items) <= size for page in result) or items == []
    assert result[0].relpath == "x/" and all(p.count == len(result) for p in result)
    if len(result) > 1:
        assert result[1].relpath == "x/page/2/"


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=500))
def test_page_numbers_include_ends_and_current(count: int, number: int) -> None:
    number = min(number, count)
    page = pages.Page((), number, count, "x/")
    assert {1, count, number} <= set(page.numbers)
    assert list(page.numbers) == sorted(set(page.numbers)) and len(page.numbers) <= 7


def test_popularity_grows_with_carriers_and_weight_and_decays_with_age() -> None:
    solo = make_episode("a", 1, published=BUILT_AT)
    shared = make_episode("a", 1, published=BUILT_AT, also_in=(SourceRef("b"), SourceRef("c")))
    assert pages.popularity(shared, 1.0, BUILT_AT) == 3 * pages.popularity(solo, 1.0, BUILT_AT)
    assert pages.popularity(solo, 2.0, BUILT_AT) == 2.0
    old = make_episode("a", 2, published=BUILT_AT - timedelta(days=180))
    assert abs(pages.popularity(old, 1.0, BUILT_AT) - 0.5) < 1e-9


@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 3), st.booleans()), max_size=30))
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


def test_neighbors_stay_within_a_podcast() -> None:
    episodes = [make_episode("a", n) for n in (1, 2, 3)] + [make_episode("b", 1)]
    around = pages.podcast_neighbors(episodes)
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
