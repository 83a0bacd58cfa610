"""The same episode published by several podcasts -> one episode that names every source.

Two episodes of different podcasts are the same on strong evidence only:

- the same audio file: enclosure URLs equal without scheme and query string (the query carries
  tracking and signatures; a query that holds a whole URL, as old redirect services write it,
  is kept), or
- the same comparable title ("Episode 378: X", "#378 - X" and "378: X" compare equal) that is
  not a generic one, both items dated by their feed, and one more match: the notes, the
  duration (within a few seconds) or the publication day.

A generic title ("Episode 1", "Trailer", "Weekly news", a number, one word) says nothing; nor
does a title that one show repeats or that many shows share, nor the date of an undated item
(it is the day the build first saw it). The survivor is the copy seen first (so a published
permalink stays), then the earliest published, then by podcast slug and id; it takes the best
of every copy, field by field (notes, chapters, people, duration, image, number).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from devcasts.records import Episode, Person, SourceRef

_T = TypeVar("_T")

SAME_DAY = timedelta(hours=24)
DURATION_TOLERANCE = 10  # seconds: the same file re-encoded or trimmed of a second of silence
NOTES_COMPARED = 200  # characters of the notes' plain text compared
NOTES_MIN = 40  # shorter notes ("safe description", a link) prove nothing
# A key (title or audio) that one show uses more often than this, or that more shows than this
# share, identifies nothing: a show's recurring title, a placeholder file, a stock title.
MAX_PER_PODCAST = 2
MAX_PODCASTS_PER_TITLE = 5
# Words that name no particular episode: a title made of these and numbers is generic.
_GENERIC_WORDS_TEXT = """a an and the of in on with to for our your this is it
    episode episodes ep folge episodio podcast show part teil season staffel chapter vol volume
    trailer teaser preview sneak peek bonus intro introduction outro welcome announcement
    untitled unnamed test item hello world new
    weekly daily monthly news update updates special live recap replay rerun encore
    best highlights roundup digest mailbag q qa ama questions answers edition minisode
    finale premiere pilot"""
GENERIC_WORDS = frozenset(_GENERIC_WORDS_TEXT.split())
MIN_TITLE_WORDS = 2  # specific words, besides the generic ones and numbers
MIN_TITLE_LETTERS = 8

_NON_WORD = re.compile(r"[\W_]+")
# title_key for ASCII: letters in lower case, digits kept, anything else (_NON_WORD) a space.
_ASCII_WORDS = bytes(
    ord(char.lower()) if char.isalnum() else ord(" ") for char in map(chr, range(128))
) + bytes(128)
# scheme://netloc/path, then the query or fragment or the end: how urlsplit reads such a URL.
_PLAIN_URL = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*://(?P<netloc>[^/?#\[\]]*)(?P<path>/[^?#]*)?(?:[?#]|\Z)"
)
# "episode 378 ...", "ep 378 ...", "e378 ...", "no 378 ..." (title_key already dropped "#", ":")
_NUMBER_PREFIX = re.compile(r"(?:(?:episode|episodio|folge|ep|no|nr)\s?|e(?=\d))?0*(\d+)\b")


def merge_across_feeds(
    episodes: Sequence[Episode], show_images: Mapping[str, str | None] | None = None
) -> tuple[Episode, ...]:
    """One episode per real-world episode; the others are named in the survivor's also_in.

    `show_images` (podcast slug -> its image) tells an episode's own image from the show's
    image it fell back to: an episode's own image is the better one.
    """
    survivors: list[Episode | None] = list(episodes)  # most episodes stand alone, as they are
    for indexes in same_episode_groups(episodes):
        group = sorted((episodes[index] for index in indexes), key=_survivor_order)
        survivor_index = next(i for i in indexes if episodes[i] is group[0])
        for index in indexes:
            survivors[index] = None
        survivors[survivor_index] = _merged(group[0], group[1:], show_images or {})
    return tuple(episode for episode in survivors if episode is not None)


def same_episode_groups(episodes: Sequence[Episode]) -> list[list[int]]:
    """The groups of two or more copies of one episode, as indexes into `episodes`."""
    groups = _Groups(episodes)
    for first, second in _candidate_pairs(episodes):
        groups.union(first, second)
    return groups.joined()


def enclosure_key(url: str) -> str:
    """The enclosure URL without scheme, query or fragment; host in lower case. A query that
    holds a URL ("redirect.mp3?http://host/file.mp3") is the file itself: it is kept."""
    # urlsplit costs ten times a regex. The regex reads only URLs that urlsplit takes as they
    # are (printable ASCII: nothing to strip or remove; no IPv6 brackets); the rest go to it.
    if "?" not in url and url.isascii() and url.isprintable():
        plain = _PLAIN_URL.match(url)
        if plain is not None:
            return plain["netloc"].lower() + (plain["path"] or "")
    parts = urlsplit(url)
    key = parts.netloc.lower() + parts.path
    if "://" in parts.query or parts.query.startswith("www."):
        return key + "?" + parts.query
    return key


def title_key(title: str) -> str:
    """Lower case, accents and punctuation removed, whitespace collapsed."""
    if title.isascii():  # the common case: no accents to fold, and one table does the rest
        return " ".join(title.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split())
    folded = unicodedata.normalize("NFKD", title.casefold())
    if not folded.isascii():
        folded = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", folded).split())


def comparable_title(title: str) -> str:
    """title_key with a leading episode number written one way: "Episode 378: X", "Ep. 378 -
    X", "#0378 X" and "378: X" all give "378 x" (an ad-free or member feed of the same show)."""
    key = title_key(title)
    if not key[:1].isdigit() and not key.startswith(("e", "n", "f")):
        return key  # the common case: no number in front
    match = _NUMBER_PREFIX.match(key)
    if match is None or (match.end() < len(key) and key[match.end()] != " "):
        return key
    return match[1] + key[match.end() :]


