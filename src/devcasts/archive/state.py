"""The archive as values: one record per podcast, the whole state, and what a merge changed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from devcasts.records import Episode, Podcast

__all__ = [
    "ArchiveChanges",
    "ArchiveState",
    "PodcastArchive",
    "archive_order",
    "episode_counts",
    "feed_key",
    "utc",
]


@dataclass(frozen=True, slots=True)
class PodcastArchive:
    """One podcast's archive: last known metadata and every episode ever seen."""

    podcast: Podcast
    episodes: tuple[Episode, ...] = ()  # sorted by (published, id)


@dataclass(frozen=True, slots=True)
class ArchiveState:
    """The whole archive, immutable: replace it, never mutate it."""

    podcasts: tuple[PodcastArchive, ...] = ()  # sorted by slug

    def get(self, slug: str) -> PodcastArchive | None:
        return next((p for p in self.podcasts if p.podcast.slug == slug), None)

    def episodes(self) -> Iterator[Episode]:
        for record in self.podcasts:
            yield from record.episodes

    def episode_count(self, slug: str) -> int:
        record = self.get(slug)
        return len(record.episodes) if record else 0


@dataclass(frozen=True, slots=True)
class ArchiveChanges:
    """What a merge changed, for sinks that work incrementally (`dropped` alone is no change).
    Podcasts are named by their feed's key (FeedSource.slug; feed_key below)."""

    new_episodes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # key -> ids
    updated_episodes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # key -> ids
    changed_podcasts: frozenset[str] = frozenset()  # metadata or episodes changed
    touched_podcasts: frozenset[str] = frozenset()  # any byte of their files differs (dropped)

    @property
    def is_empty(self) -> bool:
        """Nothing the site shows changed."""
        return not self.changed_podcasts

    @property
    def any(self) -> bool:
        """The archive differs from what was loaded: worth saving."""
        return bool(self.touched_podcasts)

    @property
    def new_count(self) -> int:
        return sum(len(ids) for ids in self.new_episodes.values())

    @property
    def updated_count(self) -> int:
        return sum(len(ids) for ids in self.updated_episodes.values())

    @property
    def new_per_podcast(self) -> Mapping[str, int]:
        return {slug: len(ids) for slug, ids in self.new_episodes.items()}

    @property
    def episode_ids(self) -> frozenset[str]:
        """Ids of every new or updated episode."""
        ids = [*self.new_episodes.values(), *self.updated_episodes.values()]
        return frozenset(i for group in ids for i in group)


def episode_counts(state: ArchiveState) -> dict[str, int]:
    """Archived episodes per podcast slug (hidden ones included)."""
    return {record.podcast.slug: len(record.episodes) for record in state.podcasts}


def newest_episodes(
    state: ArchiveState, podcasts: Collection[str] | None, keep: Callable[[Episode], object]
) -> list[Episode]:
    """The episodes `keep` is true of, newest first (ties by id); with `podcasts` (feed keys),
    only theirs: the order linked files are asked in."""
    records = [r for r in state.podcasts if podcasts is None or feed_key(r.podcast) in podcasts]
    episodes = [e for r in records for e in r.episodes if keep(e)]
    episodes.sort(key=lambda e: (-e.published.timestamp(), e.id))
    return episodes


def feed_key(podcast: Podcast) -> str:
    """The key of the feed (FeedSource.slug) whose archive this is. Files written before
    slugs came from titles have none: there the slug is the key."""
    return podcast.feed_key or podcast.slug


def archive_order(episode: Episode) -> tuple[datetime, str]:
    """The order of a podcast's episodes in the archive: (published, id)."""
    return (episode.published, episode.id)


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: devcasts works in UTC")
    return moment.astimezone(UTC)
