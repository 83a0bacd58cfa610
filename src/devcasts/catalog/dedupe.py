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
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from devcasts.records import Episode, SourceRef

SAME_TITLE_WINDOW = timedelta(days=1)
_NON_WORD = re.compile(r"[\W_]+")
# title_key for ASCII: letters in lower case, digits kept, anything else (_NON_WORD) a space.
_ASCII_WORDS = bytes(
    ord(char.lower()) if char.isalnum() else ord(" ") for char in map(chr, range(128))
) + bytes(128)
# scheme://netloc/path, then the query or fragment or the end: how urlsplit reads such a URL.
_PLAIN_URL = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*://(?P<netloc>[^/?#\[\]]*)(?P<path>/[^?#]*)?(?:[?#]|\Z)"
)


def merge_across_feeds(episodes: Sequence[Episode]) -> tuple[Episode, ...]:
    """One episode per real-world episode; the others are named in the survivor's also_in."""
    groups = _Groups(episodes)
    for first, second in _candidate_pairs(episodes):
        groups.union(first, second)
    survivors: list[Episode | None] = list(episodes)  # most episodes stand alone, as they are
    for indexes in groups.joined():
        group = sorted((episodes[index] for index in indexes), key=_survivor_order)
        survivor_index = next(i for i in indexes if episodes[i] is group[0])
        for index in indexes:
            survivors[index] = None
        survivors[survivor_index] = _merged(group[0], group[1:])
    return tuple(episode for episode in survivors if episode is not None)


def enclosure_key(url: str) -> str:
    """The enclosure URL without scheme, query or fragment; host in lower case."""
    # urlsplit costs ten times a regex. The regex reads only URLs that urlsplit takes as they
    # are (printable ASCII: nothing to strip or remove; no IPv6 brackets); the rest go to it.
    plain = _PLAIN_URL.match(url) if url.isascii() and url.isprintable() else None
    if plain is not None:
        return plain["netloc"].lower() + (plain["path"] or "")
    parts = urlsplit(url)
    return parts.netloc.lower() + parts.path


def title_key(title: str) -> str:
    """Lower case, accents and punctuation removed, whitespace collapsed."""
    if title.isascii():  # the common case: no accents to fold, and one table does the rest
        return " ".join(title.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split())
    folded = unicodedata.normalize("NFKD", title.casefold())
    if not folded.isascii():
        folded = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", folded).split())


def _candidate_pairs(episodes: Sequence[Episode]) -> list[tuple[int, int]]:
    """Index pairs of likely duplicates, in a deterministic order."""
    by_enclosure: dict[str, list[int]] = defaultdict(list)
    by_title: dict[str, list[int]] = defaultdict(list)
    for index, episode in enumerate(episodes):
        if episode.enclosure is not None:
            by_enclosure[enclosure_key(episode.enclosure.url)].append(index)
        key = title_key(episode.title)
        if key:
            by_title[key].append(index)
    # Candidates in survivor order, not input order: the same episodes in any order give the
    # same groups. Only groups of two or more are sorted: most episodes have no twin.
    pairs: list[tuple[int, int]] = []
    for indexes in _in_survivor_order(episodes, by_enclosure.values()):
        pairs.extend(_cross_podcast_pairs(episodes, indexes, window=None))
    for indexes in _in_survivor_order(episodes, by_title.values()):
        ordered = sorted(indexes, key=lambda index: episodes[index].published)
        pairs.extend(_cross_podcast_pairs(episodes, ordered, window=SAME_TITLE_WINDOW))
    return pairs


def _in_survivor_order(episodes: Sequence[Episode], groups: Iterable[list[int]]) -> list[list[int]]:
    """The groups of two or more, each in survivor order, ordered by their first member."""

    def rank(index: int) -> tuple[tuple[datetime, datetime, str, str], int]:
        return _survivor_order(episodes[index]), index

    shared = [sorted(indexes, key=rank) for indexes in groups if len(indexes) > 1]
    return sorted(shared, key=lambda indexes: rank(indexes[0]))


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

    def __init__(self, episodes: Sequence[Episode]) -> None:
        self.episodes = episodes
        self.parent = list(range(len(episodes)))
        self.podcasts: dict[int, set[str]] = {}  # per root, from its first union on

    def find(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def union(self, first: int, second: int) -> None:
        root_a, root_b = self.find(first), self.find(second)
        if root_a == root_b or self._podcasts_of(root_a) & self._podcasts_of(root_b):
            return
        root_a, root_b = min(root_a, root_b), max(root_a, root_b)
        self.parent[root_b] = root_a
        self.podcasts[root_a] |= self.podcasts.pop(root_b)

    def joined(self) -> list[list[int]]:
        """The groups of two or more, each as its indexes in ascending order."""
        members: dict[int, list[int]] = defaultdict(list)
        for index in range(len(self.parent)):
            if self.parent[index] != index or index in self.podcasts:
                members[self.find(index)].append(index)
        return [indexes for indexes in members.values() if len(indexes) > 1]

    def _podcasts_of(self, root: int) -> set[str]:
        if root not in self.podcasts:
            self.podcasts[root] = _podcasts(self.episodes[root])
        return self.podcasts[root]


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
