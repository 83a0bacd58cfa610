"""Fetch feeds over HTTP (the only module that touches the network) and keep the HTTP cache.

The work of one feed is a small pipe:

    load cache -> precheck (gone? offline? Retry-After?) -> download or read -> decide -> save

`precheck` and `decide` are pure: they turn the cache entry and what the server (or the disk)
answered into a FetchResult and the next cache entry. Only `_download` and `_read_local` do I/O.
A feed's failure travels as a FetchResult with status FAILED, never as an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import re
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx

from devcasts import USER_AGENT
from devcasts.fetch.netguard import BlockedAddressError, GuardedTransport, allow_all, public_only
from devcasts.model import FeedSource, FetchResult, FetchStatus, StoredBodyReader
from devcasts.util.atomic import replace_file
from devcasts.util.text import slugify

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
_DISCARDED_BODY_LIMIT = 64 * 1024
_DISCARD_SECONDS = 1.0


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


# The last good body as fetch hands it on: bytes, or a reader of the copy in the cache.
CachedBody = bytes | StoredBodyReader | None


class HttpCache:
    """`<root>/<slug>.json` (CacheEntry) and `<slug>.body` (the last good body)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stored: dict[Path, CacheEntry] = {}  # entries as load() read them from disk
        self._paths: dict[str, tuple[Path, Path]] = {}  # by slug: load and save both ask

    def paths(self, source: FeedSource) -> tuple[Path, Path]:
        paths = self._paths.get(source.slug)
        if paths is None:
            key = slugify(source.slug)
            paths = self._paths[source.slug] = (
                self.root / f"{key}.json",
                self.root / f"{key}.body",
            )
        return paths

    def load(self, source: FeedSource) -> tuple[CacheEntry, StoredBody | None]:
        """The entry and a reader of the last good body (read and checked only when called);
        a damaged cache is logged and treated as empty."""
        meta_path, body_path = self.paths(source)
        try:
            entry = _entry_from_json(json.loads(meta_path.read_bytes()))
        except FileNotFoundError:
            return CacheEntry(url=source.url), None
        except (OSError, ValueError, TypeError, AttributeError) as error:
            log.warning("ignoring damaged cache file %s (%s); fetching afresh", meta_path, error)
            return CacheEntry(url=source.url), None
        self._stored[meta_path] = entry
        body = None
        if entry.content_hash is not None:
            if body_path.is_file():  # a missing copy is caught here; a damaged one when read
                body = StoredBody(self, source, body_path, entry.content_hash)
            else:
                log.warning("cached body %s is missing; fetching afresh", body_path)
                entry = _without_body(entry)
        if entry.url != source.url:  # feeds.yaml entry changed: forget what the old URL said
            entry = replace(
                entry, url=source.url, etag=None, last_modified=None, gone=None,
                gone_reason=None, retry_after=None, retry_reason=None, moved_to=None,
                moved_count=0,
            )  # fmt: skip
        return entry, body

    def forget_body(self, source: FeedSource, content_hash: str) -> None:
        """The copy of `content_hash` failed its check: the entry forgets it and its validators,
        so the next fetch asks for the whole body."""
        meta_path, _ = self.paths(source)
        try:
            entry = _entry_from_json(json.loads(meta_path.read_bytes()))
            if entry.content_hash == content_hash:
                _write_entry(meta_path, _without_body(entry))
        except (OSError, ValueError, TypeError, AttributeError) as error:
            log.warning("could not update the cache of %s: %s", source.slug, error)

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
            replace_file(body_path, new_body)
        _write_entry(meta_path, entry)


class StoredBody:
    """The last good body in the cache, read and checked against its hash on the first call.

    A no-change build never calls it for feeds it does not parse, so their bodies stay unread.
    """

    __slots__ = ("_body", "_cache", "_hash", "_path", "_read", "_source")

    def __init__(self, cache: HttpCache, source: FeedSource, path: Path, content_hash: str) -> None:
        self._cache = cache
        self._source = source
        self._path = path
        self._hash = content_hash
        self._body: bytes | None = None
        self._read = False

    def __call__(self) -> bytes | None:
        if not self._read:
            self._body = self._checked_read()
            self._read = True
        return self._body

    def _checked_read(self) -> bytes | None:
        try:
            body = self._path.read_bytes()
        except OSError as error:
            log.warning("cached body %s is unreadable (%s); fetching afresh", self._path, error)
            body = None
        if body is not None and _sha256(body) == self._hash:
            return body
        if body is not None:
            log.warning("cached body %s does not match its hash; fetching afresh", self._path)
        self._cache.forget_body(self._source, self._hash)
        return None


