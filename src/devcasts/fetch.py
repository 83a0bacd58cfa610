"""Fetch feeds over HTTP (the only module that touches the network) and keep the HTTP cache.

The work of one feed is a small pipe:

    load cache -> precheck (gone? offline? Retry-After?) -> download or read -> decide -> save

`precheck` and `decide` are pure: they turn the cache entry and what the server (or the disk)
answered into a FetchResult and the next cache entry. Only `_download` and `_read_local` do I/O.
A feed's failure travels as a FetchResult with status FAILED, never as an exception.

Requests go through the standard library's http.client on a few threads, one request at a time
per host, each connection opened through netguard. On a build that finds nothing new, the
servers' answers are most of the time: an async client stack (httpx, httpcore, anyio) spent
three times the CPU of this one on the same 200 conditional GETs, and 60 ms more to import.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import http.client
import itertools
import json
import logging
import os
import re
import socket
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit, urlunsplit

from . import USER_AGENT
from .model import FeedSource, FetchResult, FetchStatus
from .netguard import (
    BlockedAddressError,
    ConnectError,
    ConnectTimeoutError,
    Guard,
    allow_all,
    public_only,
)
from .text import slugify

if TYPE_CHECKING:
    from rich.console import Console

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = timedelta(days=1)  # a server cannot hide a feed for longer than this
# How stale a stored last_success may grow before an unchanged feed's entry is written again.
SUCCESS_PRECISION = timedelta(hours=1)
_CACHE_VERSION = 1
_KEPT_HEADERS = ("content-type", "content-language", "content-location", "etag", "last-modified")
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "application/feed+json;q=0.8, */*;q=0.1"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_MAX_ERROR_LENGTH = 300


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How to fetch: the CLI's --cache, --offline, --allow-private-network, --max-feed-size and
    --concurrency, plus limits that tests shrink."""

    cache_dir: Path  # the HTTP cache itself: <slug>.json and <slug>.body (e.g. .cache/http)
    offline: bool = False  # no network: last good copies only (status DEFERRED)
    allow_private_network: bool = False
    max_bytes: int = 20 * 1024 * 1024  # counted after decompression
    concurrency: int = 8  # global; one request at a time per host
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    deadline: float = 30.0  # whole fetch of one feed, redirects included
    max_redirects: int = 5
    progress: bool | None = None  # None: a progress bar when stderr is a terminal


# --- the cache record -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What the cache remembers of one feed between builds (JSON beside the body file)."""

    url: str = ""  # the feeds.yaml URL (or path) this entry belongs to
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None  # sha256 of the last good body
    headers: dict[str, str] = field(default_factory=dict)  # of the last good response
    final_url: str = ""
    gone: str | None = None  # fingerprint of the URL that answered 410
    gone_reason: str | None = None
    retry_after: datetime | None = None  # do not ask before this time
    retry_reason: str | None = None
    failures: int = 0
    first_failure: datetime | None = None
    last_failure: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    moved_to: str | None = None  # last permanent redirect target
    moved_count: int = 0  # consecutive fetches that reported the same moved_to


def url_fingerprint(url: str) -> str:
    """Identifies a feeds.yaml URL; a GONE mark holds only while the URL stays the same."""
    return hashlib.sha256(url.strip().encode("utf-8", "surrogatepass")).hexdigest()[:16]


_DATE_FIELDS = ("retry_after", "first_failure", "last_failure", "last_success")
_INT_FIELDS = ("failures", "moved_count")


