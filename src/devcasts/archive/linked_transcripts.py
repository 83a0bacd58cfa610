"""Transcript files that episodes link to (podcast:transcript): which one of an episode's a
build wants, and the turns read from it, kept in the archive beside the episode.

An episode may link several transcripts (formats, languages, captions); the site shows one:
in the site's language or the episode's (a transcript that names no language is taken to be
in the episode's), then timed formats (WebVTT, SubRip, JSON) over HTML over plain text, then
a transcript over captions, then the feed's order. Formats the site cannot read are never
asked for.

As with chapters files (archive/linked_chapters.py, whose refresh rules these follow), the
archive is the turns' home: once read, they stay with the episode (archive/merge.py carries
them over), so the site never depends on the file staying up.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NamedTuple

from devcasts.archive.linked_chapters import RECENT, RECENT_REFRESH, UNREAD_REFRESH
from devcasts.archive.state import ArchiveState, PodcastArchive, feed_key, newest_episodes, utc
from devcasts.records import Episode, Transcript, TranscriptTurn
from devcasts.util.transcript_types import TranscriptFormat, transcript_format

__all__ = ["WantedTranscript", "attach_linked_transcripts", "preferred_transcript", "wanted"]

_FORMAT_RANK: dict[TranscriptFormat, int] = {"vtt": 0, "srt": 0, "json": 0, "html": 1, "text": 2}


class WantedTranscript(NamedTuple):
    url: str
    refresh_after: timedelta | None  # how long a kept copy holds (fetch/sidecar.FileRequest)
    type: str  # the MIME type the feed gave, for the reader


def preferred_transcript(episode: Episode, site_language: str | None) -> Transcript | None:
    """The one transcript of the episode's that the site shows, or None (none readable)."""
    languages = {_primary(episode.language), _primary(site_language)} - {""}
    ranked: list[tuple[tuple[int, int, int, int], Transcript]] = []
    for order, transcript in enumerate(episode.transcripts):
        kind = transcript_format(transcript.type, transcript.url)
        if kind is None:
            continue
        language = _primary(transcript.language)
        other_language = int(bool(language) and bool(languages) and language not in languages)
        captions = int(transcript.rel == "captions")
        ranked.append(((other_language, _FORMAT_RANK[kind], captions, order), transcript))
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


def wanted(
    archive: ArchiveState,
    now: datetime,
    site_language: str | None,
    podcasts: Collection[str] | None = None,
) -> list[WantedTranscript]:
    """The transcript files this build wants, newest episodes first: a file not read yet for
    the episode's preferred transcript, and a young episode's (RECENT) once a day; with
    `podcasts` (feed keys), only for those podcasts."""
    now = utc(now)
    episodes = newest_episodes(archive, podcasts, lambda e: e.transcripts)
    found: list[WantedTranscript] = []
    for episode in episodes:
        chosen = preferred_transcript(episode, site_language)
        if chosen is None:
            continue
        recent = now - (episode.first_seen or episode.published) < RECENT
        read = bool(episode.linked_transcript) and episode.linked_transcript_url == chosen.url
        if not read:
            refresh = RECENT_REFRESH if recent else UNREAD_REFRESH
            found.append(WantedTranscript(chosen.url, refresh, chosen.type))
        elif recent:
            found.append(WantedTranscript(chosen.url, RECENT_REFRESH, chosen.type))
    return found


def attach_linked_transcripts(
    archive: ArchiveState,
    turns: Mapping[str, tuple[TranscriptTurn, ...]],
    site_language: str | None,
) -> tuple[ArchiveState, frozenset[str]]:
    """The archive with each episode's preferred transcript's turns (by URL; a URL that gave
    none leaves what the episode had), and the feed keys of the podcasts that changed."""
    if not any(turns.values()):
        return archive, frozenset()
    records: list[PodcastArchive] = []
    touched: set[str] = set()
    for record in archive.podcasts:
        episodes = tuple(_attached(e, turns, site_language) for e in record.episodes)
        if episodes != record.episodes:
            record = replace(record, episodes=episodes)
            touched.add(feed_key(record.podcast))
        records.append(record)
    return ArchiveState(tuple(records)), frozenset(touched)


def _attached(
    episode: Episode, turns: Mapping[str, tuple[TranscriptTurn, ...]], site_language: str | None
) -> Episode:
    if not episode.transcripts:
        return episode
    chosen = preferred_transcript(episode, site_language)
    read = turns.get(chosen.url) if chosen else None
    if chosen is None or not read:
        return episode
    if (read, chosen.url) == (episode.linked_transcript, episode.linked_transcript_url):
        return episode
    return replace(episode, linked_transcript=read, linked_transcript_url=chosen.url)


def _primary(language: str | None) -> str:
    """'en-US' -> 'en'; '' when unknown."""
    return (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
