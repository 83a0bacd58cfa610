"""Which chapters an episode shows: those of the chapters file it links to, when they were read
(archive/linked_chapters.py), else those of its feed (Podlove chapters, or stamps in the notes).

A chapters file is the publisher's own table of contents, written for players: it wins over
chapters found in the feed whenever it gave any for the episode's current link.
"""

from __future__ import annotations

from dataclasses import replace

from devcasts.records import Episode

__all__ = ["with_linked_chapters"]


def with_linked_chapters(episode: Episode) -> Episode:
    """The episode with its linked file's chapters as its chapters, when it has them."""
    linked = episode.linked_chapters
    if not linked or episode.linked_chapters_url != episode.chapters_url:
        return episode
    if linked == episode.chapters:
        return episode
    return replace(episode, chapters=linked)
