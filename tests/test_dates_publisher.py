"""Dates as the publisher meant them: the day in their own offset, and no date when they gave none.

The feeds below are written the way real ones are: late-evening releases in a negative
offset (the next day in UTC), after-midnight releases in Europe (the previous day in UTC),
Atom entries stamped with the Unix epoch, items with no date at all.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import BUILT_AT, build_catalog, make_episode
from hypothesis import given
from hypothesis import strategies as st

from devcasts.archive.merge import merge_feeds
from devcasts.archive.state import ArchiveState, PodcastArchive
from devcasts.catalog.build import build_catalog as catalog_from_archive
from devcasts.catalog.overrides import Overrides
from devcasts.ingest.dates import WrittenDate, parse_date, parse_written_date
from devcasts.ingest.normalize import content_hash, normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import Config, FeedSource, SiteConfig
from devcasts.publish.feeds import feed_documents, rfc2822, rfc3339, select_episodes
from devcasts.records import Catalog, Episode, NormalizedFeed
from devcasts.site import pages
from devcasts.site.filters import human_date, published_on
from devcasts.util.episode_dates import (
    date_unknown,
    in_offset,
    is_placeholder,
    newest_first_key,
    publisher_time,
)

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
WEEK = timedelta(days=7)
FEED_URL = "https://night-shift.example/feed.xml"
SOURCE = FeedSource(url=FEED_URL, slug="night-shift")

# An invented show in the shapes real feeds use.
NIGHT_SHIFT_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>Night Shift Deploys</title>
  <link>https://night-shift.example/</link>
  <description>Releases after dark.</description>
  <item>
    <title>Pacific evening release</title>
    <guid isPermaLink="false">ns-pacific</guid>
    <pubDate>Tue, 14 May 2024 21:00:00 -0700</pubDate>
    <enclosure url="https://night-shift.example/pacific.mp3" type="audio/mpeg" length="100"/>
  </item>
  <item>
    <title>Berlin after midnight</title>
    <guid isPermaLink="false">ns-berlin</guid>
    <pubDate>Sun, 09 Feb 2014 00:30:00 +0100</pubDate>
    <enclosure url="https://night-shift.example/berlin.mp3" type="audio/mpeg" length="100"/>
  </item>
  <item>
    <title>Named zone</title>
    <guid isPermaLink="false">ns-eastern</guid>
    <pubDate>Fri, 29 Nov 2024 22:15:00 EST</pubDate>
    <enclosure url="https://night-shift.example/eastern.mp3" type="audio/mpeg" length="100"/>
  </item>
  <item>
    <title>Zero timestamp</title>
    <guid isPermaLink="false">ns-epoch</guid>
    <pubDate>Thu, 01 Jan 1970 00:00:00 +0000</pubDate>
    <enclosure url="https://night-shift.example/epoch.mp3" type="audio/mpeg" length="100"/>
  </item>
  <item>
    <title>No date at all</title>
    <guid isPermaLink="false">ns-undated</guid>
    <enclosure url="https://night-shift.example/undated.mp3" type="audio/mpeg" length="100"/>
  </item>
</channel>
</rss>
"""

