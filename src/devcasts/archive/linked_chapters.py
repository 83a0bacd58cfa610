"""Chapters files that episodes link to (podcast:chapters): which ones a build wants, and the
chapters read from them, kept in the archive beside the episode.

The archive is the chapters' home: once read, an episode's linked chapters stay with it
(archive/merge.py carries them over when the feed edits the episode), so the site never
depends on the remote file staying up. A file is wanted while it has given no chapters for the
episode's current link, and, for a month after the episode was first seen (when publishers
still fix their chapters), once a day; fetch/sidecar.py decides which wanted files are due.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from devcasts.archive.state import ArchiveState, PodcastArchive, feed_key, newest_episodes, utc
from devcasts.records import Chapter, Episode

__all__ = ["RECENT", "RECENT_REFRESH", "UNREAD_REFRESH", "attach_linked_chapters", "wanted_links"]

RECENT = timedelta(days=30)  # an episode this young may still get its chapters fixed
RECENT_REFRESH = timedelta(days=1)  # how often a young episode's file is asked again
UNREAD_REFRESH = timedelta(days=7)  # a file kept yet unusable (not JSON, no chapters)

WantedLink = tuple[str, timedelta | None]  # a chapters URL, and how long a kept copy holds


def wanted_links(
    archive: ArchiveState, now: datetime, podcasts: Collection[str] | None = None
) -> list[WantedLink]:
    """The chapters files this build wants, newest episodes first (they are asked first);
    with `podcasts` (feed keys, as FeedSource.slug), only for those podcasts (a show removed
    from feeds.yaml asks nothing)."""
    now = utc(now)
    linked = newest_episodes(archive, podcasts, lambda e: e.chapters_url)
    wanted: list[WantedLink] = []
    for episode in linked:
        assert episode.chapters_url is not None
        recent = now - (episode.first_seen or episode.published) < RECENT
        if not has_linked_chapters(episode):
            wanted.append((episode.chapters_url, RECENT_REFRESH if recent else UNREAD_REFRESH))
        elif recent:
            wanted.append((episode.chapters_url, RECENT_REFRESH))
    return wanted


def has_linked_chapters(episode: Episode) -> bool:
    """Chapters were read from the file the episode links to now."""
    return bool(episode.linked_chapters) and episode.linked_chapters_url == episode.chapters_url


def attach_linked_chapters(
    archive: ArchiveState, chapters: Mapping[str, tuple[Chapter, ...]]
) -> tuple[ArchiveState, frozenset[str]]:
    """The archive with each episode's chapters read from its link (by URL; a URL that gave
    none leaves what the episode had), and the feed keys of the podcasts that changed (as
    save_archive takes them)."""
    if not any(chapters.values()):
        return archive, frozenset()
    records: list[PodcastArchive] = []
    touched: set[str] = set()
    for record in archive.podcasts:
        episodes = tuple(_attached(episode, chapters) for episode in record.episodes)
        if episodes != record.episodes:
            record = replace(record, episodes=episodes)
            touched.add(feed_key(record.podcast))
        records.append(record)
    return ArchiveState(tuple(records)), frozenset(touched)


def _attached(episode: Episode, chapters: Mapping[str, tuple[Chapter, ...]]) -> Episode:
    url = episode.chapters_url
    read = chapters.get(url) if url else None
    if not read or (read, url) == (episode.linked_chapters, episode.linked_chapters_url):
        return episode
    return replace(episode, linked_chapters=read, linked_chapters_url=url)
