"""ParsedFeed -> NormalizedFeed: pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .model import Episode, FeedSource, NormalizedFeed, ParsedFeed, Topic


def normalize_feed(
    source: FeedSource,
    feed: ParsedFeed,
    topics: Sequence[Topic],
    now: datetime,
    feed_url: str,
) -> NormalizedFeed:
    raise NotImplementedError


def merge_across_feeds(episodes: Sequence[Episode]) -> tuple[Episode, ...]:
    """One episode per real-world episode; the others are named in the survivor's also_in."""
    raise NotImplementedError
