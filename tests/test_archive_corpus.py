"""The archive against the real-world feeds of the corpus: round trips, refreshes, snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import CORPUS

from devcasts.archive.files import load_archive, save_archive
from devcasts.archive.merge import merge_feeds
from devcasts.archive.state import ArchiveState
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import FeedSource
from devcasts.records import NormalizedFeed, NotAFeedError
from devcasts.util.text import slugify

FEEDS = CORPUS / "feeds"
SMALL = 100_000  # bytes: keeps this file fast; the big feeds are covered by the snapshot pair
OLDER = "engineeringkiosk_2024-10-29_OLDER-SNAPSHOT.xml"
NEWER = "engineeringkiosk_2026-07-01_redcircle.xml"
NOW = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)

pytestmark = pytest.mark.corpus


def normalized(path: Path, slug: str, now: datetime) -> NormalizedFeed | None:
    url = f"https://feeds.example.test/{path.name}"
    try:
        parsed = parse_feed(path.read_bytes(), {}, url)
    except NotAFeedError:
        return None
    return normalize_feed(FeedSource(url=url, slug=slug), parsed, (), now, url)


def small_feeds(now: datetime) -> list[NormalizedFeed]:
    paths = sorted(p for p in FEEDS.iterdir() if p.is_file() and p.stat().st_size < SMALL)
    feeds = [normalized(path, slugify(path.stem, 60), now) for path in paths]
    return [feed for feed in feeds if feed is not None and feed.episodes]


@pytest.fixture(scope="module")
def feeds() -> list[NormalizedFeed]:
    return small_feeds(NOW)


def slugs(state: ArchiveState) -> dict[tuple[str, str], str]:
    return {(e.podcast, e.id): e.slug for e in state.episodes()}


def test_real_feeds_round_trip_and_a_refresh_changes_nothing(
    tmp_path: Path, feeds: list[NormalizedFeed]
) -> None:
    assert len(feeds) > 40
    state, changes = merge_feeds(ArchiveState(), feeds, NOW)
    assert changes.new_count == sum(len(f.episodes) for f in feeds)
    save_archive(tmp_path, state)
    assert load_archive(tmp_path) == state
    assert save_archive(tmp_path, load_archive(tmp_path)) == []

    # The same feeds a day later (undated items get a new estimate): nothing changes.
    later = NOW + timedelta(days=1)
    refreshed, changes = merge_feeds(load_archive(tmp_path), small_feeds(later), later)
    assert changes.is_empty, dict(changes.updated_episodes)
    assert slugs(refreshed) == slugs(state)

    for record in refreshed.podcasts:
        episode_slugs = [e.slug for e in record.episodes]
        assert len(set(episode_slugs)) == len(episode_slugs), record.podcast.slug


def test_real_feeds_give_the_same_slugs_in_any_item_order(feeds: list[NormalizedFeed]) -> None:
    backwards = [replace(feed, episodes=feed.episodes[::-1]) for feed in feeds]
    forwards_state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    backwards_state, _ = merge_feeds(ArchiveState(), backwards, NOW)
    assert slugs(backwards_state) == slugs(forwards_state)


@pytest.mark.slow
def test_two_snapshots_of_a_feed_then_a_failure_keep_every_episode(tmp_path: Path) -> None:
    first_seen = datetime(2024, 10, 29, 12, 0, tzinfo=UTC)
    older = normalized(FEEDS / OLDER, "engineering-kiosk", first_seen)
    newer = normalized(FEEDS / NEWER, "engineering-kiosk", NOW)
    if older is None or newer is None:
        pytest.skip("snapshot pair not readable as feeds")
    state, _ = merge_feeds(ArchiveState(), [older], first_seen)
    save_archive(tmp_path, state)
    before = slugs(state)

    state, changes = merge_feeds(load_archive(tmp_path), [newer], NOW)
    save_archive(tmp_path, state)
    state, failed = merge_feeds(load_archive(tmp_path), [], NOW + timedelta(days=1))

    after = slugs(state)
    assert before.items() <= after.items()  # every old episode, with its old URL
    new_ids = {e.id for e in newer.episodes} - {e.id for e in older.episodes}
    assert set(changes.new_episodes.get("engineering-kiosk", ())) == new_ids
    assert len(after) == len({e.id for e in older.episodes} | {e.id for e in newer.episodes})
    assert failed.is_empty
    episodes = {e.id: e for e in state.episodes()}
    assert all(episodes[i].first_seen == first_seen for _, i in before)