def _entry_to_json(entry: CacheEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"version": _CACHE_VERSION}
    for name in CacheEntry.__slots__:
        value = getattr(entry, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    return data


def _entry_from_json(data: object) -> CacheEntry:
    """Raises ValueError (or TypeError) on anything but a well-formed entry."""
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        raise ValueError("unknown cache format")
    values: dict[str, Any] = {}
    for name in CacheEntry.__slots__:
        if name not in data:
            continue
        value = data[name]
        if name in _DATE_FIELDS:
            value = None if value is None else _aware(datetime.fromisoformat(value))
        elif name == "headers":
            value = {str(k): str(v) for k, v in dict(value).items()}
        elif not isinstance(value, int if name in _INT_FIELDS else (str, type(None))):
            raise TypeError(f"{name} has the wrong type")
        values[name] = value
    return CacheEntry(**values)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class HttpCache:
    """`<root>/<slug>.json` (CacheEntry) and `<slug>.body` (the last good body)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stored: dict[Path, CacheEntry] = {}  # entries as load() read them from disk

    def paths(self, source: FeedSource) -> tuple[Path, Path]:
        key = slugify(source.slug)
        return self.root / f"{key}.json", self.root / f"{key}.body"

    def load(self, source: FeedSource) -> tuple[CacheEntry, bytes | None]:
        """The entry and the last good body; a damaged cache is logged and treated as empty."""
        meta_path, body_path = self.paths(source)
        try:
            entry = _entry_from_json(json.loads(meta_path.read_bytes()))
        except FileNotFoundError:
            return CacheEntry(url=source.url), None
        except (OSError, ValueError, TypeError, AttributeError) as error:
            log.warning("ignoring damaged cache file %s (%s); fetching afresh", meta_path, error)
            return CacheEntry(url=source.url), None
        self._stored[meta_path] = entry
        body = self._load_body(body_path, entry.content_hash)
        if body is None and entry.content_hash is not None:
            entry = replace(entry, content_hash=None, etag=None, last_modified=None)
        if entry.url != source.url:  # feeds.yaml entry changed: forget what the old URL said
            entry = replace(
                entry, url=source.url, etag=None, last_modified=None, gone=None,
                gone_reason=None, retry_after=None, retry_reason=None, moved_to=None,
                moved_count=0,
            )  # fmt: skip
        return entry, body

    def _load_body(self, path: Path, expected_hash: str | None) -> bytes | None:
        if expected_hash is None:
            return None
        try:
            body = path.read_bytes()
        except OSError as error:
            log.warning("cached body %s is unreadable (%s); fetching afresh", path, error)
            return None
        if _sha256(body) != expected_hash:
            log.warning("cached body %s does not match its hash; fetching afresh", path)
            return None
        return body

    def save(self, source: FeedSource, entry: CacheEntry, new_body: bytes | None) -> None:
        """Write the body first (when it changed), then the entry that points at it.

        An entry that differs from the stored one only by a recent last_success is not written:
        a build that finds nothing new leaves the cache as it was.
        """
        meta_path, body_path = self.paths(source)
        stored = self._stored.get(meta_path)
        if new_body is None and stored is not None and _only_fresher(stored, entry):
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if new_body is not None:
            _write_atomically(body_path, new_body)
        text = json.dumps(_entry_to_json(entry), indent=1, sort_keys=True)
        _write_atomically(meta_path, text.encode("utf-8"))


def _only_fresher(stored: CacheEntry, entry: CacheEntry) -> bool:
    """Equal but for a last_success at most SUCCESS_PRECISION newer than the stored one."""
    if stored.last_success is None or entry.last_success is None:
        return stored == entry
    newer_by = entry.last_success - stored.last_success
    same = replace(entry, last_success=stored.last_success) == stored
    return same and timedelta(0) <= newer_by <= SUCCESS_PRECISION


def _write_atomically(path: Path, data: bytes) -> None:
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(data)
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- what one attempt produced, and what it means (pure) -----------------------------------

ExchangeKind = Literal["body", "not_modified", "failed", "gone", "retry_later"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """The answer of the server (or the disk) to one fetch, before any decision."""

    kind: ExchangeKind
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    moved_to: str | None = None
    retry_at: datetime | None = None


def precheck(
    source: FeedSource, entry: CacheEntry, body: bytes | None, options: FetchOptions, now: datetime
) -> FetchResult | None:
    """A result that needs no request (gone, offline, Retry-After pending), or None."""
    if entry.gone is not None and entry.gone == url_fingerprint(source.url):
        reason = entry.gone_reason or "HTTP 410 Gone"
        return _cached_result(source, entry, body, FetchStatus.GONE, f"{reason} (remembered)")
    if options.offline and not source.is_local:
        reason = "offline: using the cached copy" if body else "offline: no cached copy yet"
        return _cached_result(source, entry, body, FetchStatus.DEFERRED, reason)
    if entry.retry_after is not None and now < entry.retry_after and not source.is_local:
        until = entry.retry_after.strftime("%Y-%m-%d %H:%M:%S UTC")
        reason = f"{entry.retry_reason or 'server asked to wait'}; next try after {until}"
        return _cached_result(source, entry, body, FetchStatus.DEFERRED, reason)
    return None


def decide(
    source: FeedSource,
    entry: CacheEntry,
    cached_body: bytes | None,
    exchange: Exchange,
    now: datetime,
) -> tuple[FetchResult, CacheEntry, bytes | None]:
    """The result, the next cache entry, and the body to store (None: keep the stored one)."""
    entry = _note_redirect(entry, exchange.moved_to)
    if exchange.kind == "body":
        assert exchange.body is not None
        problem = not_a_feed_reason(exchange.body)
        if problem is not None:
            exchange = replace(exchange, kind="failed", error=problem)
        else:
            return _decide_body(source, entry, cached_body, exchange, now)
    if exchange.kind == "not_modified":
        if cached_body is not None:
            return _decide_not_modified(source, entry, cached_body, exchange, now)
        exchange = replace(exchange, kind="failed", error="HTTP 304 Not Modified, no cached copy")
        entry = replace(entry, etag=None, last_modified=None)  # ask without validators next time
    if exchange.kind == "retry_later":
        entry = replace(entry, retry_after=exchange.retry_at, retry_reason=exchange.error)
        result = _cached_result(source, entry, cached_body, FetchStatus.DEFERRED, exchange.error)
        return replace(result, url=exchange.url, moved_to=exchange.moved_to), entry, None
    entry = _note_failure(entry, exchange.error or "failed", now)
    status = FetchStatus.FAILED
    if exchange.kind == "gone":
        status = FetchStatus.GONE
        entry = replace(entry, gone=url_fingerprint(source.url), gone_reason=exchange.error)
    result = _cached_result(source, entry, cached_body, status, exchange.error)
    return replace(result, url=exchange.url, moved_to=exchange.moved_to), entry, None


def _decide_body(
    source: FeedSource, entry: CacheEntry, cached_body: bytes | None, ex: Exchange, now: datetime
) -> tuple[FetchResult, CacheEntry, bytes | None]:
    assert ex.body is not None
    digest = _sha256(ex.body)
    unchanged = cached_body is not None and digest == entry.content_hash
    entry = _note_success(entry, ex, now)
    entry = replace(entry, content_hash=digest, headers=_kept(ex.headers))
    status = FetchStatus.UNCHANGED if unchanged else FetchStatus.OK
    result = _result(source, entry, status, ex.body, ex.headers, ex.url, ex.moved_to)
    return result, entry, None if unchanged else ex.body


def _decide_not_modified(
    source: FeedSource, entry: CacheEntry, cached_body: bytes, ex: Exchange, now: datetime
) -> tuple[FetchResult, CacheEntry, bytes | None]:
    headers = {**entry.headers, **_kept(ex.headers)}
    entry = replace(_note_success(entry, ex, now), headers=headers)
    result = _result(source, entry, FetchStatus.UNCHANGED, cached_body, headers, ex.url, None)
    return replace(result, moved_to=ex.moved_to), entry, None


def _note_success(entry: CacheEntry, ex: Exchange, now: datetime) -> CacheEntry:
    return replace(
        entry,
        etag=ex.headers.get("etag", entry.etag if ex.kind == "not_modified" else None),
        last_modified=ex.headers.get(
            "last-modified", entry.last_modified if ex.kind == "not_modified" else None
        ),
        final_url=ex.url,
        failures=0,
        first_failure=None,
        last_success=now,
        last_error=None,
        retry_after=None,
        retry_reason=None,
    )


def _note_failure(entry: CacheEntry, error: str, now: datetime) -> CacheEntry:
    return replace(
        entry,
        failures=entry.failures + 1,
        first_failure=entry.first_failure if entry.failures else now,
        last_failure=now,
        last_error=error,
        retry_after=None,
        retry_reason=None,
    )


def _note_redirect(entry: CacheEntry, moved_to: str | None) -> CacheEntry:
    if moved_to is None:
        return replace(entry, moved_to=None, moved_count=0)
    count = entry.moved_count + 1 if entry.moved_to == moved_to else 1
    return replace(entry, moved_to=moved_to, moved_count=count)


def _kept(headers: dict[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in _KEPT_HEADERS if name in headers}


def _cached_result(
    source: FeedSource,
    entry: CacheEntry,
    body: bytes | None,
    status: FetchStatus,
    error: str | None,
) -> FetchResult:
    url = entry.final_url or source.url
    result = _result(source, entry, status, body, dict(entry.headers), url, entry.moved_to)
    return replace(result, error=error)


def _result(  # `body` is the one whose hash entry.content_hash holds (checked when loaded)
    source: FeedSource,
    entry: CacheEntry,
    status: FetchStatus,
    body: bytes | None,
    headers: dict[str, str],
    url: str,
    moved_to: str | None,
) -> FetchResult:
    return FetchResult(
        source=source,
        status=status,
        body=body,
        content_hash=None if body is None else entry.content_hash or _sha256(body),
        headers=headers if body is not None else {},
        url=url,
        moved_to=moved_to,
        failures=entry.failures,
        first_failure=entry.first_failure,
        last_failure=entry.last_failure,
        last_success=entry.last_success,
    )


# --- "is this a feed at all?" (cheap; deep parsing belongs to parse.py) --------------------

_UTF_PATTERNS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_PROLOG = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)*", re.IGNORECASE | re.DOTALL)
_FIRST_TAG = re.compile(r"<([a-zA-Z][\w:.-]*)")
_FEED_ROOT = re.compile(r"<(?:[\w.-]+:)?(?:rss|feed|rdf|channel|opml)\b", re.IGNORECASE)
_HTML_TAGS = frozenset({"html", "head", "body", "meta", "title", "div", "p", "h1", "script"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SNIFF_BYTES = 4096


def not_a_feed_reason(body: bytes) -> str | None:
    """Why `body` is surely not a feed (empty, an HTML page, binary data), or None."""
    if not body.strip():
        return "not a feed: empty body"
    start = _decode_head(body[:_SNIFF_BYTES]).lstrip("\ufeff")
    prolog = _PROLOG.match(start)
    rest = start[prolog.end() if prolog else 0 :]
    tag = _FIRST_TAG.match(rest)
    if tag and tag.group(1).lower() in _HTML_TAGS:
        return "not a feed: looks like an HTML page"
    # JSON Feed, or a feed root within reach (stray NULs, notices before it): the parser judges
    if rest.startswith("{") or _FEED_ROOT.search(start):
        return None
    if "\x00" in start or len(_CONTROL.findall(start)) > len(start) // 10:
        return "not a feed: binary data"
    if not tag and re.search(r"<!doctype\s+html", start, re.IGNORECASE):
        return "not a feed: looks like an HTML page"
    if rest and not rest.startswith("<"):
        return "not a feed: plain text, not XML"
    return None


def _decode_head(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", "replace")
    for marker, encoding in _UTF_PATTERNS:
        if head.startswith(marker):
            width = 4 if "32" in encoding else 2
            usable = head[: len(head) - len(head) % width]
            return usable.decode(encoding, "replace").lstrip("\ufeff")
    return head.decode("latin-1")  # any ASCII-compatible encoding shows its markup this way


# --- bodies: bounded after decompression ---------------------------------------------------


class BodyError(Exception):
    """The body cannot be used (too large, bad compression); str() is the reason."""


def human_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} bytes"


def _too_large(max_bytes: int) -> BodyError:
    return BodyError(f"body larger than {human_size(max_bytes)}")


_UNSUPPORTED_CODINGS = frozenset({"br", "zstd", "compress", "x-compress"})  # never asked for


class BoundedDecoder:
    """Undo Content-Encoding (gzip, deflate) without ever producing more than `limit` bytes.

    zlib's `max_length` bounds each step, so a small gzip bomb never expands in memory: output
    beyond the limit is not produced at all.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        unsupported = [c for c in codings if c in _UNSUPPORTED_CODINGS]
        if unsupported:
            raise BodyError(f"unsupported content encoding {unsupported[0]!r}")
        # Codings are listed in the order they were applied, so undo them from the last. Names
        # that are no compression at all ("utf-8", "none": seen on misconfigured servers) are
        # ignored, as browsers do.
        inflatable = [c for c in reversed(codings) if c in ("gzip", "x-gzip", "deflate")]
        self._stages = [_Inflater(c) for c in inflatable]
        self.limit = limit
        self.size = 0

    def feed(self, data: bytes) -> bytes:
        for stage in self._stages:
            data = self._through(stage, data)
        return self._count(data)

    def finish(self) -> bytes:
        data = b""
        for stage in self._stages:
            data = self._through(stage, data) + stage.finish()
        return self._count(data)

    def _through(self, stage: _Inflater, data: bytes) -> bytes:
        out, capped = stage.feed(data, self.limit - self.size + 1)
        if capped:  # this layer alone would exceed the limit (an inner layer of a bomb)
            raise _too_large(self.limit)
        return out

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise _too_large(self.limit)
        return data


class _Inflater:
    """One gzip or deflate layer; deflate may come with or without its zlib header."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._pending = b""  # deflate: bytes kept until the header can be recognized
        self._zlib: Any = None
        if coding != "deflate":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        """At most `limit` bytes of output, and whether input was left over at that point."""
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return b"", False
            data, self._pending = self._pending, b""
            zlib_header = data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        try:
            return self._inflate(data, limit)
        except zlib.error as error:
            raise BodyError(f"damaged {self._coding} body ({error})") from error

    def _inflate(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        out = bytearray()
        while data and len(out) < limit:
            out += self._zlib.decompress(data, limit - len(out))
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:  # another gzip member may follow; other trailing bytes are junk
                rest = self._zlib.unused_data
                data = rest if self._coding != "deflate" and rest[:2] == b"\x1f\x8b" else b""
                if data:
                    self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return bytes(out), bool(data)

    def finish(self) -> bytes:
        if self._zlib is None or not self._zlib.eof:
            raise BodyError(f"truncated body: the {self._coding} stream ends early")
        return b""


# --- talking to servers ---------------------------------------------------------------------


def _status_text(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as a moment (seconds or an HTTP date), clamped to [now, now + 1 day]."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" is a digit to isdigit, not to int
        moment = now + timedelta(seconds=min(int(value), MAX_RETRY_AFTER.total_seconds()))
    else:
        try:
            moment = _aware(parsedate_to_datetime(value))
        except (TypeError, ValueError, IndexError):
            return None
    return min(max(moment, now), now + MAX_RETRY_AFTER)


def _request_headers(entry: CacheEntry, has_body: bool) -> dict[str, str]:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": _ACCEPT,
        "Accept-Encoding": "gzip, deflate",
        "Connection": "close",  # one request per connection: nothing idles in a pool
    }
    if has_body and entry.etag:
        headers["If-None-Match"] = entry.etag
    if has_body and entry.last_modified:
        headers["If-Modified-Since"] = entry.last_modified
    return headers


@dataclass(frozen=True, slots=True)
class _Target:
    """An http(s) URL taken apart for a request: host in ASCII, path and query escaped."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # the request target: path and query
    authorization: str | None  # Basic credentials from the URL's user:password@, if any


_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def _target(url: str) -> _Target:
    """Raises ValueError (or UnicodeError) when `url` is no usable http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"unsupported scheme {parts.scheme[:20]!r}")
    host = parts.hostname
    if not host:
        raise ValueError("no host")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    if any(char in path for char in " \t\r\n\x00"):
        raise ValueError("control characters in the path")
    url = urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    return _Target(url, scheme, host, port, path, _basic_credentials(parts))


def _basic_credentials(parts: SplitResult) -> str | None:
    """Private feeds put their credentials in the URL: they go to that URL only."""
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


class _Deadline:
    """The whole fetch of one feed, redirects included: past it, the open socket is shut down
    (by the watchdog), so not even a server that trickles its headers can hold the build."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self.sock: socket.socket | None = None

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expire(self) -> None:
        self.expired = True
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread that expires deadlines: cheaper than a timer thread per request."""

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._closed = False
        self._thread: threading.Thread | None = None

    def watch(self, deadline: _Deadline) -> None:
        with self._wakeup:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fetch-deadlines")
                self._thread.daemon = True
                self._thread.start()
            elif self._heap[0][2] is deadline:  # sooner than what the thread waits for
                self._wakeup.notify()

    def close(self) -> None:
        with self._wakeup:
            self._closed = True
            self._wakeup.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        with self._wakeup:
            while not self._closed:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    deadline = heapq.heappop(self._heap)[2]
                    if not deadline.finished:
                        deadline.expire()
                self._wakeup.wait(self._heap[0][0] - now if self._heap else None)


class _DeadlineExpired(Exception):
    """The deadline passed between two steps of a fetch."""


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: dict[str, str]  # names in lower case; repeated headers joined with ", "
    body: bytes | None  # read only for 2xx answers


def _exchange_once(
    target: _Target,
    headers: dict[str, str],
    guard: Guard,
    options: FetchOptions,
    deadline: _Deadline,
) -> _Response:
    """One request on its own connection."""
    connect_timeout = min(options.connect_timeout, deadline.left())
    sock = guard.connect(target.host, target.port, connect_timeout)
    deadline.sock = sock
    connection = http.client.HTTPConnection(target.host, target.port)
    try:
        if deadline.expired:
            raise _DeadlineExpired
        if target.scheme == "https":
            sock = guard.wrap_tls(sock, target.host)
            deadline.sock = sock
        sock.settimeout(min(options.read_timeout, deadline.left()) or 0.001)
        connection.sock = sock  # connected, vetted, and wrapped already
        if target.authorization:
            headers = {**headers, "Authorization": target.authorization}
        connection.request("GET", target.path, headers=headers)
        response = connection.getresponse()
        answer = _Response(response.status, _header_dict(response.getheaders()), None)
        if 200 <= response.status < 300:
            body = _read_body(response, answer.headers, sock, options, deadline)
            answer = replace(answer, body=body)
        if deadline.expired:  # the socket was shut down: what came may be cut anywhere
            raise _DeadlineExpired
        return answer
    finally:
        deadline.sock = None
        connection.close()  # the response too, which holds the socket's file
        sock.close()


def _header_dict(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _read_body(
    response: http.client.HTTPResponse,
    headers: dict[str, str],
    sock: socket.socket,
    options: FetchOptions,
    deadline: _Deadline,
) -> bytes:
    """Stream the body, decompressing by hand so the cap applies to the decompressed size."""
    encoding = headers.get("content-encoding", "")
    declared = headers.get("content-length", "")
    known = declared.isascii() and declared.isdigit()
    if not encoding and known and int(declared) > options.max_bytes:
        size = human_size(int(declared))
        raise BodyError(f"body larger than {human_size(options.max_bytes)} ({size})")
    decoder = BoundedDecoder(encoding, options.max_bytes)
    body = bytearray()
    while chunk := response.read1(_CHUNK):
        body += decoder.feed(chunk)
        sock.settimeout(min(options.read_timeout, deadline.left()) or 0.001)
    if response.length:  # the connection closed before Content-Length bytes came
        raise http.client.IncompleteRead(bytes(body), response.length)
    body += decoder.finish()
    return bytes(body)


_CHUNK = 1 << 16


def _download(
    source: FeedSource,
    entry: CacheEntry,
    has_body: bool,
    options: FetchOptions,
    now: datetime,
    guard: Guard,
    watchdog: _Watchdog,
) -> Exchange:
    """GET the feed, following at most max_redirects redirects by hand (to report them)."""
    deadline = _Deadline(options.deadline)
    watchdog.watch(deadline)
    try:
        return _follow(source, entry, has_body, options, now, guard, deadline)
    except Exception as error:
        if deadline.expired or isinstance(error, _DeadlineExpired):
            error_text = f"timed out after {options.deadline:g} s"
            return Exchange("failed", source.url, error=error_text)
        if isinstance(error, ValueError | UnicodeError | OSError | http.client.HTTPException):
            return Exchange("failed", source.url, error=describe_error(error, options))
        if isinstance(error, BodyError | BlockedAddressError | ConnectError):
            return Exchange("failed", source.url, error=describe_error(error, options))
        raise
    finally:
        deadline.finished = True


def _follow(
    source: FeedSource,
    entry: CacheEntry,
    has_body: bool,
    options: FetchOptions,
    now: datetime,
    guard: Guard,
    deadline: _Deadline,
) -> Exchange:
    target = _target(source.url)
    visited = {target.url}
    moved_to: str | None = None
    permanent_so_far = True
    headers = _request_headers(entry, has_body)
    for _ in range(options.max_redirects + 1):
        response = _exchange_once(target, headers, guard, options, deadline)
        if response.status not in _REDIRECTS:
            return _answer(response, target.url, moved_to, now)
        next_target = _redirect_target(response, target.url)
        if isinstance(next_target, str):
            return Exchange("failed", target.url, error=next_target, moved_to=moved_to)
        permanent_so_far = permanent_so_far and response.status in _PERMANENT
        if permanent_so_far:
            moved_to = next_target.url
        if next_target.url in visited:
            return Exchange("failed", target.url, error=f"redirect loop at {next_target.url}")
        visited.add(next_target.url)
        target = next_target
    error = f"too many redirects (more than {options.max_redirects})"
    return Exchange("failed", target.url, error=error, moved_to=moved_to)


def _redirect_target(response: _Response, url: str) -> _Target | str:
    """The next URL, or why there is none."""
    location = response.headers.get("location", "").strip()
    if not location:
        return f"{_status_text(response.status)} without a Location header"
    joined = urljoin(url, location)
    scheme = urlsplit(joined).scheme.lower() if ":" in joined else ""
    if scheme not in ("http", "https"):
        return f"redirect to a {scheme[:20]!r} URL refused (only http and https)"
    try:
        return _target(joined)
    except (ValueError, UnicodeError):
        return "redirect to an invalid URL"


def _answer(response: _Response, url: str, moved_to: str | None, now: datetime) -> Exchange:
    code = response.status
    headers = response.headers
    if 200 <= code < 300:
        return Exchange("body", url, body=response.body, headers=headers, moved_to=moved_to)
    if code == 304:
        return Exchange("not_modified", url, headers=headers, moved_to=moved_to)
    if code == 410:
        return Exchange("gone", url, error=_status_text(code), moved_to=moved_to)
    retry_at = parse_retry_after(headers.get("retry-after"), now) if code in (429, 503) else None
    if retry_at is not None:
        error = f"{_status_text(code)}: the server asked to retry later"
        return Exchange("retry_later", url, error=error, moved_to=moved_to, retry_at=retry_at)
    return Exchange("failed", url, error=_status_text(code), moved_to=moved_to)


def _url_problem(url: str) -> str | None:
    """Why a feeds.yaml entry cannot be fetched at all, or None (local paths are fine)."""
    if not url.startswith(("http://", "https://")):
        return None
    try:
        _target(url)
    except (ValueError, UnicodeError) as error:
        return f"invalid URL: {_clean(str(error))}"
    return None


def _read_local(source: FeedSource, max_bytes: int) -> Exchange:
    path = Path(source.url)
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return Exchange("failed", source.url, error=f"file not found: {path}")
    except OSError as error:
        return Exchange("failed", source.url, error=f"cannot read {path}: {error.strerror}")
    if len(body) > max_bytes:
        return Exchange("failed", source.url, error=f"file larger than {human_size(max_bytes)}")
    return Exchange("body", source.url, body=body)


def describe_error(error: BaseException, options: FetchOptions) -> str:
    """A short reason a user can act on, for any exception a download may raise."""
    message = _clean(str(error))
    if isinstance(error, BodyError | BlockedAddressError):
        return message
    if isinstance(error, ConnectTimeoutError):
        return f"could not connect within {options.connect_timeout:g} s"
    if isinstance(error, ConnectError):
        return f"could not connect: {message}"
    if isinstance(error, TimeoutError):
        return f"no data for {options.read_timeout:g} s (read timeout)"
    if isinstance(error, http.client.IncompleteRead):
        return "truncated body: the connection closed before the whole body arrived"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(error, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return "connection reset by the server"
    if isinstance(error, http.client.HTTPException):
        return f"HTTP protocol error: {message or type(error).__name__}"
    if isinstance(error, ValueError | UnicodeError):
        return f"invalid URL: {message}"
    if isinstance(error, OSError):
        return f"network error: {message}" if message else "network error"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _clean(text: str) -> str:
    """Exception text may quote server bytes: no control characters, bounded length."""
    text = _CONTROL.sub(" ", text).replace("\n", " ").replace("\r", " ").strip()
    return text[:_MAX_ERROR_LENGTH]


# --- many feeds at once ---------------------------------------------------------------------

ResultCallback = Callable[[FetchResult], None]


class _Fetcher:
    """Fetches feeds on a few threads: one request at a time per host, hosts in parallel."""

    def __init__(
        self,
        options: FetchOptions,
        now: datetime,
        on_done: ResultCallback | None,
        guard: Guard,
    ) -> None:
        self.options = options
        self.now = now
        self.on_done = on_done
        self.guard = guard
        self.cache = HttpCache(options.cache_dir)
        self.watchdog = _Watchdog()

    def fetch_all(self, sources: Sequence[FeedSource]) -> list[FetchResult]:
        """Results in the order of `sources`; each host's feeds one after the other."""
        results: list[FetchResult | None] = [None] * len(sources)

        def fetch_group(indexes: list[int]) -> None:
            for index in indexes:
                results[index] = self.fetch(sources[index])

        groups = _host_groups(sources)
        try:
            if len(groups) == 1:
                fetch_group(groups[0])
            else:
                workers = max(1, min(self.options.concurrency, len(groups)))
                with ThreadPoolExecutor(workers, thread_name_prefix="fetch") as pool:
                    list(pool.map(fetch_group, groups))
        finally:
            self.watchdog.close()
        return [result for result in results if result is not None]

    def fetch(self, source: FeedSource) -> FetchResult:
        try:
            result = self._fetch(source)
        except Exception as error:  # a bug or a full disk must not stop the other feeds
            log.exception("fetching %s failed unexpectedly", source.url)
            reason = f"internal error: {describe_error(error, self.options)}"
            result = FetchResult(source, FetchStatus.FAILED, None, None, error=reason)
        if self.on_done is not None:
            self.on_done(result)
        return result

    def _fetch(self, source: FeedSource) -> FetchResult:
        entry, cached_body = self.cache.load(source)
        early = precheck(source, entry, cached_body, self.options, self.now)
        if early is not None:
            return early
        started = time.monotonic()
        exchange = self._exchange(source, entry, cached_body is not None)
        elapsed = time.monotonic() - started
        result, new_entry, new_body = decide(source, entry, cached_body, exchange, self.now)
        try:
            self.cache.save(source, new_entry, new_body)
        except OSError as error:  # the fetch itself worked: report it, remember it next time
            log.warning("could not write the cache of %s: %s", source.slug, error)
        return replace(result, elapsed=round(elapsed, 3))

    def _exchange(self, source: FeedSource, entry: CacheEntry, has_body: bool) -> Exchange:
        """What the server or the disk answered."""
        url_problem = _url_problem(source.url)
        if url_problem is not None:
            return Exchange("failed", source.url, error=url_problem)
        if source.is_local:
            return _read_local(source, self.options.max_bytes)
        return _download(source, entry, has_body, self.options, self.now, self.guard, self.watchdog)


def _host_groups(sources: Sequence[FeedSource]) -> list[list[int]]:
    """Indexes of `sources` by host, in order of first appearance; local files and unusable
    URLs each on their own."""
    groups: dict[str, list[int]] = {}
    for index, source in enumerate(sources):
        key = f"#{index}"
        if not source.is_local:
            with contextlib.suppress(ValueError):
                key = (urlsplit(source.url).hostname or key).lower()
        groups.setdefault(key, []).append(index)
    return list(groups.values())


def fetch_all(
    sources: Sequence[FeedSource],
    options: FetchOptions,
    now: datetime | None = None,
    *,
    guard: Guard | None = None,
) -> list[FetchResult]:
    """Fetch every source; one result per source, in the same order. Never raises per feed.

    `guard` replaces the one the options ask for (tests give it their own resolver, policy or
    TLS trust).
    """
    moment = _aware(now) if now is not None else datetime.now(UTC)
    if guard is None:
        guard = Guard(allow_all if options.allow_private_network else public_only)
    with _reporter(len(sources), options.progress) as on_done:
        return _Fetcher(options, moment, on_done, guard).fetch_all(sources)


# --- telling the user -----------------------------------------------------------------------


@contextlib.contextmanager
def _reporter(
    total: int, progress: bool | None, console: Console | None = None
) -> Iterator[ResultCallback]:
    """A rich progress bar on a terminal; otherwise one INFO log line per feed."""
    show = sys.stderr.isatty() if progress is None else progress
    if not show or total == 0:
        yield _log_result
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console or Console(stderr=True), transient=True) as bar:
        task = bar.add_task("fetching feeds", total=total)

        def advance(result: FetchResult) -> None:
            bar.update(task, advance=1, description=f"{result.source.slug}: {result.status}")

        yield advance


def _log_result(result: FetchResult) -> None:
    reason = f" ({result.error})" if result.error else ""
    log.info("%s: %s%s", result.source.slug, result.status, reason)
