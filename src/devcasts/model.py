"""The data that flows between stages: frozen dataclasses, no I/O.

config -> fetch -> parse -> normalize -> archive -> {index, render, feeds_out}

Every stage takes and returns these types; no stage reaches into another's internals.
Times are timezone-aware UTC datetimes everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

Include = Literal["all", "topics"]


# --- configuration (feeds.yaml) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Topic:
    """A developer platform the site groups episodes by."""

    slug: str
    name: str
    patterns: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One entry of `feeds:` in feeds.yaml."""

    url: str  # http(s) URL, or a local path already resolved against feeds.yaml's folder
    slug: str  # stable key of the podcast: explicit `slug`, else from `title`, else from the URL
    include: Include = "all"
    title: str | None = None  # display name that overrides the feed's own title
    weight: float = 1.0  # popularity weight (see docs: "popular" ordering)
    line: int = 0  # line in feeds.yaml, for messages

    @property
    def is_local(self) -> bool:
        return not self.url.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The `site:` section of feeds.yaml."""

    title: str
    base_url: str  # absolute, always ends with "/"
    description: str = ""
    language: str = "en"
    author: str = ""
    email: str = ""
    image: str | None = None  # absolute URL or path relative to the site root
    feed_limit: int = 100  # items in each published feed
    block: bool = True  # itunes:block / podcast:block on published feeds
    page_size: int = 30  # episodes per listing page

    @property
    def base_path(self) -> str:
        """The URL path the site lives under: "/" or "/<repo>/"."""
        from urllib.parse import urlsplit

        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"


@dataclass(frozen=True, slots=True)
class Config:
    """feeds.yaml, validated: what a build reads."""

    site: SiteConfig
    topics: tuple[Topic, ...]
    feeds: tuple[FeedSource, ...]
    path: Path  # the feeds.yaml it came from
    content_dir: Path  # hand-written pages and the archive
    templates_dir: Path


# --- fetch ----------------------------------------------------------------------------------


class FetchStatus(StrEnum):
    OK = "ok"  # new body fetched (or read from a local path)
    UNCHANGED = "unchanged"  # 304, or the same bytes as last time; body is the last good copy
    FAILED = "failed"  # this run failed; body is the last good copy, if any
    GONE = "gone"  # 410 now or earlier; not fetched again until its feeds.yaml entry changes
    DEFERRED = "deferred"  # offline, or waiting out a Retry-After; body is the last good copy


# Reads the last good copy kept by fetch, checked against its hash: None if it fails the check.
StoredBodyReader = Callable[[], bytes | None]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One feed's fetch: its status, its bytes (fresh or kept) and its history."""

    source: FeedSource
    status: FetchStatus
    # The bytes, or for a copy kept from an earlier build a reader of it: a build that finds
    # nothing new never reads the bodies it does not parse. `body` gives the bytes either way.
    body_or_reader: bytes | StoredBodyReader | None
    content_hash: str | None  # sha256 hex of body
    headers: dict[str, str] = field(default_factory=dict)  # response headers (lower-case names)
    url: str = ""  # final URL after redirects
    error: str | None = None  # human-readable reason when FAILED / GONE / DEFERRED
    moved_to: str | None = None  # permanent redirect target, to suggest editing feeds.yaml
    moved_count: int = 0  # consecutive fetches redirected permanently to moved_to
    elapsed: float = 0.0
    # The feed's history, kept by fetch in its cache:
    failures: int = 0  # consecutive failed fetches, this one included
    first_failure: datetime | None = None
    last_failure: datetime | None = None
    last_success: datetime | None = None

    @property
    def body(self) -> bytes | None:
        """The bytes to use: fresh, or the last good copy; None if never fetched (or the kept
        copy failed its check: fetch then asks for the whole body next time)."""
        body = self.body_or_reader
        return body() if callable(body) else body


# --- parse (feedparser output, converted at once) ------------------------------------------


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
    bozo: bool = False  # not well-formed; parsed by the loose fallback
    bozo_reason: str = ""


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


@dataclass(frozen=True, slots=True)
class Person:
    """A host or guest of a show or an episode."""

    name: str
    slug: str
    role: str = "host"  # podcast:person roles: host, guest, ...
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """A transcript of an episode."""

    url: str
    type: str
    language: str | None = None


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
    date_estimated: bool = False  # no usable date: first-seen time used
    date_clamped: bool = False  # date was in the future: clamped to the build time
    content_hash: str = ""  # hash of the fields above; tells an edit from no change
    # Filled in by the archive:
    slug: str = ""  # permalink segment, fixed at first archive
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    also_in: tuple[SourceRef, ...] = ()  # other places the same episode was published
    featured: bool = False

    @property
    def path(self) -> str:
        """The episode page's path relative to the site root (with trailing slash)."""
        return f"podcasts/{self.podcast}/{self.slug}/"


@dataclass(frozen=True, slots=True)
class NormalizedFeed:
    """What normalize makes of one feed."""

    podcast: Podcast
    episodes: tuple[Episode, ...]
    dropped: int = 0  # items left out (off-topic with include: topics, or unusable)
    merged: int = 0  # duplicates merged inside the feed


# --- archive -> sinks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """How one feed fared, as the health page and the build summary show it."""

    slug: str
    title: str
    url: str
    status: FetchStatus
    reason: str | None = None
    episodes: int = 0  # archived episodes of this podcast
    new_episodes: int = 0  # added by this build
    failures: int = 0  # consecutive failed builds
    first_failure: datetime | None = None
    last_failure: datetime | None = None
    last_success: datetime | None = None
    moved_to: str | None = None
    moved_count: int = 0  # consecutive builds that saw the same permanent redirect


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the sinks need, read-only: the archive after merging and curation."""

    site: SiteConfig
    topics: tuple[Topic, ...]
    podcasts: tuple[Podcast, ...]  # sorted by title
    episodes: tuple[Episode, ...]  # visible episodes, newest first, ties by id
    health: tuple[FeedHealth, ...] = ()
    built_at: datetime | None = None  # newest episode date: output never depends on the clock
