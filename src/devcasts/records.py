"""Podcasts and episodes as parse, normalize, the archive and the sinks hand them on: frozen
dataclasses, no I/O. The rest of the model, which every build handles, is in model.py.

parse -> normalize -> archive -> {index, render, feeds_out}
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime

# Catalog's field types, resolved at run time (the archive's codec reads the type hints).
from devcasts.model import FeedHealth, Include, SiteConfig, Topic

# --- parse (feedparser output, converted at once) -------------------------------------------


@dataclass(frozen=True, slots=True)
class RawEnclosure:
    """An enclosure as the feed wrote it."""

    url: str
    type: str = ""
    length: str = ""


@dataclass(frozen=True, slots=True)
class RawPerson:
    """A podcast:person as the feed wrote it."""

    name: str
    role: str = ""
    group: str = ""
    href: str = ""
    img: str = ""


@dataclass(frozen=True, slots=True)
class RawTranscript:
    """A podcast:transcript as the feed wrote it."""

    url: str
    type: str = ""
    language: str = ""
    rel: str = ""


@dataclass(frozen=True, slots=True)
class RawChapter:
    """A Podlove Simple Chapter as the feed wrote it."""

    start: str  # as written: "00:01:02.5" or seconds
    title: str
    href: str = ""


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One <item>/<entry> as strings, untrusted, length-bounded, nothing sanitized yet."""

    guid: str = ""
    title: str = ""
    link: str = ""
    published: str = ""  # the date as written
    published_parsed: datetime | None = None  # feedparser's reading of it, UTC
    description: str = ""  # summary / itunes:summary / description (HTML or text)
    content: str = ""  # content:encoded (HTML), preferred over description when present
    enclosures: tuple[RawEnclosure, ...] = ()
    duration: str = ""  # itunes:duration as written
    episode: str = ""
    season: str = ""
    episode_type: str = ""
    explicit: str = ""
    image: str = ""
    author: str = ""
    language: str = ""
    categories: tuple[str, ...] = ()
    people: tuple[RawPerson, ...] = ()  # podcast:person, every one of them
    transcripts: tuple[RawTranscript, ...] = ()  # podcast:transcript, every one
    chapters_url: str = ""  # podcast:chapters url
    chapters_type: str = ""
    psc_chapters: tuple[RawChapter, ...] = ()  # Podlove Simple Chapters
    base: str = ""  # xml:base in scope for the notes, as written (may be relative)
    subtitle: str = ""  # itunes:subtitle


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The channel as strings, untrusted, with its items."""

    title: str = ""
    link: str = ""
    description: str = ""
    language: str = ""
    image: str = ""
    author: str = ""
    owner_email: str = ""
    categories: tuple[str, ...] = ()
    explicit: str = ""
    generator: str = ""
    podcast_guid: str = ""
    people: tuple[RawPerson, ...] = ()
    items: tuple[ParsedItem, ...] = ()
    items_left_out: int = 0  # items past limits.MAX_ITEMS, not read
    bozo: bool = False  # not well-formed; parsed by the loose fallback
    bozo_reason: str = ""
    plain_titles: bool = False  # titles are text, not HTML (JSON Feed): "<b>" is three characters


class NotAFeedError(ValueError):
    """The bytes are not a feed (HTML page, empty, binary): a per-feed failure, not a crash."""


# --- normalize ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enclosure:
    """The episode's media file."""

    url: str  # http(s) only
    type: str  # MIME type, guessed from the extension when missing
    length: int | None = None  # bytes


@dataclass(frozen=True, slots=True)
class Chapter:
    """One chapter of an episode."""

    start: float  # seconds from the start
    title: str
    url: str | None = None
    img: str | None = None  # an image for the chapter (chapters files give them)


@dataclass(frozen=True, slots=True)
class Person:
    """A host or guest of a show or an episode."""

    name: str
    slug: str
    role: str = "host"  # podcast:person roles: host, guest, ...
    href: str | None = None
    img: str | None = None
    group: str | None = None  # podcast:person group: cast, writing, audio post-production, ...


@dataclass(frozen=True, slots=True)
class Transcript:
    """A transcript of an episode."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None  # "captions": timed for display over video


@dataclass(frozen=True, slots=True)
class TranscriptTurn:
    """One speaker's turn in a transcript (plain text), cut out of the show notes or read from
    a linked transcript file; `speaker` is "" when the transcript names none."""

    speaker: str
    text: str
    start: float | None = None  # seconds, when the notes gave a time


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a (possibly merged) episode was published: podcast slug and the item's own link."""

    podcast: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Podcast:
    """A show, normalized from its feed and feeds.yaml."""

    slug: str
    title: str
    feed_url: str  # the URL (or path) in feeds.yaml
    link: str | None = None  # the show's website
    description_html: str = ""  # sanitized
    summary: str = ""  # plain text, <= ~300 chars
    image: str | None = None
    language: str | None = None
    author: str = ""
    categories: tuple[str, ...] = ()
    explicit: bool | None = None
    include: Include = "all"
    weight: float = 1.0
    # The key of the feed (FeedSource.slug) this archive belongs to, when it is not `slug`.
    feed_key: str = ""