EPOCH_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Epoch Radio</title><id>urn:epoch-radio</id>
<updated>1970-01-01T00:00:00Z</updated>
<entry><title>first</title><id>urn:epoch-radio:1</id><updated>1970-01-01T00:00:00Z</updated>
<link rel="enclosure" type="audio/mp3" href="https://epoch-radio.example/1.mp3"/></entry>
<entry><title>second</title><id>urn:epoch-radio:2</id><updated>1970-01-01T00:01:00Z</updated>
<link rel="enclosure" type="audio/mp3" href="https://epoch-radio.example/2.mp3"/></entry>
</feed>"""


def night_shift() -> dict[str, Episode]:
    parsed = parse_feed(NIGHT_SHIFT_RSS, {}, FEED_URL)
    normalized = normalize_feed(SOURCE, parsed, (), NOW, FEED_URL)
    return {episode.guid.removeprefix("ns-"): episode for episode in normalized.episodes}


# --- the parser keeps the offset ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "offset"),
    [
        ("Tue, 14 May 2024 21:00:00 -0700", -420),
        ("Sun, 09 Feb 2014 00:30:00 +0100", 60),
        ("Sun, 09 Feb 2014 00:30:00 +01:00", 60),
        ("Fri, 29 Nov 2024 22:15:00 EST", -300),
        ("Fri, 06 Sep 2019 12:00:00 PDT", -420),
        ("Mon, 1 January 2024 10:00:00 GMT+2", 120),
        ("Wed, 03 Aug 2005 18:00:00 GMT", 0),
        ("Wed, 03 Aug 2005 18:00:00 +0000", 0),
        ("Mon, 10 Jun 2024 09:00:00 +0530", 330),
        ("2024-10-29T10:00:00+05:45", 345),
        ("2024-10-29T10:00:00Z", 0),
        ("2024-10-29T23:00:00-03:30", -210),
    ],
)
def test_the_offset_as_written_is_kept(raw: str, offset: int) -> None:
    written = parse_written_date(raw)
    assert written is not None
    assert written.offset == offset
    assert written.utc == parse_date(raw)
    assert written.utc.tzinfo is UTC


@pytest.mark.parametrize(
    "raw", ["Wed, 03 Aug 2005 18:00:00", "Wed, 03 Aug 2005", "2024-10-29 10:00:00", "2020/1/10"]
)
def test_a_date_without_a_zone_has_no_offset(raw: str) -> None:
    written = parse_written_date(raw)
    assert written is not None
    assert written.offset is None


@pytest.mark.parametrize(
    "raw",
    [
        "Thu, 01 Jan 1970 00:00:00 +0000",
        "1970-01-01T00:00:00Z",
        "Wed, 31 Dec 1969 19:00:00 -0500",  # the epoch, written in New York
        "Mon, 01 Jan 1900 00:00:00 GMT",
    ],
)
def test_epoch_and_default_dates_are_placeholders(raw: str) -> None:
    written = parse_written_date(raw)
    assert written is not None
    assert written.placeholder


def test_a_real_date_is_not_a_placeholder() -> None:
    written = parse_written_date("Fri, 01 Jan 1971 00:00:00 GMT")
    assert written is not None
    assert not written.placeholder


moments = st.datetimes(
    min_value=datetime(1971, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60)


@given(moments, offsets)
def test_rfc2822_in_any_offset_round_trips(moment: datetime, offset: int) -> None:
    written_form = format_datetime(moment.astimezone(timezone(timedelta(minutes=offset))))
    assert parse_written_date(written_form) == WrittenDate(moment, offset)


@given(moments, offsets)
def test_iso8601_in_any_offset_round_trips(moment: datetime, offset: int) -> None:
    written_form = moment.astimezone(timezone(timedelta(minutes=offset))).isoformat()
    assert parse_written_date(written_form) == WrittenDate(moment, offset)


@given(moments, offsets)
def test_what_we_publish_reads_back_as_the_same_moment_and_offset(
    moment: datetime, offset: int
) -> None:
    local = in_offset(moment, offset)
    assert parse_written_date(rfc2822(local)) == WrittenDate(moment, offset)
    assert parse_written_date(rfc3339(local)) == WrittenDate(moment, offset)
    assert local.date() == (moment + timedelta(minutes=offset)).date()


@given(st.text(max_size=60))
def test_any_text_gives_a_utc_moment_and_a_possible_offset_or_nothing(raw: str) -> None:
    written = parse_written_date(raw)
    if written is not None:
        assert written.utc.tzinfo is UTC
        assert written.offset is None or abs(written.offset) < 18 * 60
        in_offset(written.utc, written.offset)  # always a valid zone


# --- normalize: the offset travels with the episode -----------------------------------------


def test_an_episode_keeps_its_publishers_offset_and_sorts_in_utc() -> None:
    episodes = night_shift()
    pacific, berlin, eastern = episodes["pacific"], episodes["berlin"], episodes["eastern"]
    assert pacific.published == datetime(2024, 5, 15, 4, tzinfo=UTC)  # next day in UTC
    assert pacific.utc_offset == -420
    assert publisher_time(pacific).date().isoformat() == "2024-05-14"
    assert berlin.published == datetime(2014, 2, 8, 23, 30, tzinfo=UTC)  # the day before
    assert publisher_time(berlin).date().isoformat() == "2014-02-09"
    assert publisher_time(eastern).date().isoformat() == "2024-11-29"


def test_epoch_and_missing_dates_are_unknown_and_take_the_first_seen_time() -> None:
    episodes = night_shift()
    for name in ("epoch", "undated"):
        episode = episodes[name]
        assert episode.date_estimated
        assert episode.published == NOW
        assert episode.utc_offset is None
        assert date_unknown(episode)
    assert not date_unknown(episodes["berlin"])


def test_an_atom_feed_stamped_with_the_epoch_has_no_dated_episodes() -> None:
    parsed = parse_feed(EPOCH_ATOM, {}, "https://epoch-radio.example/atom.xml")
    source = FeedSource(url="https://epoch-radio.example/atom.xml", slug="epoch-radio")
    normalized = normalize_feed(source, parsed, (), NOW, source.url)
    assert len(normalized.episodes) == 2
    assert all(e.date_estimated and e.published == NOW for e in normalized.episodes)
    assert len({e.id for e in normalized.episodes}) == 2  # identities still differ


def test_a_newly_read_offset_is_an_edit_that_reaches_an_existing_archive() -> None:
    berlin = night_shift()["berlin"]
    # What an archive written before offsets were kept holds for the same item.
    old = replace(berlin, utc_offset=None)
    old = replace(old, content_hash=content_hash(old))
    assert old.content_hash != berlin.content_hash
    podcast = normalize_feed(SOURCE, parse_feed(NIGHT_SHIFT_RSS, {}, FEED_URL), (), NOW, FEED_URL)
    state = ArchiveState((PodcastArchive(podcast.podcast, (replace(old, slug="berlin"),)),))
    state, changes = merge_feeds(state, [NormalizedFeed(podcast.podcast, (berlin,))], NOW)
    (archived,) = [e for e in state.episodes() if e.id == berlin.id]
    assert archived.utc_offset == 60
    assert archived.slug == "berlin"
    assert changes.updated_episodes == {"night-shift": (berlin.id,)}


def test_an_offset_written_as_utc_changes_no_hash() -> None:
    episode = make_episode("ship-it-weekly", 1)
    assert content_hash(replace(episode, utc_offset=0)) == content_hash(episode)


# --- order: the undated after every dated episode -------------------------------------------


def _with_undated(catalog: Catalog) -> tuple[Catalog, list[Episode]]:
    newest = catalog.episodes[0]
    undated = [
        make_episode(
            "ship-it-weekly",
            90 + n,
            published=BUILT_AT + timedelta(days=5 - n),  # first-seen time, newer than any date
            first_seen=BUILT_AT + timedelta(days=5 - n),
            date_estimated=True,
            slug=f"undated-{n}",
        )
        for n in range(3)
    ]
    epoch = make_episode(  # an archive written before epoch dates were refused
        "ship-it-weekly",
        99,
        published=datetime(1970, 1, 1, tzinfo=UTC),
        first_seen=BUILT_AT + timedelta(days=9),
        slug="epoch",
    )
    episodes = sorted([*catalog.episodes, *undated, epoch], key=newest_first_key)
    assert episodes[0] == newest
    return replace(catalog, episodes=tuple(episodes)), [epoch, *undated]


def test_the_undated_come_after_every_dated_one_by_first_seen() -> None:
    catalog, undated = _with_undated(build_catalog())
    assert list(catalog.episodes[-4:]) == undated  # most recently first seen first
    shuffled = list(reversed(catalog.episodes))
    assert sorted(shuffled, key=newest_first_key) == list(catalog.episodes)


def test_the_catalog_puts_the_undated_last_and_dates_the_build_by_dated_episodes() -> None:
    dated = make_episode("ship-it-weekly", 1, utc_offset=-300)
    undated = make_episode(
        "ship-it-weekly", 2, published=NOW, first_seen=NOW, date_estimated=True, slug="u"
    )
    epoch = make_episode(  # first seen before the other undated one
        "ship-it-weekly", 3, published=datetime(1970, 1, 1, tzinfo=UTC), first_seen=NOW - WEEK
    )
    podcast = build_catalog().podcasts[-1]
    state = ArchiveState((PodcastArchive(podcast, (epoch, dated, undated)),))
    config = Config(
        site=SiteConfig(title="Casts", base_url="https://example.test/casts/"),
        topics=(),
        feeds=(FeedSource(url=podcast.feed_url, slug=podcast.slug),),
        path=Path("feeds.yaml"),
        content_dir=Path("content"),
        templates_dir=Path("templates"),
    )
    catalog = catalog_from_archive(state, config, Overrides())
    assert [e.id for e in catalog.episodes] == [dated.id, undated.id, epoch.id]
    assert catalog.built_at == dated.published


def test_our_feeds_leave_the_undated_out_and_keep_the_publishers_offset() -> None:
    catalog, undated = _with_undated(build_catalog())
    berlin = replace(
        catalog.episodes[0],
        published=datetime(2014, 2, 8, 23, 30, tzinfo=UTC),
        utc_offset=60,
    )
    catalog = replace(
        catalog, episodes=tuple(sorted([berlin, *catalog.episodes[1:]], key=newest_first_key))
    )
    unknown_ids = {e.id for e in undated}
    assert not unknown_ids & {e.id for e in select_episodes(catalog, None, need_enclosure=False)}
    documents = dict(feed_documents(catalog))
    rss = ET.fromstring(documents["feed.xml"])
    guids = [g.text or "" for g in rss.iter("guid")]
    assert not any(g.endswith(tuple(unknown_ids)) for g in guids)
    dates = {
        (item.findtext("guid") or "").removeprefix("devcasts:"): item.findtext("pubDate")
        for item in rss.iter("item")
    }
    assert dates[berlin.id] == "Sun, 09 Feb 2014 00:30:00 +0100"
    items = json.loads(documents["feed.json"])["items"]
    assert not any(i["id"].removeprefix("devcasts:") in unknown_ids for i in items)
    by_id = {i["id"].removeprefix("devcasts:"): i for i in items}
    assert by_id[berlin.id]["date_published"] == "2014-02-09T00:30:00+01:00"


# --- pages: the publisher's day, or "date unknown" ------------------------------------------


def test_the_filter_gives_the_publishers_day_or_nothing() -> None:
    episodes = night_shift()
    pacific = published_on(episodes["pacific"])
    assert pacific is not None
    assert human_date(pacific) == "14 May 2024"
    assert published_on(episodes["undated"]) is None
    assert published_on(episodes["epoch"]) is None


def test_pages_and_cards_show_the_publishers_day_and_date_unknown(
    tmp_path: Path, sample_config: Config
) -> None:
    from test_render import render

    catalog, undated = _with_undated(build_catalog())
    late = replace(
        catalog.episodes[0],
        published=datetime(2024, 5, 15, 4, tzinfo=UTC),  # 21:00 the day before, in -07:00
        utc_offset=-420,
    )
    catalog = replace(catalog, episodes=(late, *catalog.episodes[1:]))
    out = tmp_path / "site"
    render(catalog, sample_config, out)
    page = (out / "podcasts" / late.podcast / late.slug / "index.html").read_text()
    assert '<time datetime="2024-05-14"' in page
    assert ">14 May 2024</time>" in page
    home = (out / "index.html").read_text()
    assert '<time datetime="2024-05-14">14 May 2024</time>' in home
    assert "date unknown" not in home  # the newest page of Latest holds only dated episodes
    unknown_page = out / "podcasts" / undated[1].podcast / undated[1].slug / "index.html"
    text = unknown_page.read_text()
    assert "date unknown" in text
    assert "<time" not in text.split("<main", 1)[1].split("</header>", 1)[0]
    listing = (out / "podcasts" / "ship-it-weekly").rglob("index.html")
    assert any("date unknown" in p.read_text() for p in listing)  # the show lists them, last
    assert re.search(r"<time datetime=\"1970", page + home + text) is None
    assert is_placeholder(undated[0].published)


def test_an_episode_is_listed_under_the_year_its_page_shows() -> None:
    new_year_eve = make_episode(
        "ship-it-weekly",
        1,
        published=datetime(2025, 1, 1, 3, tzinfo=UTC),  # 22:00 on 31 Dec in New York
        utc_offset=-300,
    )
    assert list(pages.episodes_by_year([new_year_eve])) == [2024]


def test_an_undated_episode_never_heads_a_popular_listing() -> None:
    catalog, undated = _with_undated(build_catalog())
    weights = {podcast.slug: podcast.weight for podcast in catalog.podcasts}
    ordered = pages.popular_order(catalog.episodes, weights, catalog.built_at)
    assert {e.id for e in ordered[-len(undated) :]} == {e.id for e in undated}
