"""Each feed's health, as the build summary and the health page show it, from its outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from devcasts.model import FeedHealth, FeedOutcome, FetchStatus


def feed_health(
    outcomes: Sequence[FeedOutcome],
    episode_counts: Mapping[str, int],
    titles: Mapping[str, str],
) -> list[FeedHealth]:
    """One FeedHealth per outcome, in order; `episode_counts` and `titles` are the archive's,
    by podcast slug (a feed's own title in feeds.yaml comes first)."""
    health: list[FeedHealth] = []
    for outcome in outcomes:
        source, fetched, status = outcome.source, outcome.fetched, outcome.status
        health.append(
            FeedHealth(
                slug=source.slug,
                title=source.title or titles.get(source.slug) or source.slug,
                url=source.url,
                status=status,
                reason=outcome.reason,
                episodes=episode_counts.get(source.slug, 0),
                new_episodes=outcome.new_episodes,
                failures=fetched.failures if status is FetchStatus.FAILED else 0,
                first_failure=fetched.first_failure,
                last_failure=fetched.last_failure,
                last_success=fetched.last_success,
                moved_to=fetched.moved_to,
                moved_count=fetched.moved_count,
            )
        )
    return health


def published_health(health: Sequence[FeedHealth]) -> list[FeedHealth]:
    """The site says "ok" for a feed that answered 304: both mean the feed is healthy, and the
    health page should not change between two builds that found nothing new."""
    return [
        replace(h, status=FetchStatus.OK) if h.status is FetchStatus.UNCHANGED else h
        for h in health
    ]
