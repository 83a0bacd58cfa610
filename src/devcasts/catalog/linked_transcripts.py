"""Which transcript an episode shows in full: the turns read from its preferred transcript file
(archive/linked_transcripts.py), while the feed still links that file, and within the site's
byte budget for transcripts.

The budget: transcripts are the largest text a page can hold (a one-hour show is about 50 KB),
and every one shown in full is also in the search index. The newest episodes' transcripts are
shown in full until BUDGET_BYTES of transcript text is spent (about 300 one-hour episodes);
older episodes link to their transcript files, as the feed gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from devcasts.records import Episode

__all__ = ["BUDGET_BYTES", "transcript_bytes", "with_linked_transcript", "within_budget"]

BUDGET_BYTES = 16 * 1024 * 1024


def with_linked_transcript(episode: Episode) -> Episode:
    """The episode without turns read from a file its feed no longer links."""
    if not episode.linked_transcript:
        return episode
    if any(t.url == episode.linked_transcript_url for t in episode.transcripts):
        return episode
    return replace(episode, linked_transcript=(), linked_transcript_url=None)


def within_budget(newest_first: Sequence[Episode], budget: int = BUDGET_BYTES) -> list[Episode]:
    """The episodes, in their order, with transcripts shown in full only for the newest ones
    that fit in `budget` bytes of transcript text together; the rest keep their links."""
    shown: list[Episode] = []
    left = budget
    for episode in newest_first:
        size = transcript_bytes(episode)
        if size and size > left:
            episode = replace(episode, linked_transcript=(), linked_transcript_url=None)
            left = 0  # the older ones too: an episode never shows what a newer one cannot
        else:
            left -= size
        shown.append(episode)
    return shown


def transcript_bytes(episode: Episode) -> int:
    """The UTF-8 bytes of the transcript text an episode shows in full."""
    return sum(
        len(turn.text.encode()) + len(turn.speaker.encode()) for turn in episode.linked_transcript
    )
