"""Each feed's outcome (read in forked workers), the health derived from it, and the build state."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devcasts.health import feed_health, published_health
from devcasts.ingest import read
from devcasts.ingest.read import read_feeds
from devcasts.model import FeedOutcome, FeedSource, FetchResult, FetchStatus, StoredCopy
from devcasts.state import (
    STATE_VERSION,
    BuildState,
    health_fingerprint,
    read_state,
    state_to_json,
    write_state,
)
from devcasts.util import processes

FEED = (Path(__file__).parent / "data" / "fetch" / "tiny-show.xml").read_bytes()
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def fetched(n: int, body: bytes = FEED, **changes: object) -> FetchResult:
    source = FeedSource(url=f"https://shows.example/{n}.xml", slug=f"show-{n}")
    result = FetchResult(source, FetchStatus.OK, body, f"hash-{n}", url=source.url)
    return replace(result, **changes)


# --- reading ----------------------------------------------------------------------------------


def test_feeds_read_in_forked_workers_equal_feeds_read_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bodies = [FEED.replace(b"Pipeline Weather", f"Show {n}".encode()) for n in range(10)]
    feeds = [(fetched(n, body), body) for n, body in enumerate(bodies)]
    assert len(feeds) >= read.PARALLEL_MIN_FEEDS
    monkeypatch.setattr(processes, "fork_is_safe", lambda: True)
    forked = read_feeds(feeds, (), NOW)
    monkeypatch.setattr(processes, "fork_is_safe", lambda: False)
    here = read_feeds(feeds, (), NOW)
    assert [r.outcome for r in forked] == [r.outcome for r in here]
    assert [r.outcome.feed.podcast.title for r in here if r.outcome.feed] == [
        f"Show {n}" for n in range(10)
    ]


def test_a_few_feeds_are_read_by_a_child_while_the_caller_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(processes, "fork_is_safe", lambda: True)
    monkeypatch.setattr(processes, "usable_cores", lambda: 2)
    html = b"<html><body>Moved</body></html>"
    feeds = [(fetched(0), FEED), (fetched(1, html), html)]
    reading = read.start_reading(feeds, (), NOW)
    assert reading.pending  # the caller is free until it asks for the result
    assert [r.outcome for r in reading.result()] == [r.outcome for r in read_feeds(feeds, (), NOW)]
    assert not reading.pending


@pytest.mark.parametrize("count", [0, read.PARALLEL_MIN_FEEDS])
def test_many_feeds_or_none_are_read_at_once(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(processes, "fork_is_safe", lambda: True)
    monkeypatch.setattr(processes, "usable_cores", lambda: 2)
    feeds = [(fetched(n), FEED) for n in range(count)]
    reading = read.start_reading(feeds, (), NOW)
    assert not reading.pending  # by workers on every core, or nothing to read
    assert [r.outcome for r in reading.result()] == [r.outcome for r in read_feeds(feeds, (), NOW)]


def test_a_body_that_cannot_be_read_fails_that_feed_alone() -> None:
    html = b"<html><body>Moved</body></html>"
    feeds = [(fetched(0), FEED), (fetched(1, html), html)]
    good, bad = (r.outcome for r in read_feeds(feeds, (), NOW))
    assert good.feed is not None and good.status is FetchStatus.OK and good.was_read
    assert bad.feed is None and bad.was_read
    assert bad.status is FetchStatus.FAILED
    assert bad.reason is not None and bad.reason.startswith("not a feed: ")


# --- health -----------------------------------------------------------------------------------


def test_health_follows_each_outcome() -> None:
    failed_fetch = fetched(2, None, status=FetchStatus.FAILED, error="HTTP 500", failures=3)
    outcomes = [
        FeedOutcome(fetched(0), new_episodes=2),
        FeedOutcome(fetched(1), read_error="not a feed: empty body"),
        FeedOutcome(failed_fetch),
        FeedOutcome(fetched(3, StoredCopy(Path("x.body"), "h"), status=FetchStatus.UNCHANGED)),
    ]
    health = feed_health(outcomes, {"show-0": 10, "show-3": 4}, {"show-0": "Show Zero"})
    assert [(h.slug, h.status, h.reason) for h in health] == [
        ("show-0", FetchStatus.OK, None),
        ("show-1", FetchStatus.FAILED, "not a feed: empty body"),
        ("show-2", FetchStatus.FAILED, "HTTP 500"),
        ("show-3", FetchStatus.UNCHANGED, None),
    ]
    assert [h.title for h in health][:2] == ["Show Zero", "show-1"]
    assert [h.episodes for h in health] == [10, 0, 0, 4]
    assert health[0].new_episodes == 2 and health[2].failures == 3
    assert [h.status for h in published_health(health)][3] is FetchStatus.OK
    unchanged_as_ok = [replace(health[3], status=FetchStatus.OK)]
    assert health_fingerprint(health[3:]) == health_fingerprint(unchanged_as_ok)


# --- the build state --------------------------------------------------------------------------


def test_the_state_round_trips_and_a_bad_file_means_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "build-state.json"
    state = BuildState(normalize="n", inputs="i", episodes=3, parsed={"show-0": "hash-0"})
    write_state(path, state)
    assert read_state(path) == state
    stamp = path.stat().st_mtime_ns
    write_state(path, state)
    assert path.stat().st_mtime_ns == stamp  # the same state is not written again
    good = path.read_bytes()
    header, _, body = good.partition(b"\n")
    for damaged in (
        b"{",
        b"[]",
        good[: len(good) // 2],
        header + b"\n[]",
        header + b'\n{"x": 2}',
        header.replace(f" {STATE_VERSION} ".encode(), f" {STATE_VERSION + 1} ".encode(), 1)
        + b"\n"
        + body,
        json.dumps({"version": 1, **state_to_json(state)}).encode(),  # the unversioned file
    ):
        path.write_bytes(damaged)
        assert read_state(path) == BuildState(), damaged
    assert read_state(tmp_path / "missing.json") == BuildState()


def test_a_new_build_forgets_what_it_read_under_other_topics() -> None:
    state = BuildState(normalize="n1", parsed={"show-0": "hash-0"}, titles={"show-0": "Zero"})
    same = state.successor("n1", "inputs")
    assert same.has_read(fetched(0)) and not same.has_read(fetched(0, content_hash="other"))
    other = state.successor("n2", "inputs")
    assert not other.has_read(fetched(0)) and other.titles == {"show-0": "Zero"}
    other.remember_read([FeedOutcome(fetched(0), read_error="broken"), FeedOutcome(fetched(1))])
    assert other.parsed == {}  # neither was read into a feed
