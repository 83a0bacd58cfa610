"""An episode's date as its publisher meant it, for every sink that shows or orders episodes.

`published` stays in UTC (one order for everything); the publisher's own UTC offset, kept
beside it, gives the calendar day a listener of the show would name. A date nobody gave (no
date at all, or a placeholder such as the Unix epoch) is unknown: shown as such, and ordered
after every dated episode, among the undated by when the archive first saw them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devcasts.records import Episode

# Earlier dates are placeholders, not publication dates: the Unix epoch in any offset (a
# zero timestamp), "1900-01-01" and the like. Podcasts and RSS came decades later.
PLACEHOLDER_BEFORE = datetime(1971, 1, 1, tzinfo=UTC)
MAX_OFFSET_MINUTES = 18 * 60  # what datetime.timezone accepts, and more than any real zone


def is_placeholder(moment: datetime) -> bool:
    """A date before 1971: a zero timestamp or a default, never when an episode came out."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware < PLACEHOLDER_BEFORE


def date_unknown(episode: Episode) -> bool:
    """No date from the publisher: none written, or a placeholder (older archives kept one)."""
    return episode.date_estimated or is_placeholder(episode.published)


def in_offset(moment: datetime, offset_minutes: int | None) -> datetime:
    """The moment on the publisher's clock; UTC when the offset is unknown or impossible."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if not offset_minutes or abs(offset_minutes) >= MAX_OFFSET_MINUTES:
        return aware.astimezone(UTC)
    try:
        return aware.astimezone(timezone(timedelta(minutes=offset_minutes)))
    except OverflowError:  # the first or last day datetime can hold
        return aware.astimezone(UTC)


def publisher_time(episode: Episode) -> datetime:
    """When the episode came out, on its publisher's clock (its day is the day to show)."""
    return in_offset(episode.published, episode.utc_offset)


def newest_first_key(episode: Episode) -> tuple[bool, float, str]:
    """Dated episodes newest first, then the undated, most recently first seen first; ties
    by id. Sort ascending with it."""
    if date_unknown(episode):
        seen = episode.first_seen or episode.published
        return (True, -utc_timestamp(seen), episode.id)
    return (False, -utc_timestamp(episode.published), episode.id)


def utc_timestamp(moment: datetime) -> float:
    """The moment's timestamp, a naive one taken as UTC (never as the local time)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()