def is_generic_title(key: str) -> bool:
    """A comparable title that names no particular episode: numbers and GENERIC_WORDS, or too
    few specific words or letters ("Episode 1", "Trailer", "Weekly news", "a", "#9 Ukraine")."""
    specific = [word for word in key.split() if not word.isdigit() and word not in GENERIC_WORDS]
    return len(specific) < MIN_TITLE_WORDS or sum(map(len, specific)) < MIN_TITLE_LETTERS


def has_own_date(episode: Episode) -> bool:
    """Dated by its feed: not the first-seen time, not clamped from the future, not 1970."""
    return not (episode.date_estimated or episode.date_clamped) and episode.published.year > 1970


def same_title_evidence(first: Episode, second: Episode) -> bool:
    """Besides an equal specific title: both dated, and the notes, duration or day match."""
    if not (has_own_date(first) and has_own_date(second)):
        return False
    return (
        abs(first.published - second.published) < SAME_DAY
        or _same_duration(first.duration, second.duration)
        or _same_notes(first, second)
    )


def _same_duration(first: int | None, second: int | None) -> bool:
    return first is not None and second is not None and abs(first - second) <= DURATION_TOLERANCE


def _same_notes(first: Episode, second: Episode) -> bool:
    start = _notes_start(first)
    return len(start) >= NOTES_MIN and start == _notes_start(second)


def _notes_start(episode: Episode) -> str:
    return " ".join(episode.text[: NOTES_COMPARED * 2].casefold().split())[:NOTES_COMPARED]


# --- candidate pairs ------------------------------------------------------------------------

_BY_AUDIO, _BY_TITLE = 0, 1


