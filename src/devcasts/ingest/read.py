"""Reading the feeds a build fetched anew: parse, then normalize, on several cores when many.

Each feed goes in as its fetch result and the bytes it carries; one FeedRead comes out per feed,
in the same order: its outcome (parsed, or failed with a reason) and what each step took.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from devcasts.ingest.limits import MAX_ITEMS
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import FeedOutcome, FetchResult, Topic
from devcasts.records import NormalizedFeed, NotAFeedError
from devcasts.util.processes import Background, map_in_forks, start_in_background

# Fewer feeds than this are read by one process: forking workers costs more than it saves.
PARALLEL_MIN_FEEDS = 8
MAX_WORKERS = 4

FeedBytes = tuple[FetchResult, bytes]  # a fetch result and the bytes it carries (or kept)


@dataclass(frozen=True, slots=True)
class FeedRead:
    """One feed's outcome, and the seconds its parse and its normalize took."""

    outcome: FeedOutcome
    parse_seconds: float
    normalize_seconds: float


def read_feeds(
    feeds: Sequence[FeedBytes], topics: Sequence[Topic], now: datetime
) -> list[FeedRead]:
    """Parse and normalize each feed; in forked workers when there are many.

    The workers inherit the bytes through the fork; only the normalized feeds travel back
    (about a tenth of the work's time in pickling), never the bytes.
    """
    read = functools.partial(_read, topics=topics, now=now)
    workers = MAX_WORKERS if len(feeds) >= PARALLEL_MIN_FEEDS else 1
    reads = map_in_forks(read, feeds, workers)
    return [
        FeedRead(
            FeedOutcome(fetched, feed=normalized, read_error=error, read_warning=warning),
            *seconds,
        )
        for (fetched, _), (normalized, error, warning, seconds) in zip(feeds, reads, strict=True)
    ]


def start_reading(
    feeds: Sequence[FeedBytes], topics: Sequence[Topic], now: datetime
) -> Background[list[FeedRead]]:
    """`read_feeds`, begun: a few feeds are read by one forked child, so that the caller may
    do other work on the other core meanwhile (`pending`); many are read at once, by workers
    on every core."""
    read = functools.partial(read_feeds, feeds, topics, now)
    if not feeds or len(feeds) >= PARALLEL_MIN_FEEDS:
        return Background.finished("reading the feeds", read())
    return start_in_background(read, "reading the feeds")


# The feed, or why it could not be read; what was left out of it; the seconds of each step.
_Read = tuple[NormalizedFeed | None, str | None, str | None, tuple[float, float]]


def _read(feed: FeedBytes, topics: Sequence[Topic], now: datetime) -> _Read:
    """One feed: its NormalizedFeed or why it could not be read (never an exception), what was
    left out of it, and the seconds of its parse and normalize."""
    fetched, body = feed
    url = fetched.url or fetched.source.url
    started = parsed_at = time.perf_counter()
    normalized, error, warning = None, None, None
    try:
        parsed = parse_feed(body, fetched.headers, url)
        parsed_at = time.perf_counter()
        warning = items_left_out_note(parsed.items_left_out)
        normalized = normalize_feed(fetched.source, parsed, topics, now, url)
    except NotAFeedError as problem:
        error = f"not a feed: {problem}"
    except Exception as problem:  # one feed's surprise must not stop the others
        error = f"could not read the feed: {type(problem).__name__}: {problem}"
    done = time.perf_counter()
    return normalized, error, warning, (parsed_at - started, done - parsed_at)


def items_left_out_note(count: int) -> str | None:
    """What the build summary says of the items a feed had past the cap."""
    if count <= 0:
        return None
    if count == 1:
        return f"1 item past the {MAX_ITEMS:,} cap was left out"
    return f"{count:,} items past the {MAX_ITEMS:,} cap were left out"
