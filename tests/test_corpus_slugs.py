"""Podcast and episode slugs over the real feeds of the corpus, as if each were served at
https://feeds.example.com/<file>: the slugs come from the shows' titles, never from the host
or a file suffix, and non-Latin titles read in Latin letters instead of a hash.

Run with -s to see the figures.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPUS

from devcasts.archive.merge import merge_feeds
from devcasts.archive.podcast_slugs import location_slug
from devcasts.archive.state import ArchiveState, feed_key
from devcasts.config.schema import parse_config
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import FeedSource
from devcasts.records import NormalizedFeed, NotAFeedError
from devcasts.util.text import readable_slug

pytestmark = pytest.mark.corpus

FEEDS = CORPUS / "feeds"
NOW = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
HOST = "https://feeds.example.com/"
HOST_WORDS = re.compile(r"(^|-)(example-com|feeds-example)(-|$)")
SUFFIX = re.compile(r"-(xml|rss|json|atom|opml)(-\d+)?$")
HASH = re.compile(r"(^|-)x-[0-9a-f]{8}($|-)")
NUMBERED = re.compile(r"-\d+$")


def _sources() -> tuple[FeedSource, ...]:
    names = sorted(p.name for p in FEEDS.iterdir() if p.is_file() and not p.name.isupper())
    text = "site:\n  title: Corpus\n  base_url: https://example.org/\nfeeds:\n"
    text += "".join(f"  - url: {HOST}{name}\n" for name in names if not name.endswith(".md"))
    config = parse_config(
        Path("feeds.yaml"), text, base_url=None, templates_dir=Path("t"), content_dir=Path("c")
    )
    return config.feeds


def _normalized(source: FeedSource) -> NormalizedFeed | None:
    path = FEEDS / source.url.removeprefix(HOST)
    try:
        parsed = parse_feed(path.read_bytes(), {}, source.url)
    except NotAFeedError:
        return None
    return normalize_feed(source, parsed, (), NOW, source.url)


@cache
def _corpus() -> tuple[list[NormalizedFeed], ArchiveState]:
    feeds = [feed for feed in map(_normalized, _sources()) if feed is not None]
    titled = {feed.podcast.slug for feed in feeds}
    state, _ = merge_feeds(ArchiveState(), feeds, NOW, titled=titled)
    return feeds, state


def _non_latin(text: str) -> bool:
    return any(char.isalpha() and not char.isascii() and ord(char) > 0x24F for char in text)


def test_podcast_slugs_come_from_titles_not_hosts_or_suffixes() -> None:
    feeds, state = _corpus()
    keys = [feed.podcast.slug for feed in feeds]
    slugs = {feed_key(r.podcast): r.podcast.slug for r in state.podcasts}
    by_key = {feed.podcast.slug: feed.podcast for feed in feeds}
    keyed_by_host = sum(bool(HOST_WORDS.search(key)) for key in keys)
    titles = {key: readable_slug(by_key[key].title) for key in slugs}
    with_host = [s for s in slugs.values() if HOST_WORDS.search(s)]
    # A title may well end in "XML" ("Can feedparser read this XML"): not a file suffix.
    with_suffix = [s for k, s in slugs.items() if SUFFIX.search(s) and not SUFFIX.search(titles[k])]
    not_from_title = []
    for key, slug in slugs.items():
        podcast = by_key[key]
        titled = podcast.title != podcast.slug
        expected = titles[key] if titled else location_slug(podcast.feed_url)
        if slug != expected and NUMBERED.sub("", slug) != expected:
            not_from_title.append((podcast.title, slug))
    print(
        f"\n{len(slugs)} podcasts: keys with the host (the slugs before): {keyed_by_host}; "
        f"slugs with the host: {len(with_host)}, with a file suffix: {len(with_suffix)}, "
        f"not from the title or file name: {len(not_from_title)}"
    )
    assert len(slugs) == len(feeds) > 80
    assert keyed_by_host == len(keys)  # what the URL rule made of every one of them
    assert with_host == [] and with_suffix == [] and not_from_title == []
    assert len(set(slugs.values())) == len(slugs)


def test_non_latin_titles_give_readable_slugs() -> None:
    _, state = _corpus()
    podcasts = [r.podcast for r in state.podcasts if _non_latin(r.podcast.title)]
    episodes = [e for e in state.episodes() if _non_latin(e.title)]
    hashed_podcasts = [p.slug for p in podcasts if HASH.search(p.slug)]
    hashed_episodes = [e.slug for e in episodes if HASH.search(e.slug)]
    wordless = [e.slug for e in state.episodes() if HASH.search(e.slug)]
    print(
        f"\nnon-Latin titles: {len(podcasts)} podcasts ({len(hashed_podcasts)} hashed), "
        f"{len(episodes)} episodes ({len(hashed_episodes)} hashed); hashed episode slugs in "
        f"all: {len(wordless)}"
    )
    for podcast in podcasts:
        print(f"  {podcast.title[:40]!r} -> {podcast.slug}")
    assert len(podcasts) >= 3 and len(episodes) >= 30
    assert hashed_podcasts == [] and hashed_episodes == [] and wordless == []


def test_slugs_do_not_depend_on_the_order_of_the_feeds() -> None:
    feeds, state = _corpus()
    titled = {feed.podcast.slug for feed in feeds}
    again, _ = merge_feeds(ArchiveState(), feeds[::-1], NOW, titled=titled)
    assert again == state