def _without_body(entry: CacheEntry) -> CacheEntry:
    return replace(entry, content_hash=None, etag=None, last_modified=None)


def _write_entry(path: Path, entry: CacheEntry) -> None:
    text = json.dumps(_entry_to_json(entry), indent=1, sort_keys=True)
    replace_file(path, text.encode("utf-8"))


def _only_fresher(stored: CacheEntry, entry: CacheEntry) -> bool:
    """Equal but for a last_success at most SUCCESS_PRECISION newer than the stored one."""
    if stored.last_success is None or entry.last_success is None:
        return stored == entry
    newer_by = entry.last_success - stored.last_success
    same = replace(entry, last_success=stored.last_success) == stored
    return same and timedelta(0) <= newer_by <= SUCCESS_PRECISION


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
    source: FeedSource, entry: CacheEntry, body: CachedBody, options: FetchOptions, now: datetime
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
    cached_body: CachedBody,
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
    source: FeedSource, entry: CacheEntry, cached_body: CachedBody, ex: Exchange, now: datetime
) -> tuple[FetchResult, CacheEntry, bytes | None]:
    assert ex.body is not None
    digest = _sha256(ex.body)
    unchanged = cached_body is not None and digest == entry.content_hash
    entry = _note_success(entry, ex, now, headers=_kept(ex.headers), content_hash=digest)
    status = FetchStatus.UNCHANGED if unchanged else FetchStatus.OK
    result = _result(source, entry, status, ex.body, ex.headers, ex.url, ex.moved_to)
    return result, entry, None if unchanged else ex.body


def _decide_not_modified(
    source: FeedSource,
    entry: CacheEntry,
    cached_body: bytes | StoredBodyReader,
    ex: Exchange,
    now: datetime,
) -> tuple[FetchResult, CacheEntry, bytes | None]:
    headers = {**entry.headers, **_kept(ex.headers)}
    entry = _note_success(entry, ex, now, headers=headers)
    result = _result(
        source, entry, FetchStatus.UNCHANGED, cached_body, headers, ex.url, ex.moved_to
    )
    return result, entry, None


def _note_success(entry: CacheEntry, ex: Exchange, now: datetime, **changes: Any) -> CacheEntry:
    """The entry after a good answer; `changes` are set in the same step."""
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
        **changes,
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
        if entry.moved_to is None and entry.moved_count == 0:
            return entry
        return replace(entry, moved_to=None, moved_count=0)
    count = entry.moved_count + 1 if entry.moved_to == moved_to else 1
    return replace(entry, moved_to=moved_to, moved_count=count)


