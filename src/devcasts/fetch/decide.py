"""What a fetch means, decided without I/O: the precheck before a request, what a server's
(or the disk's) answer means, and the result and next cache entry that follow from it.

`precheck` and `decide` turn the cache entry and what the server answered into a FetchResult and
the next cache entry; `answer_without_body` says what a status code without a usable body means;
`not_a_feed_reason` tells a body that is surely not a feed. Nothing here reads or writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Literal

from devcasts.fetch.cache import CacheEntry, aware, sha256, url_fingerprint
from devcasts.model import FeedSource, FetchResult, FetchStatus, StoredCopy

MAX_RETRY_AFTER = timedelta(days=1)  # a server cannot hide a feed for longer than this
_KEPT_HEADERS = ("content-type", "content-language", "content-location", "etag", "last-modified")

# The last good body as fetch hands it on: bytes, or where the kept copy is.
CachedBody = bytes | StoredCopy | None

ExchangeKind = Literal["body", "not_modified", "failed", "gone", "retry_later"]

# Why a body that arrived whole is still no good (an HTML error page served as a feed), or None.
BodyCheck = Callable[[bytes], str | None]


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
    source: FeedSource, entry: CacheEntry, body: CachedBody, offline: bool, now: datetime
) -> FetchResult | None:
    """A result that needs no request (gone, `offline`, Retry-After pending), or None."""
    if entry.gone is not None and entry.gone == url_fingerprint(source.url):
        reason = entry.gone_reason or "HTTP 410 Gone"
        return _cached_result(source, entry, body, FetchStatus.GONE, f"{reason} (remembered)")
    if offline and not source.is_local:
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
    check_body: BodyCheck | None = None,
) -> tuple[FetchResult, CacheEntry, bytes | None]:
    """The result, the next cache entry, and the body to store (None: keep the stored one).
    `check_body` judges a body that arrived (feed_problem by default): one it refuses is a
    failure, and the last good copy stays."""
    entry = _note_redirect(entry, exchange.moved_to)
    if exchange.kind == "body":
        assert exchange.body is not None
        problem = (check_body or feed_problem)(exchange.body)
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
    digest = sha256(ex.body)
    unchanged = cached_body is not None and digest == entry.content_hash
    entry = _note_success(entry, ex, now, headers=_kept(ex.headers), content_hash=digest)
    status = FetchStatus.UNCHANGED if unchanged else FetchStatus.OK
    result = _result(source, entry, status, ex.body, ex.headers, ex.url, ex.moved_to)
    return result, entry, None if unchanged else ex.body


def _decide_not_modified(
    source: FeedSource,
    entry: CacheEntry,
    cached_body: bytes | StoredCopy,
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
        content_hash = sha256(body)
    return FetchResult(
        source=source,
        status=status,
        body=body,
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
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SNIFF_BYTES = 4096


def feed_problem(body: bytes) -> str | None:
    """Why a whole body is no feed to keep: surely not a feed, or cut short; or None."""
    return not_a_feed_reason(body) or truncated_reason(body)


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
    if "\x00" in start or len(CONTROL_CHARACTERS.findall(start)) > len(start) // 10:
        return "not a feed: binary data"
    if not tag and re.search(r"<!doctype\s+html", start, re.IGNORECASE):
        return "not a feed: looks like an HTML page"
    if rest and not rest.startswith("<"):
        return "not a feed: plain text, not XML"
    return None


_ROOT = re.compile(r"<((?:[\w.-]+:)?(?:rss|feed|rdf|channel|opml))\b([^>]*)>?", re.IGNORECASE)
_TAIL_BYTES = 4096


def truncated_reason(body: bytes) -> str | None:
    """Why a body that starts like a feed surely stops before its end, or None.

    A body cut short with a matching Content-Length arrives whole as far as HTTP can tell; as a
    last good copy it would hide the rest of the feed. An XML feed whose root element is never
    closed, or a JSON Feed whose object is never closed, is such a body. Trailing bytes after
    the closing tag (a comment, a stray notice) are no sign of truncation.
    """
    head = _decode_head(body[:_SNIFF_BYTES]).lstrip("\ufeff")
    prolog = _PROLOG.match(head)
    rest = head[prolog.end() if prolog else 0 :]
    last_bytes = _decode_from(body, len(body) - _TAIL_BYTES)
    if rest.startswith("{"):
        return _json_truncated_reason(body, last_bytes)
    root = _ROOT.search(head)
    if root is None or root.group(2).rstrip().endswith("/"):  # no root to judge, or <rss/>
        return None
    closing = re.compile(r"</" + re.escape(root.group(1)) + r"\s*>", re.IGNORECASE)
    # Almost always in the last bytes; the whole body is searched only when it is not there.
    if closing.search(last_bytes) or closing.search(_decode_from(body, 0)):
        return None
    return f"truncated feed: the document ends before its closing </{root.group(1)}> tag"


def _json_truncated_reason(body: bytes, last_bytes: str) -> str | None:
    """A JSON document is whole only when it parses: a cut just after an inner "}" ends with
    "}" too. JSON Feeds are small and rare, so reading one twice costs little."""
    if not last_bytes.rstrip().endswith("}"):
        return "truncated feed: the JSON document is not closed"
    try:
        json.loads(body.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError):
        return "truncated feed: the JSON document is not complete"
    return None


def _decode_from(body: bytes, start: int) -> str:
    """The body from about `start` on, as text good enough to find tags in."""
    start = max(0, start)
    for marker, encoding in _UTF_PATTERNS:
        if body.startswith(marker):
            width = 4 if "32" in encoding else 2
            start += -start % width  # stay on character boundaries
            return body[start:].decode(encoding, "replace")
    return body[start:].decode("latin-1")


def _decode_head(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", "replace")
    for marker, encoding in _UTF_PATTERNS:
        if head.startswith(marker):
            width = 4 if "32" in encoding else 2
            usable = head[: len(head) - len(head) % width]
            return usable.decode(encoding, "replace").lstrip("\ufeff")
    return head.decode("latin-1")  # any ASCII-compatible encoding shows its markup this way


# --- what a status code means ---------------------------------------------------------------


def status_text(code: int) -> str:
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
            moment = aware(parsedate_to_datetime(value))
        except (TypeError, ValueError, IndexError):
            return None
    return min(max(moment, now), now + MAX_RETRY_AFTER)


def answer_without_body(
    code: int, headers: dict[str, str], url: str, moved_to: str | None, now: datetime
) -> Exchange:
    """What an answer other than 2xx (and other than a redirect) means."""
    if code == 304:
        return Exchange("not_modified", url, headers=headers, moved_to=moved_to)
    if code == 410:
        return Exchange("gone", url, error=status_text(code), moved_to=moved_to)
    retry_at = parse_retry_after(headers.get("retry-after"), now) if code in (429, 503) else None
    if retry_at is not None:
        error = f"{status_text(code)}: the server asked to retry later"
        return Exchange("retry_later", url, error=error, moved_to=moved_to, retry_at=retry_at)
    return Exchange("failed", url, error=status_text(code), moved_to=moved_to)
