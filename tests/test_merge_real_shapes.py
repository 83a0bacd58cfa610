"""The same episode in several feeds, in the shapes real feeds give it: parsed, normalized,
merged across feeds and listed per show, as a build does.

Invented shows and words; the shapes (prefixed titles in a member feed, stock titles shared by
unrelated shows, a bare copy beside a rich one, a guid copied onto the next item, redirect
URLs whose query is the file) were each seen in real feeds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devcasts.catalog.dedupe import merge_across_feeds
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import Config, FeedSource
from devcasts.records import Catalog, Episode, NormalizedFeed, SourceRef
from devcasts.site import urls
from devcasts.site.content_pages import load_content_pages
from devcasts.site.pages import episodes_published_by_podcast
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter
from devcasts.util.episode_dates import newest_first_key

NOW = datetime(2025, 3, 1, tzinfo=UTC)
NAMESPACES = (
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:podcast="https://podcastindex.org/namespace/1.0" '
    'xmlns:psc="http://podlove.org/simple-chapters" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)


def rss(title: str, items: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" {NAMESPACES}><channel>'
        f"<title>{title}</title><link>https://shows.example/</link>"
        f'<itunes:image href="https://shows.example/{len(title)}/cover.jpg"/>'
        f"{items}</channel></rss>"
    ).encode()


def item(title: str, audio: str, date: str = "", guid: str = "", extra: str = "") -> str:
    return (
        f"<item><title>{title}</title>"
        + (f'<guid isPermaLink="false">{guid}</guid>' if guid else "")
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + f'<enclosure url="{audio}" length="1000" type="audio/mpeg"/>{extra}</item>'
    )


def normalized(slug: str, document: bytes) -> NormalizedFeed:
    url = f"https://feeds.example/{slug}.xml"
    parsed = parse_feed(document, {}, url)
    return normalize_feed(FeedSource(url=url, slug=slug), parsed, (), NOW, url)


def merged(*feeds: NormalizedFeed, stub: Episode | None = None) -> tuple[Episode, ...]:
    """As the catalog merges: with each show's image, to tell an episode's own image."""
    images = {feed.podcast.slug: feed.podcast.image for feed in feeds}
    episodes = [e for feed in feeds for e in feed.episodes]
    return merge_across_feeds([stub or episodes[0], *episodes[1:]], images)


def listed(episodes: tuple[Episode, ...]) -> dict[str, list[str]]:
    return {
        slug: [e.title for e in group]
        for slug, group in episodes_published_by_podcast(
            sorted(episodes, key=newest_first_key)
        ).items()
    }


def test_a_member_feed_with_prefixed_titles_merges_and_both_shows_list_it() -> None:
    main = normalized("yak-shavers", rss("Yak Shavers", "".join([
        item("Episode 41: Monorepos Without Tears", "https://cdn.example/ys/41.mp3",
             "Tue, 04 Feb 2025 09:00:00 -0800", "ys-41",
             "<description>Sponsored by a database. This week: monorepos.</description>"),
        item("Episode 40: Flaky Tests Anonymous", "https://cdn.example/ys/40.mp3",
             "Tue, 28 Jan 2025 09:00:00 -0800", "ys-40"),
    ])))  # fmt: skip
    members = normalized("yak-shavers-members", rss("Yak Shavers (ad-free)", "".join([
        item("41: Monorepos Without Tears", "https://cdn.example/ys-plus/41.mp3",
             "Tue, 04 Feb 2025 21:30:00 GMT", "plus-41",
             "<description>This week: monorepos.</description>"),
    ])))  # fmt: skip
    result = merged(main, members)
    assert len(result) == 2
    shows = listed(result)
    assert shows["yak-shavers"] == ["Episode 41: Monorepos Without Tears",
                                    "Episode 40: Flaky Tests Anonymous"]  # fmt: skip
    assert shows["yak-shavers-members"] == ["Episode 41: Monorepos Without Tears"]
    (episode_41,) = (e for e in result if e.also_in)
    assert [ref.podcast for ref in episode_41.also_in] == ["yak-shavers-members"]


def test_stock_titles_of_unrelated_shows_stay_apart() -> None:
    date = "Mon, 06 Jan 2025 06:00:00 GMT"
    first = normalized("garden-hour", rss("Garden Hour", "".join([
        item("Trailer", "https://a.example/trailer.mp3", date, "g0"),
        item("Episode 1", "https://a.example/e1.mp3", date, "g1"),
        item("Weekly news", "https://a.example/news.mp3", date, "g2"),
    ])))  # fmt: skip
    second = normalized("kernel-talk", rss("Kernel Talk", "".join([
        item("Trailer", "https://b.example/trailer.mp3", date, "k0"),
        item("Episode 1", "https://b.example/ep1.mp3", date, "k1"),
        item("Weekly News", "https://b.example/news.mp3", date, "k2"),
    ])))  # fmt: skip
    result = merged(first, second)
    assert len(result) == 6 and not any(e.also_in for e in result)
    assert {slug: len(titles) for slug, titles in listed(result).items()} == {
        "garden-hour": 3,
        "kernel-talk": 3,
    }


def test_undated_items_with_one_title_stay_apart() -> None:
    title = "Postmortems That Teach Something"
    first = normalized("one", rss("One", item(title, "https://a.example/pm.mp3", guid="a")))
    second = normalized("two", rss("Two", item(title, "https://b.example/pm.mp3", guid="b")))
    assert all(e.date_estimated for e in (*first.episodes, *second.episodes))
    assert len(merged(first, second)) == 2


def test_a_bare_copy_seen_first_takes_the_rich_copy_fields() -> None:
    rich_extra = (
        "<itunes:duration>01:02:03</itunes:duration><itunes:episode>58</itunes:episode>"
        '<itunes:image href="https://cdn.example/art/58.jpg"/>'
        "<content:encoded><![CDATA[<p>We compare three ways to roll out schema changes, "
        "and why the boring one won.</p>]]></content:encoded>"
        '<podcast:person role="guest" href="https://people.example/rin">Rin Okafor</podcast:person>'
        '<psc:chapters version="1.2">'
        + "".join(f'<psc:chapter start="00:{m:02d}:00" title="Part {m}"/>' for m in range(13))
        + "</psc:chapters>"
    )
    audio = "https://media.example/show/58.mp3"
    date = "Wed, 12 Feb 2025 10:00:00 GMT"
    bare = normalized("aggregator", rss("Aggregator", item(
        "58 - Schema Changes, Three Ways", audio + "?src=agg", date, "agg-58")))  # fmt: skip
    rich = normalized("schema-show", rss("Schema Show", item(
        "58 - Schema Changes, Three Ways", audio + "?src=rss", date, "ss-58", rich_extra)))  # fmt: skip
    stub = replace(bare.episodes[0], first_seen=NOW - timedelta(days=30), slug="58-schema")
    (episode,) = merged(bare, rich, stub=stub)
    assert (episode.id, episode.podcast, episode.slug) == (stub.id, "aggregator", stub.slug)
    assert len(episode.chapters) == 13
    assert episode.duration == 3723 and episode.number == 58
    assert "boring one won" in episode.text
    assert [p.name for p in episode.people if p.role == "guest"] == ["Rin Okafor"]
    assert episode.image == "https://cdn.example/art/58.jpg"


def test_a_guid_copied_onto_the_next_item_keeps_both_episodes() -> None:
    date = "Fri, 30 Oct 2015 13:35:15 GMT"
    document = rss("Porch Sessions", "".join([
        item("Porch Sessions 212: The Fiddle Sisters", "http://media.example/PS212.mp4", date, "G-1"),
        item("Porch Sessions 211: Songs From the Ridge", "http://media.example/PS211.mp4", date, "G-1"),
        item("Porch Sessions 212: The Fiddle Sisters", "http://media.example/PS212.mp4", date, "G-1"),
    ]))  # fmt: skip
    feed = normalized("porch-sessions", document)
    assert [e.title for e in feed.episodes] == [
        "Porch Sessions 212: The Fiddle Sisters",
        "Porch Sessions 211: Songs From the Ridge",
    ]
    assert feed.merged == 1  # the exact repeat
    first, second = feed.episodes
    assert first.guid == "G-1"  # the identity the first always had: its URL stays
    assert second.id != first.id and second.guid.startswith("G-1 ")
    assert normalized("porch-sessions", document) == feed


@pytest.mark.parametrize(
    ("second_title", "extra"),
    [
        ("Secrets in env vars (corrected audio)", ""),  # a remark in brackets after the title
        ("Secrets in env vars [re-upload]", ""),
        ("Secrets in environment variables", "<itunes:episode>11</itunes:episode>"),
    ],
)
def test_a_corrected_upload_under_the_same_guid_is_one_episode(
    second_title: str, extra: str
) -> None:
    """A show re-uploads an episode with fixed audio and keeps its guid: one episode, the
    first in feed order (the newest upload) standing for it."""
    document = rss("Platform Tips", "".join([
        item(second_title, "https://cdn.example/pt-11-v2.mp3", "Thu, 10 Sep 2026 18:00:00 GMT",
             "pt-11", extra),
        item("Secrets in env vars", "https://cdn.example/pt-11.mp3",
             "Thu, 10 Sep 2026 16:00:00 GMT", "pt-11",
             extra.replace("environment variables", "env vars")),
    ]))  # fmt: skip
    feed = normalized("platform-tips", document)
    assert [e.guid for e in feed.episodes] == ["pt-11"]
    assert feed.episodes[0].enclosure is not None
    assert feed.episodes[0].enclosure.url.endswith("-v2.mp3")


def test_redirect_urls_whose_query_is_the_file_are_different_files() -> None:
    redirect = "http://www.podtrac.example/pts/redirect.mp3?http://shows.example/"
    date = "Tue, 02 Aug 2011 01:30:00 EST"
    first = normalized("tavern", rss("Tavern", item("Dice and Dragons Night", redirect + "dice.mp3", date, "t1")))  # fmt: skip
    second = normalized("geekery", rss("Geekery", item("Strings Attached", redirect + "strings.mp3", date, "g1")))  # fmt: skip
    assert len(merged(first, second)) == 2


def test_the_site_lists_a_merged_episode_on_every_show_that_published_it(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    # Cloud Corner's newest episode was also published by Ship It Weekly (merged away there).
    merged_one = max(
        (e for e in sample_catalog.episodes if e.podcast == "cloud-corner"),
        key=lambda e: e.published,
    )
    episodes = tuple(
        replace(e, also_in=(SourceRef("ship-it-weekly", "https://ship.example/x"),))
        if e is merged_one
        else e
        for e in sample_catalog.episodes
    )
    own = sum(1 for e in episodes if e.podcast == "ship-it-weekly")
    out = tmp_path / "site"
    writer = SiteWriter(out)
    content = load_content_pages(sample_config.content_dir, sample_config.site.base_path)
    render_site(replace(sample_catalog, episodes=episodes), sample_config, writer, content)
    writer.finish()
    ship_pages = sorted((out / "podcasts" / "ship-it-weekly").glob("**/index.html"))
    front = (out / "podcasts" / "ship-it-weekly" / "index.html").read_text(encoding="utf-8")
    assert f"{own + 1} episodes" in front
    merged_path = urls.episode(merged_one)
    listed = [p for p in ship_pages if merged_path in p.read_text(encoding="utf-8")]
    assert listed, "the show's listing links to the merged episode's one page"
    page = (out / merged_path / "index.html").read_text(encoding="utf-8")
    assert "Also published in" in page and "Ship It Weekly" in page