def _kept(headers: dict[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in _KEPT_HEADERS if name in headers}


def _cached_result(
    source: FeedSource,
    entry: CacheEntry,
    body: CachedBody,
    status: FetchStatus,
    error: str | None,
) -> FetchResult:
    url = entry.final_url or source.url
    result = _result(source, entry, status, body, dict(entry.headers), url, entry.moved_to)
    return replace(result, error=error)


def _result(  # `body` is the one whose hash entry.content_hash holds (checked when read)
    source: FeedSource,
    entry: CacheEntry,
    status: FetchStatus,
    body: CachedBody,
    headers: dict[str, str],
    url: str,
    moved_to: str | None,
) -> FetchResult:
    content_hash = entry.content_hash
    if content_hash is None and isinstance(body, bytes):
        content_hash = _sha256(body)
    return FetchResult(
        source=source,
        status=status,
        body_or_reader=body,
        content_hash=None if body is None else content_hash,
        headers=headers if body is not None else {},
        url=url,
        moved_to=moved_to,
        moved_count=entry.moved_count if moved_to else 0,
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
    headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if has_body and entry.etag:
        headers["If-None-Match"] = entry.etag
    if has_body and entry.last_modified:
        headers["If-Modified-Since"] = entry.last_modified
    return headers


class _Sender:
    """One GET at a time through the transport itself. httpx's client would add cookies, auth,
    redirects and event hooks, none of which a feed fetch uses (redirects are followed by hand,
    to report them), for about a tenth of the CPU of a request that answers 304."""

    def __init__(self, transport: httpx.AsyncBaseTransport, options: FetchOptions) -> None:
        self.transport = transport
        timeout = httpx.Timeout(
            connect=options.connect_timeout,
            read=options.read_timeout,
            write=options.read_timeout,
            pool=options.deadline,
        )
        self.extensions = {"timeout": timeout.as_dict()}

    @contextlib.asynccontextmanager
    async def get(self, url: httpx.URL, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
        request = httpx.Request("GET", url, headers=headers, extensions=self.extensions)
        response = await self.transport.handle_async_request(request)
        try:
            yield response
        finally:
            await response.aclose()


async def _download(
    sender: _Sender,
    url: httpx.URL,
    entry: CacheEntry,
    has_body: bool,
    options: FetchOptions,
    now: datetime,
) -> Exchange:
    """GET the feed, following at most max_redirects redirects by hand (to report them)."""
    visited = {str(url)}
    moved_to: str | None = None
    permanent_so_far = True
    headers = _request_headers(entry, has_body)
    for _ in range(options.max_redirects + 1):
        async with sender.get(url, headers) as response:
            if response.status_code not in _REDIRECTS:
                return await _answer(response, str(url), moved_to, options, now)
            target = _redirect_target(response, url)
            await _discard_body(response)
        if isinstance(target, str):
            return Exchange("failed", str(url), error=target, moved_to=moved_to)
        permanent_so_far = permanent_so_far and response.status_code in _PERMANENT
        if permanent_so_far:
            moved_to = str(target)
        if str(target) in visited:
            return Exchange("failed", str(url), error=f"redirect loop at {target}")
        visited.add(str(target))
        url = target
    error = f"too many redirects (more than {options.max_redirects})"
    return Exchange("failed", str(url), error=error, moved_to=moved_to)


def _redirect_target(response: httpx.Response, url: httpx.URL) -> httpx.URL | str:
    """The next URL, or why there is none."""
    location = response.headers.get("location", "").strip()
    if not location:
        return f"{_status_text(response.status_code)} without a Location header"
    try:
        target = url.join(location)
    except httpx.InvalidURL:
        return "redirect to an invalid URL"
    if target.scheme not in ("http", "https"):
        return f"redirect to a {target.scheme[:20]!r} URL refused (only http and https)"
    return target.copy_with(fragment=None)


async def _answer(
    response: httpx.Response, url: str, moved_to: str | None, options: FetchOptions, now: datetime
) -> Exchange:
    code = response.status_code
    headers = dict(response.headers.items())
    if 200 <= code < 300:
        body = await _read_body(response, options.max_bytes)
        return Exchange("body", url, body=body, headers=headers, moved_to=moved_to)
    await _discard_body(response)
    if code == 304:
        return Exchange("not_modified", url, headers=headers, moved_to=moved_to)
    if code == 410:
        return Exchange("gone", url, error=_status_text(code), moved_to=moved_to)
    retry_at = parse_retry_after(headers.get("retry-after"), now) if code in (429, 503) else None
    if retry_at is not None:
        error = f"{_status_text(code)}: the server asked to retry later"
        return Exchange("retry_later", url, error=error, moved_to=moved_to, retry_at=retry_at)
    return Exchange("failed", url, error=_status_text(code), moved_to=moved_to)


async def _discard_body(response: httpx.Response) -> None:
    """Read the rest of a short body (a 304's, a redirect's, an error page's): httpcore keeps a
    connection for the next request only once its response was read to the end, so a feed host
    that answers 304 to every feed is then asked over one connection, not one per feed. A long
    body, or one slow to come, is not worth it: the answer is known, the connection closes."""
    read = 0
    try:
        async with asyncio.timeout(_DISCARD_SECONDS):
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > _DISCARDED_BODY_LIMIT:
                    return
    except (TimeoutError, httpx.HTTPError):
        return


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """Stream the body, decompressing by hand so the cap applies to the decompressed size."""
    encoding = response.headers.get("content-encoding", "")
    declared = response.headers.get("content-length", "")
    known = declared.isascii() and declared.isdigit()  # int() cannot read every digit
    if not encoding and known and int(declared) > max_bytes:
        raise BodyError(f"body larger than {human_size(max_bytes)} ({human_size(int(declared))})")
    decoder = BoundedDecoder(encoding, max_bytes)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += decoder.feed(chunk)
    body += decoder.finish()
    return bytes(body)


def _parse_url(url: str) -> tuple[httpx.URL, str] | str:
    """A feeds.yaml http(s) URL, parsed once, and the host its requests queue on; or why it
    cannot be fetched at all."""
    try:
        parsed = httpx.URL(url)
        host = urlsplit(url).hostname  # stricter about brackets than httpx
    except (httpx.InvalidURL, ValueError) as error:
        return f"invalid URL: {_clean(str(error))}"
    if not parsed.host:
        return "invalid URL: no host"
    return parsed, (host or "").lower()


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
    if isinstance(error, httpx.ConnectTimeout):
        return f"could not connect within {options.connect_timeout:g} s"
    if isinstance(error, httpx.ReadTimeout):
        return f"no data for {options.read_timeout:g} s (read timeout)"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.RemoteProtocolError):
        return _describe_protocol_error(message)
    if isinstance(error, httpx.ReadError | httpx.WriteError):
        # anyio reports a reset as a BrokenResourceError, whose text is empty
        if not message or "reset" in message.lower() or "broken pipe" in message.lower():
            return "connection reset by the server"
        return f"network error: {message}"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect: {message}"
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return f"invalid URL: {message}"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _describe_protocol_error(message: str) -> str:
    lowered = message.lower()
    if "incomplete" in lowered or "complete message body" in lowered:
        return "truncated body: the connection closed before the whole body arrived"
    if "without sending" in lowered and "response" in lowered:
        return "the server closed the connection without answering"
    return f"HTTP protocol error: {message}"


def _clean(text: str) -> str:
    """Exception text may quote server bytes: no control characters, bounded length."""
    text = _CONTROL.sub(" ", text).replace("\n", " ").replace("\r", " ").strip()
    return text[:_MAX_ERROR_LENGTH]


# --- many feeds at once ---------------------------------------------------------------------

ResultCallback = Callable[[FetchResult], None]


TransportFactory = Callable[[], httpx.AsyncBaseTransport]
_Target = tuple[httpx.URL, str] | str | None  # URL and host; why there is none; a local file


@dataclass(slots=True)
class _Host:
    """One host's feeds: asked one at a time, over a connection pool of its own that closes
    after its last feed. One pool per host, because httpcore's pool weighs every waiting
    request against every connection it holds; a pool of one connection has nothing to weigh."""

    waiting: int  # feeds of this host not done yet
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sender: _Sender | None = None


class _Fetcher:
    """Fetches feeds concurrently: a global limit and one request at a time per host."""

    def __init__(
        self,
        new_transport: TransportFactory,
        options: FetchOptions,
        now: datetime,
        on_done: ResultCallback | None,
    ) -> None:
        self.new_transport = new_transport
        self.options = options
        self.now = now
        self.on_done = on_done
        self.cache = HttpCache(options.cache_dir)
        self.slots = asyncio.Semaphore(max(1, options.concurrency))
        self.hosts: dict[str, _Host] = {}

    async def fetch_all(self, sources: Sequence[FeedSource]) -> list[FetchResult]:
        targets: list[_Target] = [
            None if source.is_local else _parse_url(source.url) for source in sources
        ]
        for target in targets:
            if isinstance(target, tuple):
                host = self.hosts.setdefault(target[1], _Host(waiting=0))
                host.waiting += 1
        try:
            fetches = (self.fetch(s, t) for s, t in zip(sources, targets, strict=True))
            return list(await asyncio.gather(*fetches))
        finally:
            for host in self.hosts.values():
                await _close(host)

    async def fetch(self, source: FeedSource, target: _Target) -> FetchResult:
        try:
            result = await self._fetch(source, target)
        except Exception as error:  # a bug or a full disk must not stop the other feeds
            log.exception("fetching %s failed unexpectedly", source.url)
            reason = f"internal error: {describe_error(error, self.options)}"
            result = FetchResult(source, FetchStatus.FAILED, None, None, error=reason)
        if isinstance(target, tuple):
            host = self.hosts[target[1]]
            host.waiting -= 1
            if not host.waiting:
                await _close(host)
        if self.on_done is not None:
            self.on_done(result)
        return result

    async def _fetch(self, source: FeedSource, target: _Target) -> FetchResult:
        entry, cached_body = self.cache.load(source)
        early = precheck(source, entry, cached_body, self.options, self.now)
        if early is not None:
            return early
        exchange, elapsed = await self._exchange(source, target, entry, cached_body is not None)
        result, new_entry, new_body = decide(source, entry, cached_body, exchange, self.now)
        try:
            self.cache.save(source, new_entry, new_body)
        except OSError as error:  # the fetch itself worked: report it, remember it next time
            log.warning("could not write the cache of %s: %s", source.slug, error)
        return replace(result, elapsed=round(elapsed, 3))

    async def _exchange(
        self, source: FeedSource, target: _Target, entry: CacheEntry, has_body: bool
    ) -> tuple[Exchange, float]:
        """What the server or the disk answered, and how long that took (queueing excluded)."""
        started = time.monotonic()
        if target is None:
            exchange = await asyncio.to_thread(_read_local, source, self.options.max_bytes)
            return exchange, time.monotonic() - started
        if isinstance(target, str):
            return Exchange("failed", source.url, error=target), time.monotonic() - started
        url, name = target
        host = self.hosts[name]
        async with host.lock, self.slots:
            started = time.monotonic()
            if host.sender is None:
                host.sender = _Sender(self.new_transport(), self.options)
            exchange = await self._download(source, host.sender, url, entry, has_body)
        return exchange, time.monotonic() - started

    async def _download(
        self, source: FeedSource, sender: _Sender, url: httpx.URL, entry: CacheEntry, has_body: bool
    ) -> Exchange:
        try:
            async with asyncio.timeout(self.options.deadline):
                return await _download(sender, url, entry, has_body, self.options, self.now)
        except TimeoutError:
            error = f"timed out after {self.options.deadline:g} s"
            return Exchange("failed", source.url, error=error)
        except (httpx.HTTPError, BodyError, BlockedAddressError, ValueError, OSError) as exc:
            return Exchange("failed", source.url, error=describe_error(exc, self.options))


async def _close(host: _Host) -> None:
    """Close the host's connections; a server that hangs up badly changes no result."""
    sender, host.sender = host.sender, None
    if sender is not None:
        try:
            await sender.transport.aclose()
        except Exception as error:  # the feeds are fetched by now
            log.debug("closing a connection failed: %s", error)


def _transport(options: FetchOptions) -> httpx.AsyncBaseTransport:
    """A host's own guarded pool: one connection, kept between its feeds."""
    policy = allow_all if options.allow_private_network else public_only
    return GuardedTransport(policy, httpx.Limits(max_connections=1, max_keepalive_connections=1))


async def fetch_all_async(
    sources: Sequence[FeedSource],
    options: FetchOptions,
    now: datetime | None = None,
    *,
    on_done: ResultCallback | None = None,
    new_transport: TransportFactory | None = None,
) -> list[FetchResult]:
    """`fetch_all` inside a running event loop; `new_transport` makes each host's transport
    instead of the guarded one."""
    moment = _aware(now) if now is not None else datetime.now(UTC)
    factory = new_transport or functools.partial(_transport, options)
    return await _Fetcher(factory, options, moment, on_done).fetch_all(sources)


def fetch_all(
    sources: Sequence[FeedSource], options: FetchOptions, now: datetime | None = None
) -> list[FetchResult]:
    """Fetch every source; one result per source, in the same order. Never raises per feed."""
    with _reporter(len(sources), options.progress) as on_done:
        return asyncio.run(fetch_all_async(sources, options, now, on_done=on_done))


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
