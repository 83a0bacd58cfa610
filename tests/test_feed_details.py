"""Small details real feeds write loosely: xml:base for relative links in the notes, JSON Feed
titles that are text, itunes:episodeType, transcripts marked as captions, and the media types
the feed checker warns on. Each feed below is written in the shape the real ones use."""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devcasts.ingest.details import episode_type, notes_base, title_text
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import Config, FeedSource
from devcasts.publish.feeds import main_feed_spec, rss_feed
from devcasts.records import Catalog, NormalizedFeed, Transcript
from devcasts.site import urls
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter
from devcasts.tools.feedcheck import check_rss

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SOURCE = FeedSource(url="https://cast.example.org/feed.xml", slug="tiny-deploys")
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"


def normalized(body: bytes, url: str = SOURCE.url) -> NormalizedFeed:
    return normalize_feed(SOURCE, parse_feed(body, {}, url), (), NOW, url)


# --- xml:base ---------------------------------------------------------------------------------

# An Atom feed of a blog that publishes audio: each entry's content declares its own base, and
# the notes link relative to it (the shape of blog engines that export Atom).
ATOM_WITH_BASE = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.net/">
  <title>Platform notes</title>
  <id>urn:uuid:5d4c0a7e-0000-4000-8000-000000000001</id>
  <updated>2025-03-02T10:00:00+01:00</updated>
  <entry>
    <title>Rolling out buildpacks</title>
    <id>tag:blog.example.net,2025:buildpacks</id>
    <updated>2025-03-02T10:00:00+01:00</updated>
    <link rel="enclosure" type="audio/mpeg" length="1000" href="/audio/buildpacks.mp3"/>
    <content type="html" xml:base="https://blog.example.net/2025/03/buildpacks/">
      &lt;p&gt;Slides are &lt;a href="slides.pdf"&gt;here&lt;/a&gt;, the demo repo
      &lt;a href="../../../code/demo"&gt;there&lt;/a&gt;.&lt;/p&gt;
    </content>
  </entry>
</feed>"""

# RSS with xml:base on the root element: the notes' links resolve against it, not the feed URL.
RSS_WITH_BASE = b"""<?xml version="1.0"?>
<rss version="2.0" xml:base="https://www.example.com/podcast/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Base camp</title><link>https://www.example.com/</link>
<description>A show</description>
<item><title>One</title><guid isPermaLink="false">bc-1</guid>
<pubDate>Mon, 03 Mar 2025 08:00:00 +0000</pubDate>
<enclosure url="https://cdn.example.com/1.mp3" type="audio/mpeg" length="1"/>
<content:encoded>&lt;p&gt;Show notes: &lt;a href="notes/1.html"&gt;full notes&lt;/a&gt;&lt;/p&gt;
</content:encoded></item>
</channel></rss>"""


def test_atom_content_links_resolve_against_their_xml_base() -> None:
    (episode,) = normalized(ATOM_WITH_BASE, "https://feeds.example.net/atom.xml").episodes
    assert 'href="https://blog.example.net/2025/03/buildpacks/slides.pdf"' in episode.notes_html
    assert 'href="https://blog.example.net/code/demo"' in episode.notes_html


def test_rss_root_xml_base_wins_over_the_feed_url() -> None:
    (episode,) = normalized(RSS_WITH_BASE, "https://feeds.hosting.example/base-camp").episodes
    assert 'href="https://www.example.com/podcast/notes/1.html"' in episode.notes_html


def test_without_xml_base_notes_resolve_against_the_episode_page_then_the_feed() -> None:
    assert notes_base("", "https://show.example/ep/1", "https://f.example/rss") == (
        "https://show.example/ep/1"
    )
    assert notes_base("  ", None, "https://f.example/rss") == "https://f.example/rss"


def test_a_relative_xml_base_resolves_against_the_document() -> None:
    assert notes_base("/episodes/", None, "https://f.example/feeds/rss") == (
        "https://f.example/episodes/"
    )


def test_an_unusable_xml_base_is_ignored() -> None:
    assert notes_base("javascript:alert(1)", "https://a.example/p", None) == "https://a.example/p"


# --- JSON Feed titles are text ------------------------------------------------------------------


def json_feed(title: str) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Markup & <friends>",
            "items": [
                {
                    "id": "1",
                    "title": title,
                    "content_html": "<p>Notes with <b>bold</b></p>",
                    "date_published": "2025-02-01T10:00:00+01:00",
                    "attachments": [
                        {"url": "https://cdn.example.org/1.mp3", "mime_type": "audio/mpeg"}
                    ],
                }
            ],
        }
    ).encode()


def test_json_feed_title_keeps_what_looks_like_markup() -> None:
    feed = normalized(json_feed("Back to <i> and <b>: the HTML elements that stayed"))
    assert feed.episodes[0].title == "Back to <i> and <b>: the HTML elements that stayed"
    assert feed.podcast.title == "Markup & <friends>"


def test_json_feed_title_keeps_entities_as_written() -> None:
    (episode,) = normalized(json_feed("Fish &amp; chips")).episodes
    assert episode.title == "Fish &amp; chips"


def test_rss_title_markup_is_still_stripped() -> None:
    assert title_text("Back to <i>basics</i>", 200, plain=False) == "Back to basics"


@given(st.text(max_size=300))
def test_plain_titles_lose_only_control_characters_and_extra_space(raw: str) -> None:
    title = title_text(raw, 1000, plain=True)
    assert title == " ".join(title.split())
    assert not any(unicodedata.category(char) == "Cc" for char in title)
    if len(raw) < 900 and "<" in raw:
        assert title.count("<") == raw.count("<")


# --- itunes:episodeType and captions ------------------------------------------------------------

TYPED_ITEMS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Typed</title><link>https://typed.example/</link><description>d</description>
<item><title>Coming soon: a show about deploys</title><guid>t-0</guid>
<pubDate>Sat, 01 Feb 2025 09:00:00 GMT</pubDate>
<itunes:episodeType>Trailer</itunes:episodeType>
<enclosure url="https://cdn.typed.example/0.mp3" type="audio/mpeg" length="1"/></item>
<item><title>Bonus: listener questions</title><guid>t-b</guid>
<pubDate>Sun, 09 Feb 2025 09:00:00 GMT</pubDate>
<itunes:episodeType> bonus </itunes:episodeType>
<enclosure url="https://cdn.typed.example/b.mp3" type="audio/mpeg" length="1"/></item>
<item><title>1: First deploy</title><guid>t-1</guid>
<pubDate>Mon, 03 Feb 2025 09:00:00 GMT</pubDate>
<itunes:episodeType>full</itunes:episodeType>
<podcast:transcript url="https://typed.example/1.vtt" type="text/vtt" rel="captions"/>
<podcast:transcript url="https://typed.example/1.html" type="text/html"/>
<enclosure url="https://cdn.typed.example/1.mp3" type="audio/mpeg" length="1"/></item>
</channel></rss>"""


