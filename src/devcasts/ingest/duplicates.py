"""Duplicates inside one feed: one item published twice is one episode; two episodes that share
a guid are two.

Feeds repeat an item (the same guid twice, or one episode under two guids), and some reuse a
guid for a different episode, copied from the item before it. A reused guid whose items differ
in their audio file and their title (beyond a remark in brackets such as "(corrected audio)"),
and do not share an episode number, names two episodes: the first in feed order keeps the
plain guid (the identity it always had), each later one is identified by the guid and its
audio file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from devcasts.records import Episode
from devcasts.util.text import short_hash

__all__ = ["distinct_episodes"]


def distinct_episodes(episodes: Sequence[Episode]) -> list[Episode]:
    """The feed's episodes, each once, in feed order; a reused guid's other episodes kept."""
    return _unique(_reused_guids_told_apart(episodes))


def _reused_guids_told_apart(episodes: Sequence[Episode]) -> list[Episode]:
    first_by_id: dict[str, Episode] = {}
    result: list[Episode] = []
    for episode in episodes:
        first = first_by_id.setdefault(episode.id, episode)
        if first is not episode and (audio := _another_episode(first, episode)):
            identity = episode.guid + " " + audio
            digest = short_hash(episode.podcast + "\n" + identity)
            episode = replace(episode, id=digest, guid=identity)
        result.append(episode)
    return result


def _another_episode(first: Episode, later: Episode) -> str:
    """The later item's audio URL when its audio file and title both differ from the first's
    (so it is another episode under the same identity), else "". A remark in brackets after a
    title ("... (corrected audio)") and the same episode number mark a re-upload of one
    episode, not another one."""
    if first.enclosure is None or later.enclosure is None:
        return ""
    same_title = _bare_title(first.title) == _bare_title(later.title)
    same_number = first.number is not None and first.number == later.number
    if same_title or same_number or first.enclosure.url == later.enclosure.url:
        return ""
    return later.enclosure.url


def _bare_title(title: str) -> str:
    """The title without a closing remark in brackets, in lower case."""
    return _CLOSING_REMARK.sub("", title).casefold().strip()


_CLOSING_REMARK = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")


def _unique(episodes: list[Episode]) -> list[Episode]:
    """One episode per repeated identity or identical content; the first in feed order wins."""
    seen: set[str] = set()
    unique: list[Episode] = []
    for episode in episodes:
        keys = (episode.id, _same_content_key(episode))
        if not seen.isdisjoint(keys):
            continue
        seen.update(keys)
        unique.append(episode)
    return unique


def _same_content_key(episode: Episode) -> str:
    """Equal for one episode published twice under two guids (whose links often differ too)."""
    content = (
        episode.title, episode.published.isoformat(), episode.notes_html,
        episode.enclosure.url if episode.enclosure else None, episode.duration,
    )  # fmt: skip
    return "content:" + short_hash(repr(content), 32)