@dataclass(frozen=True, slots=True)
class Episode:
    """One episode, normalized; the archive fills in the fields after content_hash."""

    id: str  # stable: hash of podcast slug + identity (guid, else enclosure, link, title+date)
    podcast: str  # podcast slug
    guid: str  # the identity string the id came from, as the feed gave it
    title: str
    published: datetime  # UTC
    link: str | None = None  # the original web page, cleaned
    summary: str = ""  # plain text, <= ~300 chars, for lists and search results
    notes_html: str = ""  # sanitized show notes
    text: str = ""  # plain text of the notes, for search
    duration: int | None = None  # seconds
    enclosure: Enclosure | None = None
    chapters: tuple[Chapter, ...] = ()
    chapters_url: str | None = None  # the feed's own podcast:chapters link
    people: tuple[Person, ...] = ()
    transcripts: tuple[Transcript, ...] = ()
    language: str | None = None
    topics: tuple[str, ...] = ()  # topic slugs
    categories: tuple[str, ...] = ()
    image: str | None = None  # falls back to the show's image
    number: int | None = None
    season: int | None = None
    explicit: bool | None = None
    episode_type: str | None = None  # "trailer" or "bonus"; None for a full episode
    date_estimated: bool = False  # no usable date: first-seen time used
    date_clamped: bool = False  # date was in the future: clamped to the build time
    content_hash: str = ""  # hash of the fields above; tells an edit from no change
    # Filled in by the archive:
    slug: str = ""  # permalink segment, fixed at first archive
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    also_in: tuple[SourceRef, ...] = ()  # other places the same episode was published
    featured: bool = False
    # Read from the file chapters_url names (when it was fetched) and kept in the archive, so
    # the site does not depend on that file staying up; shown when linked_chapters_url is still
    # the episode's chapters_url.
    linked_chapters: tuple[Chapter, ...] = ()
    linked_chapters_url: str | None = None
    # The publisher's UTC offset in minutes as the date was written (+60 for "+0100"); None
    # when the feed named no zone. `published` stays UTC; this gives the day they meant.
    utc_offset: int | None = None
    transcript_turns: tuple[TranscriptTurn, ...] = ()  # a transcript cut out of the notes
    # Read from the transcript file linked_transcript_url names (one of `transcripts`, fetched
    # at build time) and kept in the archive, so the site does not depend on the file.
    linked_transcript: tuple[TranscriptTurn, ...] = ()
    linked_transcript_url: str | None = None
    # When a build first read the feed without this episode (None while the feed lists it).
    dropped: datetime | None = None
    # `fingerprint`, once asked: a memo, not a field of the record. It is never compared,
    # shown, written to the archive or copied by dataclasses.replace (a changed copy works
    # out its own).
    _fingerprint: str = field(default="", init=False, repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """A digest of every field but the archive's bookkeeping (BOOKKEEPING): whatever a
        page, a feed or the search index shows of the episode, and more. Worked out once per
        record; the archive's decoded cache keeps it with the record, so an unchanged
        episode costs no hashing on the next build either."""
        if not self._fingerprint:
            object.__setattr__(self, "_fingerprint", _record_digest(self))
        return self._fingerprint


# The archive's bookkeeping: when a build saw an episode and the identity it came from. No
# page or feed shows them (a test holds the templates and the rendering code to it).
BOOKKEEPING = frozenset({"guid", "first_seen", "last_seen", "dropped"})
_DIGESTED = tuple(f.name for f in fields(Episode) if f.init and f.name not in BOOKKEEPING)


def _record_digest(episode: Episode) -> str:
    """Texts are hashed as they are, each after its length (repr would copy and escape the
    show notes); the other values by their repr, which is stable for frozen dataclasses,
    tuples, numbers and datetimes."""
    parts: list[str] = []
    for name in _DIGESTED:
        value = getattr(episode, name)
        if type(value) is str:
            parts += (f"\x00{name}:s{len(value)}:", value)
        else:
            parts += (f"\x00{name}:r:", repr(value))
    return hashlib.sha256("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class NormalizedFeed:
    """What normalize makes of one feed."""

    podcast: Podcast
    episodes: tuple[Episode, ...]
    dropped: int = 0  # items left out (off-topic with include: topics, or unusable)
    merged: int = 0  # duplicates merged inside the feed


# --- archive -> sinks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the sinks need, read-only: the archive after merging and curation."""

    site: SiteConfig
    topics: tuple[Topic, ...]
    podcasts: tuple[Podcast, ...]  # sorted by title
    episodes: tuple[Episode, ...]  # visible episodes, newest first, undated last, ties by id
    health: tuple[FeedHealth, ...] = ()
    built_at: datetime | None = None  # newest episode date: output never depends on the clock