def test_episode_type_trailer_and_bonus_are_kept() -> None:
    episodes = {e.guid: e for e in normalized(TYPED_ITEMS).episodes}
    assert episodes["t-0"].episode_type == "trailer"
    assert episodes["t-b"].episode_type == "bonus"
    assert episodes["t-1"].episode_type is None


def test_captions_rel_is_kept() -> None:
    episodes = {e.guid: e for e in normalized(TYPED_ITEMS).episodes}
    rels = {t.url.rsplit(".", 1)[1]: t.rel for t in episodes["t-1"].transcripts}
    assert rels == {"vtt": "captions", "html": None}


@pytest.mark.parametrize(
    ("raw", "kept"),
    [("trailer", "trailer"), ("BONUS", "bonus"), ("full", None), ("", None), ("teaser", None)],
)
def test_episode_type_values(raw: str, kept: str | None) -> None:
    assert episode_type(raw) == kept


def test_published_feed_carries_episode_type_and_captions(sample_catalog: Catalog) -> None:
    first, second, third, *rest = sample_catalog.episodes
    captions = Transcript("https://typed.example/1.vtt", "text/vtt", rel="captions")
    episodes = (
        replace(first, episode_type="trailer"),
        replace(second, episode_type="bonus", transcripts=(captions,)),
        third,
        *rest,
    )
    body = rss_feed(replace(sample_catalog, episodes=episodes), main_feed_spec(sample_catalog.site))
    items = list(ET.fromstring(body).iter("item"))
    assert [item.findtext(f"{{{ITUNES}}}episodeType") for item in items[:3]] == [
        "trailer",
        "bonus",
        "full",
    ]
    (transcript,) = items[1].iter(f"{{{PODCAST}}}transcript")
    assert transcript.get("rel") == "captions"
    assert not [finding for finding in check_rss(body) if finding.severity == "error"]


# --- media Apple Podcasts cannot play -----------------------------------------------------------


@pytest.mark.parametrize("mime", ["audio/ogg", "audio/opus", "audio/flac", "audio/wav"])
def test_feedcheck_warns_on_media_apple_does_not_play(sample_catalog: Catalog, mime: str) -> None:
    body = rss_feed(sample_catalog, main_feed_spec(sample_catalog.site)).decode()
    body = body.replace('type="audio/mpeg"', f'type="{mime}"', 1)
    warnings = {f.rule for f in check_rss(body.encode()) if f.severity == "warning"}
    assert "apple.enclosure" in warnings


@pytest.mark.parametrize("mime", ["audio/mpeg", "audio/x-m4a", "video/mp4", "application/pdf"])
def test_feedcheck_accepts_media_apple_plays(sample_catalog: Catalog, mime: str) -> None:
    body = rss_feed(sample_catalog, main_feed_spec(sample_catalog.site)).decode()
    body = body.replace('type="audio/mpeg"', f'type="{mime}"')
    assert "apple.enclosure" not in {f.rule for f in check_rss(body.encode())}


def test_a_feed_url_with_an_upper_case_scheme_still_resolves_relative_links() -> None:
    body = RSS_WITH_BASE.replace(b' xml:base="https://www.example.com/podcast/"', b"")
    body = body.replace(b"<link>https://www.example.com/</link>", b"")
    (episode,) = normalized(body, "HTTPS://feeds.example.com/base-camp/rss").episodes
    assert 'href="https://feeds.example.com/base-camp/notes/1.html"' in episode.notes_html


def test_the_episode_page_says_trailer_and_bonus(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    first, second, *rest = sample_catalog.episodes
    catalog = replace(
        sample_catalog,
        episodes=(
            replace(first, episode_type="trailer"),
            replace(second, episode_type="bonus"),
            *rest,
        ),
    )
    writer = SiteWriter(tmp_path / "site")
    render_site(catalog, sample_config, writer, [])
    writer.finish()
    pages = {
        e.id: (tmp_path / "site" / urls.episode(e) / "index.html").read_text()
        for e in catalog.episodes[:3]
    }
    assert "<span>Trailer</span>" in pages[first.id]
    assert "<span>Bonus</span>" in pages[second.id]
    assert (
        "<span>Trailer</span>" not in pages[rest[0].id]
        and "<span>Bonus</span>" not in pages[rest[0].id]
    )
