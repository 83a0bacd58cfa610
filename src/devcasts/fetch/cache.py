"""The HTTP cache: what fetch remembers of each feed between builds, and its last good copy.

    <root>/<slug>.json   CacheEntry: validators, response headers, failure history, redirects
    <root>/<slug>.body   the last good body, byte for byte

A fetch result names a kept copy (model.StoredCopy) without reading it; `read_body` reads it,
checked against its hash, when the pipeline needs the bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devcasts.model import FeedSource, FetchResult, StoredCopy
from devcasts.util.atomic import replace_file
from devcasts.util.text import slugify

log = logging.getLogger(__name__)

# How stale a stored last_success may grow before an unchanged feed's entry is written again.
SUCCESS_PRECISION = timedelta(hours=1)
_CACHE_VERSION = 1


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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def aware(moment: datetime) -> datetime:
    """`moment` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
            value = None if value is None else aware(datetime.fromisoformat(value))
        elif name == "headers":
            value = {str(k): str(v) for k, v in dict(value).items()}
        elif not isinstance(value, int if name in _INT_FIELDS else (str, type(None))):
            raise TypeError(f"{name} has the wrong type")
        values[name] = value
    return CacheEntry(**values)


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

    def load(self, source: FeedSource) -> tuple[CacheEntry, StoredCopy | None]:
        """The entry and where its last good body is (not read here); a damaged cache is
        logged and treated as empty."""
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
                body = StoredCopy(body_path, entry.content_hash)
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


def read_body(result: FetchResult) -> bytes | None:
    """The bytes of a fetch result: those it carries, or its kept copy, read and checked.

    None if the feed was never fetched, or if the kept copy fails its check: its entry then
    forgets it, so the next fetch asks for the whole body.
    """
    body = result.body
    if body is None or isinstance(body, bytes):
        return body
    return read_stored(body)


def read_stored(copy: StoredCopy) -> bytes | None:
    """The kept copy's bytes if they still have their hash; else None (and its entry forgets it)."""
    try:
        body = copy.path.read_bytes()
    except OSError as error:
        log.warning("cached body %s is unreadable (%s); fetching afresh", copy.path, error)
        body = None
    if body is not None and sha256(body) == copy.content_hash:
        return body
    if body is not None:
        log.warning("cached body %s does not match its hash; fetching afresh", copy.path)
    _forget_copy(copy)
    return None


def _forget_copy(copy: StoredCopy) -> None:
    """The entry beside a copy that failed its check forgets it and its validators."""
    meta_path = copy.path.with_suffix(".json")
    try:
        entry = _entry_from_json(json.loads(meta_path.read_bytes()))
        if entry.content_hash == copy.content_hash:
            _write_entry(meta_path, _without_body(entry))
    except (OSError, ValueError, TypeError, AttributeError) as error:
        log.warning("could not update the cache entry %s: %s", meta_path, error)


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