def _candidate_pairs(episodes: Sequence[Episode]) -> list[tuple[int, int]]:
    """Index pairs of the same episode: same audio first, then title and evidence; each kind
    in survivor order, so the same episodes in any order give the same groups."""
    by_audio: dict[str, list[int]] = defaultdict(list)
    by_title: dict[str, list[int]] = defaultdict(list)
    for index, episode in enumerate(episodes):
        if episode.enclosure is not None:
            by_audio[enclosure_key(episode.enclosure.url)].append(index)
        if has_own_date(episode):
            by_title[comparable_title(episode.title)].append(index)

    def rank(index: int) -> tuple[tuple[datetime, datetime, str, str], int]:
        return _survivor_order(episodes[index]), index

    # Only keys with two or more episodes are checked and sorted: most episodes have no twin.
    pairs: list[tuple[int, int, int]] = []
    for kind, groups in ((_BY_AUDIO, by_audio), (_BY_TITLE, by_title)):
        for key, indexes in groups.items():
            if len(indexes) < 2 or (kind == _BY_TITLE and is_generic_title(key)):
                continue
            if _identifying(episodes, indexes, kind):
                pairs += _cross_podcast_pairs(episodes, sorted(indexes, key=rank), kind)
    pairs.sort(key=lambda pair: (pair[0], rank(pair[1]), rank(pair[2])))
    return [(first, second) for _, first, second in pairs]


def _identifying(episodes: Sequence[Episode], indexes: list[int], kind: int) -> bool:
    """False for a key that a show repeats, or (a title) that too many shows share. Counted
    over the podcasts each episode stands for, so merging again counts the same."""
    per_podcast = Counter(slug for index in indexes for slug in _podcasts(episodes[index]))
    if max(per_podcast.values()) > MAX_PER_PODCAST:
        return False
    return kind == _BY_AUDIO or len(per_podcast) <= MAX_PODCASTS_PER_TITLE


def _cross_podcast_pairs(
    episodes: Sequence[Episode], indexes: list[int], kind: int
) -> list[tuple[int, int, int]]:
    """Every pair of different podcasts among `indexes` that the key's kind proves the same.
    Every pair, not only neighbours: which groups form must not depend on which episodes a
    previous merge left standing."""
    pairs: list[tuple[int, int, int]] = []
    for position, first in enumerate(indexes):
        for second in indexes[position + 1 :]:
            a, b = episodes[first], episodes[second]
            if a.podcast != b.podcast and (kind == _BY_AUDIO or same_title_evidence(a, b)):
                pairs.append((kind, first, second))
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


# --- the merged episode ---------------------------------------------------------------------


def _merged(
    survivor: Episode, others: Sequence[Episode], show_images: Mapping[str, str | None]
) -> Episode:
    """The survivor under its own identity and page, with the best of every copy: ties go to
    the survivor, then to the copies in survivor order."""
    if not others:
        return survivor
    copies = (survivor, *others)
    refs = list(survivor.also_in)
    for other in others:
        for ref in (SourceRef(other.podcast, other.link), *other.also_in):
            if ref.podcast != survivor.podcast and ref not in refs:
                refs.append(ref)
    notes = max(copies, key=lambda copy: len(copy.text))
    return replace(
        survivor,
        also_in=tuple(sorted(refs, key=lambda ref: (ref.podcast, ref.link or ""))),
        topics=_union(copy.topics for copy in copies),
        notes_html=notes.notes_html,
        text=notes.text,
        summary=notes.summary,
        chapters=max(copies, key=lambda copy: len(copy.chapters)).chapters,
        chapters_url=_first(copy.chapters_url for copy in copies),
        people=_people(copies),
        transcripts=_union(copy.transcripts for copy in copies),
        categories=_union(copy.categories for copy in copies),
        duration=_first(copy.duration for copy in copies),
        image=_best_image(copies, show_images),
        number=_first(copy.number for copy in copies),
        season=_first(copy.season for copy in copies),
    )


def _union(values: Iterable[tuple[_T, ...]]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(value for group in values for value in group))


def _first(values: Iterable[_T | None]) -> _T | None:
    return next((value for value in values if value is not None), None)


def _people(copies: Sequence[Episode]) -> tuple[Person, ...]:
    """Everyone any copy names, once per person (slug) and role, the survivor's entry first."""
    chosen: dict[tuple[str, str], Person] = {}
    for copy in copies:
        for person in copy.people:
            chosen.setdefault((person.slug, person.role), person)
    return tuple(chosen.values())


def _best_image(copies: Sequence[Episode], show_images: Mapping[str, str | None]) -> str | None:
    """An episode's own image before one that is only its show's image."""
    own = (copy.image for copy in copies if copy.image != show_images.get(copy.podcast))
    return _first(own) or _first(copy.image for copy in copies)
