"""The same episode published by several podcasts -> one episode that names every source.

Two episodes of different podcasts are the same when their enclosure URLs match without query
string (the query carries tracking and signatures), or when their normalized titles match and
they were published within a day of each other. The survivor is the one seen first (so a
published permalink stays), then the earliest published, then by podcast slug and id.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .model import Episode, SourceRef

SAME_TITLE_WINDOW = timedelta(days=1)
_NON_WORD = re.compile(r"[\W_]+")


def merge_across_feeds(episodes: Sequence[Episode]) -> tuple[Episode, ...]:
    """One episode per real-world episode; the others are named in the survivor's also_in."""
    groups = _Groups([_podcasts(episode) for episode in episodes])
    for first, second in _candidate_pairs(episodes):
        groups.union(first, second)
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(episodes)):
        members[groups.find(index)].append(index)
    survivors: dict[int, Episode] = {}
    for indexes in members.values():
        group = sorted((episodes[index] for index in indexes), key=_survivor_order)
        survivor_index = next(i for i in indexes if episodes[i] is group[0])
        survivors[survivor_index] = _merged(group[0], group[1:])
    return tuple(survivors[index] for index in sorted(survivors))


def enclosure_key(url: str) -> str:
    """The enclosure URL without scheme, query or fragment; host in lower case."""
    parts = urlsplit(url)
    return parts.netloc.lower() + parts.path


def title_key(title: str) -> str:
    """Lower case, accents and punctuation removed, whitespace collapsed."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", folded).split())


def _candidate_pairs(episodes: Sequence[Episode]) -> list[tuple[int, int]]:
    """Index pairs of likely duplicates, in a deterministic order."""
    pairs: list[tuple[int, int]] = []
    by_enclosure: dict[str, list[int]] = defaultdict(list)
    by_title: dict[str, list[int]] = defaultdict(list)
    # Candidates in survivor order, not input order: the same episodes in any order give the
    # same groups.
    canonical = sorted(range(len(episodes)), key=lambda index: _survivor_order(episodes[index]))
    for index in canonical:
        episode = episodes[index]
        if episode.enclosure is not None:
            by_enclosure[enclosure_key(episode.enclosure.url)].append(index)
        key = title_key(episode.title)
        if key:
            by_title[key].append(index)
    for indexes in by_enclosure.values():
        pairs.extend(_cross_podcast_pairs(episodes, indexes, window=None))
    for indexes in by_title.values():
        ordered = sorted(indexes, key=lambda index: episodes[index].published)
        pairs.extend(_cross_podcast_pairs(episodes, ordered, window=SAME_TITLE_WINDOW))
    return pairs


def _cross_podcast_pairs(
    episodes: Sequence[Episode], indexes: list[int], window: timedelta | None
) -> list[tuple[int, int]]:
    """Every pair of different podcasts among `indexes` (sorted by date when `window` is set),
    published within `window` of each other. Every pair, not only neighbours: which groups
    form must not depend on which episodes a previous merge left standing."""
    pairs: list[tuple[int, int]] = []
    for position, first in enumerate(indexes):
        for second in indexes[position + 1 :]:
            if (
                window is not None
                and episodes[second].published - episodes[first].published > window
            ):
                break
            if episodes[first].podcast != episodes[second].podcast:
                pairs.append((first, second))
    return pairs


class _Groups:
    """Union-find that never joins two groups holding episodes of the same podcast."""

    def __init__(self, podcasts: Sequence[set[str]]) -> None:
        self.parent = list(range(len(podcasts)))
        self.podcasts = list(podcasts)

    def find(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def union(self, first: int, second: int) -> None:
        root_a, root_b = self.find(first), self.find(second)
        if root_a == root_b or self.podcasts[root_a] & self.podcasts[root_b]:
            return
        root_a, root_b = min(root_a, root_b), max(root_a, root_b)
        self.parent[root_b] = root_a
        self.podcasts[root_a] |= self.podcasts[root_b]


def _podcasts(episode: Episode) -> set[str]:
    """The podcasts an episode already stands for: merging again must respect earlier merges."""
    return {episode.podcast, *(ref.podcast for ref in episode.also_in)}


def _survivor_order(episode: Episode) -> tuple[datetime, datetime, str, str]:
    return (episode.first_seen or episode.published, episode.published, episode.podcast, episode.id)


def _merged(survivor: Episode, others: Sequence[Episode]) -> Episode:
    if not others:
        return survivor
    refs = list(survivor.also_in)
    for other in others:
        for ref in (SourceRef(other.podcast, other.link), *other.also_in):
            if ref.podcast != survivor.podcast and ref not in refs:
                refs.append(ref)
    topics = list(survivor.topics)
    topics += [topic for other in others for topic in other.topics if topic not in topics]
    return replace(
        survivor,
        also_in=tuple(sorted(refs, key=lambda ref: (ref.podcast, ref.link or ""))),
        topics=tuple(dict.fromkeys(topics)),
    )
