"""Dates on the real feeds: every episode shows the day its publisher wrote, and an episode
without a real date never heads "Latest" or our feeds.

Each item is normalized on its own, so every episode is joined to the item it came from. The
day a page shows (the `published_on` filter, JSON-LD) is compared with the calendar day as
written in the item's date, which is the publisher's day whatever its zone. Before dates kept
their offset, 517 corpus episodes showed another day; 10 epoch-dated ones showed 1 Jan 1970,
and 28 of the 30 episodes on the first page of Latest had no real date.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPUS

from devcasts.archive.merge import merge_feeds
from devcasts.archive.state import ArchiveState
from devcasts.catalog.build import build_catalog
from devcasts.catalog.overrides import Overrides
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import Config, FeedSource, SiteConfig
from devcasts.publish.feeds import select_episodes
from devcasts.records import Catalog, Episode, NormalizedFeed, NotAFeedError, ParsedItem
from devcasts.site.filters import published_on
from devcasts.util.episode_dates import date_unknown
from devcasts.util.text import slugify

pytestmark = pytest.mark.corpus

FEEDS = CORPUS / "feeds"
NOW = datetime(2027, 1, 1, tzinfo=UTC)  # after every real date in the corpus: none is clamped
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_WRITTEN_DAY = re.compile(r"(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{4})")


@dataclass(frozen=True, slots=True)
class Joined:
    item: ParsedItem
    episode: Episode


def written_day(raw: str) -> date | None:
    """The calendar day as the feed wrote it, read without any zone arithmetic."""
    text = " ".join(raw.split())
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        return date(*(int(part) for part in iso.groups()))
    parts = email.utils.parsedate_tz(text)
    if parts and parts[0] >= 1900:
        return date(parts[0], parts[1], parts[2])
    named = _WRITTEN_DAY.search(text)
    if named and named[2].lower() in _MONTHS:
        return date(int(named[3]), _MONTHS[named[2].lower()], int(named[1]))
    return None


@cache
def corpus() -> tuple[tuple[NormalizedFeed, ...], tuple[Joined, ...]]:
    """Every feed normalized whole (for the catalog), and every item on its own (the join)."""
    feeds: list[NormalizedFeed] = []
    joined: list[Joined] = []
    for path in sorted(FEEDS.iterdir()) if FEEDS.is_dir() else []:
        source = FeedSource(url=str(path), slug=slugify(path.stem))
        try:
            parsed = parse_feed(path.read_bytes(), {}, str(path))
        except NotAFeedError:
            continue
        feeds.append(normalize_feed(source, parsed, (), NOW, str(path)))
        for item in parsed.items:
            single = normalize_feed(source, replace(parsed, items=(item,)), (), NOW, str(path))
            joined += [Joined(item, episode) for episode in single.episodes]
    return tuple(feeds), tuple(joined)


def corpus_catalog() -> Catalog:
    feeds, _ = corpus()
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    config = Config(
        site=SiteConfig(title="devcasts", base_url="https://example.test/"),
        topics=(),
        feeds=tuple(FeedSource(url=f.podcast.feed_url, slug=f.podcast.slug) for f in feeds),
        path=Path("feeds.yaml"),
        content_dir=Path("content"),
        templates_dir=Path("templates"),
    )
    return build_catalog(state, config, Overrides())


def test_every_dated_episode_shows_the_day_its_publisher_wrote() -> None:
    _, joined = corpus()
    compared, differ = 0, []
    for pair in joined:
        written = written_day(pair.item.published)
        if written is None or written.year < 1971:
            continue
        compared += 1
        shown = published_on(pair.episode)
        if shown is None or shown.date() != written:
            differ.append((pair.item.published, shown))
    assert compared > 4400
    assert differ == []


def test_epoch_dates_and_missing_dates_show_as_unknown() -> None:
    _, joined = corpus()
    epoch = [p for p in joined if (day := written_day(p.item.published)) and day.year < 1971]
    undated = [p for p in joined if not p.item.published.strip()]
    assert len(epoch) >= 10  # the Atom feed stamped with the Unix epoch
    assert len(undated) >= 30
    for pair in epoch + undated:
        assert date_unknown(pair.episode)
        assert published_on(pair.episode) is None


def test_no_undated_episode_heads_latest_or_our_feeds() -> None:
    catalog = corpus_catalog()
    unknown = [e for e in catalog.episodes if date_unknown(e)]
    assert len(unknown) >= 30
    first_page = catalog.episodes[: catalog.site.page_size]
    assert not any(date_unknown(e) for e in first_page)
    dated_count = len(catalog.episodes) - len(unknown)
    assert not any(date_unknown(e) for e in catalog.episodes[:dated_count])  # all at the end
    for need_enclosure in (True, False):
        chosen = select_episodes(catalog, None, need_enclosure=need_enclosure)
        assert len(chosen) == catalog.site.feed_limit
        assert not any(date_unknown(e) for e in chosen)
