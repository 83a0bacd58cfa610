"""Small files that feeds link to (chapters JSON files and transcripts; artwork could
follow), fetched through the feed fetcher: the same guarded connections (private networks
refused unless allowed), conditional GET with the kept validators, a size cap after
decompression, one request at a time per host and the dead-host rule (http.HOST_STRIKES).

A build asks only for the files that are due, so a rebuild with nothing new sends nothing:

- a file never fetched is due at once (at most `max_requests` per build, in the order given:
  the rest wait for the next build);
- a kept copy is asked again after its request's `refresh_after` (None: never);
- a failure is tried again after a backoff that doubles up to a week; a 410 Gone is final;
- `offline` asks for nothing and hands on the kept copies.

Kept copies and validators live in the cache folder given (HttpCache, keyed by a hash of the
URL); they are only a saving: whoever uses a file keeps what it made of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devcasts.fetch.cache import CacheEntry, HttpCache, aware, read_stored
from devcasts.fetch.http import FetchOptions, fetch_all_async
from devcasts.model import FeedSource, StoredCopy
from devcasts.util.text import short_hash

__all__ = [
    "FileRequest",
    "LinkedFile",
    "LinkedFiles",
    "fetch_linked_files",
    "json_object_problem",
    "linked_file_options",
]

FIRST_BACKOFF = timedelta(hours=1)
MAX_BACKOFF = timedelta(days=7)
# Names reserved for documentation and tests (RFC 2606, RFC 6761): never a real file, so never
# asked, not even of DNS. Example feeds link to them.
_RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost")
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


@dataclass(frozen=True, slots=True)
class FileRequest:
    """A file wanted; `refresh_after`: how long a kept copy is trusted (None: for good)."""

    url: str
    refresh_after: timedelta | None = None


MAX_REQUESTS = 1000  # files asked per build; the rest wait for the next build


def linked_file_options(cache_dir: Path, **changes: Any) -> FetchOptions:
    """The fetcher's options for linked files: smaller than a feed (1 MiB), quicker to give up
    (15 s a file, 60 s for all of a build's), four at a time, any non-empty body kept unless
    `check_body` says otherwise. `changes` are FetchOptions fields (offline, accept, ...)."""
    defaults: dict[str, Any] = {
        "max_bytes": 1024 * 1024,
        "concurrency": 4,
        "read_timeout": 10.0,
        "deadline": 15.0,
        "build_deadline": 60.0,
        "progress": False,
        "accept": "*/*",
        "check_body": _non_empty,
    }
    return FetchOptions(cache_dir=cache_dir, **(defaults | changes))


@dataclass(frozen=True, slots=True)
class LinkedFile:
    """A file's last good copy (None: there is none yet) and the latest error, if any."""

    url: str
    body: bytes | None
    asked: bool = False  # a request was sent by this build
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LinkedFiles:
    files: Mapping[str, LinkedFile]  # by URL, one per distinct URL requested
    next_due: datetime | None  # the soonest a file requested is due again; None: never
    asked: int = 0
    failed: int = 0


def fetch_linked_files(
    requests: Sequence[FileRequest],
    options: FetchOptions,
    now: datetime,
    max_requests: int = MAX_REQUESTS,
) -> LinkedFiles:
    """Each distinct URL's file: fetched when due (see the module's rules), else as kept."""
    now = aware(now)
    cache = HttpCache(options.cache_dir)
    wanted = _distinct(requests)
    refused = {r.url: problem for r in wanted if (problem := url_problem(r.url)) is not None}
    plans = {r.url: _Plan(r, *cache.load(_source(r.url))) for r in wanted if r.url not in refused}
    due = [] if options.offline else [plan for plan in plans.values() if plan.is_due(now)]
    asked = due[: max(0, max_requests)]
    results = (
        asyncio.run(_fetch([plan.request.url for plan in asked], options, now)) if asked else {}
    )
    if results:
        cache = HttpCache(options.cache_dir)  # the entries as the fetch left them
        for url in results:
            plans[url] = _Plan(plans[url].request, *cache.load(_source(url)))
    files = {url: LinkedFile(url, None, error=problem) for url, problem in refused.items()}
    for url, plan in plans.items():
        files[url] = LinkedFile(url, plan.body(), url in results, results.get(url))
    later = [moment for plan in plans.values() if (moment := plan.due_at(now)) is not None]
    if len(due) > len(asked):
        later.append(now)  # the rest of the queue
    failed = sum(error is not None for error in results.values())
    return LinkedFiles(dict(sorted(files.items())), min(later, default=None), len(results), failed)


def url_problem(url: str) -> str | None:
    """Why a linked URL is never asked for (not http(s), no host, a reserved name), or None."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return "invalid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "not an http(s) URL"
    if not host:
        return "invalid URL: no host"
    if host.endswith(_RESERVED_SUFFIXES) or host in _RESERVED_DOMAINS:
        return f"{host} is reserved for examples"
    if any(host.endswith("." + domain) for domain in _RESERVED_DOMAINS):
        return f"{host} is reserved for examples"
    return None


def json_object_problem(body: bytes) -> str | None:
    """A cheap first look for files that must hold a JSON object: why not, or None."""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        return "empty body"
    if not start.startswith(b"{"):
        return "not a JSON object"
    return None


def _non_empty(body: bytes) -> str | None:
    return None if body.strip() else "empty body"


def backoff(failures: int) -> timedelta:
    """How long after its last failure a file is asked again: 1 h, 2 h, 4 h, ... 7 days."""
    if failures <= 0:
        return timedelta(0)
    doubled: timedelta = FIRST_BACKOFF * (1 << min(failures - 1, 16))
    return min(doubled, MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class _Plan:
    request: FileRequest
    entry: CacheEntry
    stored: StoredCopy | None

    def due_at(self, now: datetime) -> datetime | None:
        """When the file should next be asked for; None: never again."""
        entry = self.entry
        if entry.gone is not None:
            return None
        if entry.retry_after is not None and now < entry.retry_after:
            return entry.retry_after
        if entry.failures and entry.last_failure is not None:
            return entry.last_failure + backoff(entry.failures)
        if self.stored is not None and entry.last_success is not None:
            refresh = self.request.refresh_after
            return None if refresh is None else entry.last_success + refresh
        return now

    def is_due(self, now: datetime) -> bool:
        moment = self.due_at(now)
        return moment is not None and moment <= now

    def body(self) -> bytes | None:
        return None if self.stored is None else read_stored(self.stored)


def _distinct(requests: Sequence[FileRequest]) -> list[FileRequest]:
    """One request per URL, in the order given; the most eager refresh wins."""
    chosen: dict[str, FileRequest] = {}
    for request in requests:
        known = chosen.get(request.url)
        if known is None or _sooner(request.refresh_after, known.refresh_after):
            chosen[request.url] = request  # a key set again keeps its place
    return list(chosen.values())


def _sooner(a: timedelta | None, b: timedelta | None) -> bool:
    return a is not None and (b is None or a < b)


def _source(url: str) -> FeedSource:
    """The fetcher's handle on a linked file: its URL, and a hash of it as the cache key."""
    return FeedSource(url=url, slug="file-" + short_hash(url, 24))


async def _fetch(
    urls: Sequence[str], options: FetchOptions, now: datetime
) -> dict[str, str | None]:
    """Ask for each URL; the error of each, None when a good copy is kept."""
    results = await fetch_all_async([_source(url) for url in urls], options, now)
    return {result.source.url: result.error for result in results}
