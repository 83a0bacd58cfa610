"""The data that flows between stages: frozen dataclasses, no I/O.

config -> fetch -> parse -> normalize -> archive -> {index, render, feeds_out}

Every stage takes and returns these types; no stage reaches into another's internals.
Times are timezone-aware UTC datetimes everywhere.

This module holds what every build handles: the configuration, what fetching gave, and how
each feed fared. Parsed items, episodes, podcasts and the catalog, which only a build that
finds something new handles, are in records.py: a build with nothing new never loads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from devcasts.records import NormalizedFeed  # made only by a build that reads a feed

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
    # The feed's stable key (explicit `slug`, else from `title`, else from the URL): episode
    # ids hash it. The podcast's URL takes the slug its archive file fixed (archive/merge.py).
    slug: str
    include: Include = "all"
    title: str | None = None  # display name that overrides the feed's own title
    weight: float = 1.0  # popularity weight (see docs: "popular" ordering)
    line: int = 0  # line in feeds.yaml, for messages
    slug_given: bool = False  # `slug:` is in feeds.yaml: the podcast's URL uses it as it is

    @property
    def is_local(self) -> bool:
        # Schemes are case-insensitive: HTTP://host/feed is a URL, never a file of that name.
        return not self.url[:8].lower().startswith(("http://", "https://"))


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


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """Where fetch keeps the last good copy of a feed, and the hash it must have.

    Only a handle: `devcasts.fetch.cache.read_body` reads and checks it, when a build parses the
    feed again. A build that finds nothing new reads none of them.
    """

    path: Path
    content_hash: str  # sha256 hex


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One feed's fetch: its status, its bytes (or where the kept copy is) and its history."""

    source: FeedSource
    status: FetchStatus
    # The bytes this fetch got, or for a copy kept from an earlier build where it is; None if
    # the feed was never fetched.
    body: bytes | StoredCopy | None
    content_hash: str | None  # sha256 hex of the body
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


# --- the build's report ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """How one feed fared in a build: fetched (new bytes or not); parsed into a NormalizedFeed;
    or failed, by its fetch or because its bytes are not a feed devcasts can read."""

    fetched: FetchResult
    feed: NormalizedFeed | None = None  # parsed and normalized by this build
    read_error: str | None = None  # why this build could not read the fetched bytes
    read_warning: str | None = None  # read, but not whole (items past the cap left out)
    new_episodes: int = 0  # added to the archive by this build

    @property
    def source(self) -> FeedSource:
        return self.fetched.source

    @property
    def status(self) -> FetchStatus:
        return FetchStatus.FAILED if self.read_error is not None else self.fetched.status

    @property
    def reason(self) -> str | None:
        if self.read_error is not None:
            return self.read_error
        return self.fetched.error or self.read_warning

    @property
    def was_read(self) -> bool:
        """This build parsed the feed's bytes (successfully or not)."""
        return self.feed is not None or self.read_error is not None


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
