"""The persistent episode archive under content/: load, merge a build's feeds in, save.

Layout: `content/archive/<podcast-slug>.json`, one file per podcast, holding the podcast's last
known metadata and every episode ever seen, sorted by (published, id), with sorted keys and
ISO 8601 UTC times, so the files diff well in git. Nothing is ever dropped: an episode that
leaves its feed, or whose feed fails, stays as it was. Curation (content/overrides.yaml) is
applied only when the catalog is built, never written here.

Given the build's cache dir, load and save keep each file's decoded records there
(_DecodedCache), so that a build decodes only the files that changed since the last one.
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import io
import itertools
import json
import operator
import os
import pickle
import re
import time
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from devcasts import model, records
from devcasts.catalog.overrides import Overrides, apply_override, load_overrides, resolve_overrides
from devcasts.errors import DevcastsError
from devcasts.ingest.normalize import merge_across_feeds
from devcasts.model import Config, FeedHealth, FeedSource
from devcasts.records import Catalog, Episode, NormalizedFeed, Podcast
from devcasts.util.atomic import replace_file
from devcasts.util.text import short_hash, slugify, source_fingerprint

__all__ = [
    "ArchiveChanges",
    "ArchiveError",
    "ArchiveState",
    "DecodedCacheWrites",
    "PodcastArchive",
    "archive_dir",
    "build_catalog",
    "encode_podcast_archive",
    "episode_counts",
    "load_archive",
    "load_overrides",
    "merge_feeds",
    "save_archive",
]

ARCHIVE_FOLDER = "archive"
DECODED_CACHE_FOLDER = "archive"  # under the build's cache dir
SETTLED_NS = 3_000_000_000  # a file changed this recently is checked by its hash, not its stat
FORMAT_VERSION = 1
# Episode slugs that would clash with listing pages the renderer may put beside episodes.
RESERVED_SLUGS = frozenset({"page", "feed", "index"})
_SLUG_SHAPE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EMPTY_VALUES: tuple[object, ...] = (None, "", (), False)
_UNICODE_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_ASCII_JSON = json.JSONEncoder(ensure_ascii=True, sort_keys=True)


class ArchiveError(DevcastsError):
    """An archive file is unreadable or malformed; str() reads `FILE[:LINE]: MESSAGE`."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message} (fix the file, or restore it from git)")


# --- state ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodcastArchive:
    """One podcast's archive file: last known metadata and every episode ever seen."""

    podcast: Podcast
    episodes: tuple[Episode, ...] = ()  # sorted by (published, id)


@dataclass(frozen=True, slots=True)
class ArchiveState:
    """The whole archive, immutable: replace it, never mutate it."""

    podcasts: tuple[PodcastArchive, ...] = ()  # sorted by slug

    def get(self, slug: str) -> PodcastArchive | None:
        return next((p for p in self.podcasts if p.podcast.slug == slug), None)

    def episodes(self) -> Iterator[Episode]:
        for record in self.podcasts:
            yield from record.episodes

    def episode_count(self, slug: str) -> int:
        record = self.get(slug)
        return len(record.episodes) if record else 0


@dataclass(frozen=True, slots=True)
class ArchiveChanges:
    """What a merge changed, for sinks that work incrementally (last_seen alone is no change)."""

    new_episodes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> ids
    updated_episodes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> ids
    changed_podcasts: frozenset[str] = frozenset()  # metadata or episodes changed
    touched_podcasts: frozenset[str] = frozenset()  # any byte of their file differs (last_seen)

    @property
    def is_empty(self) -> bool:
        """Nothing the site shows changed."""
        return not self.changed_podcasts

    @property
    def any(self) -> bool:
        """The archive differs from what was loaded: worth saving."""
        return bool(self.touched_podcasts)

    @property
    def new_count(self) -> int:
        return sum(len(ids) for ids in self.new_episodes.values())

    @property
    def updated_count(self) -> int:
        return sum(len(ids) for ids in self.updated_episodes.values())

    @property
    def new_per_podcast(self) -> Mapping[str, int]:
        return {slug: len(ids) for slug, ids in self.new_episodes.items()}

    @property
    def episode_ids(self) -> frozenset[str]:
        """Ids of every new or updated episode."""
        ids = [*self.new_episodes.values(), *self.updated_episodes.values()]
        return frozenset(i for group in ids for i in group)


def episode_counts(state: ArchiveState) -> dict[str, int]:
    """Archived episodes per podcast slug (hidden ones included)."""
    return {record.podcast.slug: len(record.episodes) for record in state.podcasts}


# --- merge ----------------------------------------------------------------------------------


def merge_feeds(
    state: ArchiveState, feeds: Sequence[NormalizedFeed], now: datetime
) -> tuple[ArchiveState, ArchiveChanges]:
    """Fold this build's feeds into the archive. Feeds not given (failed, gone) stay as they were.

    `last_seen` is refreshed at most once per UTC day, so that rebuilding the same day rewrites
    no archive file.
    """
    now = _utc(now).replace(microsecond=0)
    records = {record.podcast.slug: record for record in state.podcasts}
    new: dict[str, tuple[str, ...]] = {}
    updated: dict[str, tuple[str, ...]] = {}
    changed: set[str] = set()
    touched: set[str] = set()
    for feed in feeds:
        slug = feed.podcast.slug
        before = records.get(slug)
        record, added, edited = _merge_podcast(before, feed, now)
        records[slug] = record
        if added:
            new[slug] = added
        if edited:
            updated[slug] = edited
        if added or edited or before is None or before.podcast != record.podcast:
            changed.add(slug)
        if record != before:
            touched.add(slug)
    merged = ArchiveState(tuple(records[slug] for slug in sorted(records)))
    changes = ArchiveChanges(
        new_episodes=types.MappingProxyType(dict(sorted(new.items()))),
        updated_episodes=types.MappingProxyType(dict(sorted(updated.items()))),
        changed_podcasts=frozenset(changed),
        touched_podcasts=frozenset(touched),
    )
    return merged, changes


def _merge_podcast(
    before: PodcastArchive | None, feed: NormalizedFeed, now: datetime
) -> tuple[PodcastArchive, tuple[str, ...], tuple[str, ...]]:
    slug = feed.podcast.slug
    by_id = {episode.id: episode for episode in before.episodes} if before else {}
    taken = {episode.slug for episode in by_id.values()}
    added: list[str] = []
    edited: list[str] = []
    # Sorted, so the slugs handed out never depend on the order of items in the feed.
    for incoming in _distinct_by_id(feed.episodes):
        if incoming.podcast != slug:
            incoming = replace(incoming, podcast=slug)
        prior = by_id.get(incoming.id)
        if prior is None:
            episode_slug = _claim_slug(incoming, taken)
            by_id[incoming.id] = _first_archived(incoming, episode_slug, now)
            added.append(incoming.id)
            continue
        merged = _seen_again(prior, incoming, now)
        if not _same_content(prior, merged):
            edited.append(incoming.id)
        by_id[incoming.id] = merged
    episodes = tuple(sorted(by_id.values(), key=_archive_order))
    return PodcastArchive(feed.podcast, episodes), tuple(added), tuple(edited)


def _distinct_by_id(episodes: Iterable[Episode]) -> list[Episode]:
    """One episode per id (the first in a fixed order), sorted by (published, id)."""
    chosen: dict[str, Episode] = {}
    for episode in sorted(episodes, key=lambda e: (*_archive_order(e), e.content_hash)):
        chosen.setdefault(episode.id, episode)
    return list(chosen.values())


def _archive_order(episode: Episode) -> tuple[datetime, str]:
    return (episode.published, episode.id)


def _claim_slug(episode: Episode, taken: set[str]) -> str:
    """The title's slug; on a clash add the date, then a short hash of the id, then a counter."""
    base = slugify(episode.title)
    dated = f"{base}-{episode.published:%Y-%m-%d}"
    hashed = f"{dated}-{short_hash(episode.id, 6)}"
    counted = (f"{hashed}-{n}" for n in itertools.count(2))
    candidates = itertools.chain((base, dated, hashed), counted)
    slug = next(c for c in candidates if c not in taken and c not in RESERVED_SLUGS)
    taken.add(slug)
    return slug


def _first_archived(episode: Episode, slug: str, now: datetime) -> Episode:
    return replace(episode, slug=slug, first_seen=now, last_seen=now, also_in=(), featured=False)


def _seen_again(prior: Episode, incoming: Episode, now: datetime) -> Episode:
    """The incoming content under the prior identity; an estimated date never drifts."""
    if incoming.content_hash and incoming.content_hash == prior.content_hash:
        # Same content (the hash covers every content field): only last_seen may move.
        last_seen = _refreshed_last_seen(prior.last_seen, now)
        return prior if last_seen == prior.last_seen else replace(prior, last_seen=last_seen)
    published, estimated, clamped = incoming.published, incoming.date_estimated, False
    if incoming.date_estimated or incoming.date_clamped:
        # The feed gives no usable date: keep the one the episode got when first archived.
        published, estimated, clamped = prior.published, prior.date_estimated, prior.date_clamped
    candidate = replace(
        incoming,
        slug=prior.slug,
        first_seen=prior.first_seen,
        last_seen=_refreshed_last_seen(prior.last_seen, now),
        published=published,
        date_estimated=estimated,
        date_clamped=clamped,
        also_in=(),
        featured=False,
    )
    if _same_content(prior, candidate):
        return replace(prior, last_seen=candidate.last_seen)
    return candidate


def _refreshed_last_seen(last_seen: datetime | None, now: datetime) -> datetime:
    if last_seen is None or (now.date() != last_seen.date() and now > last_seen):
        return now
    return last_seen


def _same_content(a: Episode, b: Episode) -> bool:
    """Equal apart from bookkeeping (content_hash may cover a drifting date; last_seen)."""
    return replace(b, last_seen=a.last_seen, content_hash=a.content_hash) == a


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: devcasts works in UTC")
    return moment.astimezone(UTC)


# --- catalog --------------------------------------------------------------------------------


def build_catalog(
    state: ArchiveState,
    config: Config,
    overrides: Overrides,
    health: Sequence[FeedHealth] = (),
) -> Catalog:
    """The read-only view the sinks render: curated, merged across feeds, sorted.

    A podcast removed from feeds.yaml leaves the site, but its archive file stays on disk, so
    adding it back restores every episode with the same URLs.
    """
    topic_rank = {topic.slug: rank for rank, topic in enumerate(config.topics)}
    resolved = resolve_overrides(overrides, state.episodes(), topic_rank)
    sources = {source.slug: source for source in config.feeds}
    podcasts: list[Podcast] = []
    episodes: list[Episode] = []
    for record in state.podcasts:
        source = sources.get(record.podcast.slug)
        if source is None:
            continue
        podcasts.append(_as_configured(record.podcast, source))
        for episode in record.episodes:
            curated = apply_override(episode, resolved.get(episode.id), topic_rank)
            if curated is None or (source.include == "topics" and not curated.topics):
                continue
            episodes.append(curated)
    visible = sorted(merge_across_feeds(episodes), key=lambda e: (-e.published.timestamp(), e.id))
    return Catalog(
        site=config.site,
        topics=config.topics,
        podcasts=tuple(sorted(podcasts, key=lambda p: (p.title.casefold(), p.slug))),
        episodes=tuple(visible),
        health=tuple(health),
        built_at=max((e.published for e in visible), default=None),
    )


def _as_configured(podcast: Podcast, source: FeedSource) -> Podcast:
    """feeds.yaml wins over what the feed said last time (its title, include, weight)."""
    return replace(
        podcast,
        title=source.title or podcast.title,
        feed_url=source.url,
        include=source.include,
        weight=source.weight,
    )


# --- files ----------------------------------------------------------------------------------


def archive_dir(content_dir: Path) -> Path:
    return content_dir / ARCHIVE_FOLDER


def load_archive(content_dir: Path, *, cache_dir: Path | None = None) -> ArchiveState:
    """Read every `content/archive/*.json`; a missing folder is an empty archive.

    With `cache_dir`, each file's decoded records are kept under it, and only the files that
    changed since are decoded again (see _DecodedCache); the JSON files stay the truth.
    """
    folder = archive_dir(content_dir)
    if not folder.is_dir():
        return ArchiveState()
    paths = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
    cache = None if cache_dir is None else _DecodedCache(cache_dir / DECODED_CACHE_FOLDER)
    with _collection_paused():
        records = [
            _read_podcast_file(path) if cache is None else cache.read(path) for path in paths
        ]
    if cache is not None:
        cache.forget_all_but({path.stem for path in paths})
    return ArchiveState(tuple(sorted(records, key=lambda r: r.podcast.slug)))


@contextmanager
def _collection_paused() -> Iterator[None]:
    """The decoded archive lives as long as the build, and holds no reference cycles.

    Garbage collections while it is built free nothing, yet each walks every object made so
    far: they took half the load time. (The pipeline freezes it once the catalog is built.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def save_archive(
    content_dir: Path,
    state: ArchiveState,
    only: Iterable[str] | None = None,
    *,
    cache_writes: DecodedCacheWrites | None = None,
) -> list[Path]:
    """Write each podcast's file atomically, only when its bytes changed; return those paths.

    `only` limits the work to some podcasts (ArchiveChanges.touched_podcasts, say). Files of
    podcasts not in `state` are left alone: the archive never deletes history. With
    `cache_writes`, the records written are kept in the decoded cache once it commits, so
    load_archive need not decode those files again.
    """
    folder = archive_dir(content_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(folder)
    wanted = None if only is None else set(only)
    written: list[Path] = []
    for record in state.podcasts:
        if wanted is not None and record.podcast.slug not in wanted:
            continue
        path = folder / f"{_checked_slug(record.podcast.slug)}.json"
        data = encode_podcast_archive(record)
        if _current_bytes(path) != data:
            replace_file(path, data, durable=True)
            written.append(path)
            if cache_writes is not None:
                cache_writes.add(path, data, record)
    if written:
        _fsync_dir(folder)
    return written


def encode_podcast_archive(record: PodcastArchive) -> bytes:
    """The file's bytes: sorted keys, one field per line, UTF-8, trailing newline.

    Written by hand rather than with json.dumps(indent=...), which is many times slower;
    nested values (chapters, people, ...) stay on their field's line.
    """
    episodes = sorted(record.episodes, key=_archive_order)
    try:
        return _document_text(record.podcast, episodes, ascii_only=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a broken feed: keep them, escaped
        return _document_text(record.podcast, episodes, ascii_only=True).encode("ascii")


def _document_text(podcast: Podcast, episodes: Sequence[Episode], ascii_only: bool) -> str:
    dump = _ASCII_JSON.encode if ascii_only else _UNICODE_JSON.encode

    def obj(value: object, indent: str) -> str:
        pairs = sorted(_to_json_fields(value).items())
        body = ",\n".join(f"{indent}  {dump(key)}: {dump(item)}" for key, item in pairs)
        return f"{indent}{{\n{body}\n{indent}}}" if pairs else f"{indent}{{}}"

    listed = ",\n".join(obj(episode, "    ") for episode in episodes)
    episodes_text = f'  "episodes": [\n{listed}\n  ],' if episodes else '  "episodes": [],'
    podcast_text = obj(podcast, "  ").lstrip()
    lines = ["{", episodes_text, f'  "format": {FORMAT_VERSION},', f'  "podcast": {podcast_text}']
    return "\n".join(lines) + "\n}\n"


def _read_podcast_file(path: Path) -> PodcastArchive:
    return _decode_podcast_file(path, _archive_bytes(path))


def _archive_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ArchiveError(path, f"cannot read: {error.strerror or error}") from error


def _decode_podcast_file(path: Path, data: bytes) -> PodcastArchive:
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ArchiveError(path, f"not UTF-8 text (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise ArchiveError(path, f"not valid JSON: {error.msg}", error.lineno) from error
    return _decode_podcast_archive(path, document)


def _decode_podcast_archive(path: Path, document: object) -> PodcastArchive:
    if not isinstance(document, dict):
        raise ArchiveError(path, "expected a JSON object with 'podcast' and 'episodes'")
    version = document.get("format")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ArchiveError(path, f"unsupported archive format {version!r}")
    podcast = _decode(path, "podcast", Podcast, document.get("podcast"))
    if path.stem != podcast.slug:
        raise ArchiveError(path, f"podcast slug {podcast.slug!r} does not match the file name")
    raw_episodes = document.get("episodes")
    if not isinstance(raw_episodes, list):
        raise ArchiveError(path, "'episodes' must be a list")
    episodes = [_decode(path, f"episodes[{i}]", Episode, raw) for i, raw in enumerate(raw_episodes)]
    _check_episodes(path, podcast.slug, episodes)
    return PodcastArchive(podcast, tuple(sorted(episodes, key=_archive_order)))


def _check_episodes(path: Path, slug: str, episodes: Sequence[Episode]) -> None:
    ids: set[str] = set()
    slugs: set[str] = set()
    for episode in episodes:
        name = f"episode {episode.id!r}"
        if episode.podcast != slug:
            raise ArchiveError(path, f"{name} belongs to podcast {episode.podcast!r}")
        if not _SLUG_SHAPE.match(episode.slug):
            raise ArchiveError(path, f"{name} has an unusable slug {episode.slug!r}")
        if episode.id in ids:
            raise ArchiveError(path, f"{name} appears twice")
        if episode.slug in slugs:
            raise ArchiveError(path, f"{name}: slug {episode.slug!r} is used twice")
        ids.add(episode.id)
        slugs.add(episode.slug)


def _checked_slug(slug: str) -> str:
    if not _SLUG_SHAPE.match(slug):
        raise ValueError(f"podcast slug {slug!r} cannot name an archive file")
    return slug


def _current_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_temp_files(folder: Path) -> None:
    """Temp files left by a build that was killed mid-write."""
    for stale in folder.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


# --- decoded archive, cached ---------------------------------------------------------------


class _DecodedCache:
    """Each archive file's decoded records, pickled in the build's cache folder.

    An entry names the code that wrote it (see _code_fingerprint), the SHA-256 of the archive
    file it was decoded from, and the file's stat (size, times, inode) when that was checked.
    The JSON files stay the truth: an entry is used when the file's bytes have its hash, or,
    without reading the file, when its stat is unchanged and was already old when checked
    (an edit since would have changed it, even where file times tick once a second or two).
    Anything unexpected in an entry (foreign, torn) is a miss and the entry is rewritten; a
    cache that cannot be written is simply not used.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def read(self, path: Path) -> PodcastArchive:
        checked_at = time.time_ns()
        try:
            stat = path.stat()
        except OSError:
            return _read_podcast_file(path)  # which says what is wrong with the file
        entry = _Entry.load(self._entry_path(path))
        if entry is not None and entry.vouches_for(stat):
            record = entry.record(path.stem)
            if record is not None:
                return record
        data = _archive_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        if entry is not None and entry.digest == digest:
            record = entry.record(path.stem)
            if record is not None:
                if _settled(stat, checked_at):  # from now on the stat alone will do
                    self._restamp(
                        path, replace(entry, stat_key=_stat_key(stat), checked_at=checked_at)
                    )
                return record
        record = _decode_podcast_file(path, data)
        self._write(path, _Entry(digest, _stat_key(stat), checked_at, _pickled(record)))
        return record

    def store(
        self, path: Path, stamp: tuple[str, tuple[int, ...], int], record: PodcastArchive
    ) -> None:
        digest, stat_key, checked_at = stamp
        self._write(path, _Entry(digest, stat_key, checked_at, _pickled(record)))

    def forget_all_but(self, stems: set[str]) -> None:
        """Drop entries of archive files that are gone, and temp files of a killed build."""
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or (
                entry.suffix == ".pickle" and entry.stem not in stems
            ):
                entry.unlink(missing_ok=True)

    def _entry_path(self, path: Path) -> Path:
        return self.folder / f"{path.stem}.pickle"

    def _restamp(self, path: Path, entry: _Entry) -> None:
        """Only the stat line changed, and it keeps its width: rewritten in place, not the
        whole entry (a torn write leaves a line that matches no stat: a miss)."""
        code = _code_fingerprint()
        if code is None:
            return
        header = entry.header(code)
        if len(header) != entry.header_size:
            self._write(path, entry)
            return
        try:
            with self._entry_path(path).open("r+b") as handle:
                handle.write(header)
        except OSError:
            pass

    def _write(self, path: Path, entry: _Entry) -> None:
        code = _code_fingerprint()
        if code is None or not entry.body:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            replace_file(self._entry_path(path), entry.header(code) + entry.body)
        except OSError:
            pass  # a cache that cannot be written costs time, not a build


def _stamp(path: Path, data: bytes) -> tuple[str, tuple[int, ...], int] | None:
    """What an entry says of the file `data` was just written to: its hash, stat, and when."""
    checked_at = time.time_ns()
    try:
        stat = path.stat()
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest(), _stat_key(stat), checked_at


class DecodedCacheWrites:
    """Entries for the archive files a build just wrote, stamped at once and pickled later
    (`commit`): the pipeline leaves the pickling to a forked child while it renders. An
    edit of a file after its stamp makes the entry a miss, never a wrong hit."""

    def __init__(self, cache_dir: Path) -> None:
        self._cache = _DecodedCache(cache_dir / DECODED_CACHE_FOLDER)
        self._pending: list[tuple[Path, tuple[str, tuple[int, ...], int], PodcastArchive]] = []

    def add(self, path: Path, data: bytes, record: PodcastArchive) -> None:
        stamp = _stamp(path, data)
        if stamp is not None:
            self._pending.append((path, stamp, record))

    def commit(self) -> None:
        for path, stamp, record in self._pending:
            self._cache.store(path, stamp, record)
        self._pending.clear()


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: str  # SHA-256 of the archive file's bytes the records were decoded from
    stat_key: tuple[int, ...]  # the file's stat when checked
    checked_at: int  # time.time_ns() just before that stat
    body: bytes | memoryview  # the pickled PodcastArchive
    header_size: int = 0  # as read from the entry file

    @classmethod
    def load(cls, entry_path: Path) -> _Entry | None:
        """The entry, if one written by this code is there (its body is not unpickled yet)."""
        code = _code_fingerprint()
        if code is None:
            return None
        try:
            data = entry_path.read_bytes()
        except OSError:
            return None
        lines, start = [], 0
        for _ in range(4):  # magic, code, digest, "stat key... checked_at"
            end = data.find(b"\n", start)
            if end < 0:
                return None
            lines.append(data[start:end])
            start = end + 1
        if lines[:2] != [_ENTRY_MAGIC, code.encode()]:
            return None
        try:
            *key, checked_at = (int(number) for number in lines[3].split())
        except ValueError:
            return None
        body = memoryview(data)[start:]  # not copied: pickle reads it as it is
        return cls(lines[2].decode("ascii", "replace"), tuple(key), checked_at, body, start)

    def header(self, code: str) -> bytes:
        # Fixed width, so that a new stat line can overwrite the old one in place.
        numbers = " ".join(f"{number:+021d}" for number in (*self.stat_key, self.checked_at))
        return b"\n".join(
            [_ENTRY_MAGIC, code.encode(), self.digest.encode(), numbers.encode(), b""]
        )

    def vouches_for(self, stat: os.stat_result) -> bool:
        """The file is as it was when checked, and was already settled then."""
        return self.stat_key == _stat_key(stat) and _settled(stat, self.checked_at)

    def record(self, slug: str) -> PodcastArchive | None:
        try:
            # Only entries this code wrote in the build's own cache folder get here.
            record = pickle.loads(self.body)  # noqa: S301
        except Exception:  # torn or damaged: decode the JSON instead
            return None
        if isinstance(record, PodcastArchive) and record.podcast.slug == slug:
            return record
        return None


_ENTRY_MAGIC = b"devcasts decoded archive"


def _stat_key(stat: os.stat_result) -> tuple[int, ...]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


def _settled(stat: os.stat_result, checked_at: int) -> bool:
    """Last changed well before `checked_at`: any later edit gets other file times."""
    return checked_at - max(stat.st_mtime_ns, stat.st_ctime_ns) > SETTLED_NS


@cache
def _code_fingerprint() -> str | None:
    """The Python and the sources of the model and of this decoder: entries written by any
    other code are never trusted. None (no cache) if the sources cannot be read."""
    return source_fingerprint((__file__, str(model.__file__), str(records.__file__)))


def _pickled(record: PodcastArchive) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = _record_reducers()
    try:
        pickler.dump(record)
    except pickle.PicklingError:
        return b""
    return buffer.getvalue()


_Reducer = Callable[[Any], Any]  # instance -> (class, field values)


@cache
def _record_reducers() -> Mapping[type, _Reducer]:
    """The model's dataclasses pickled as `cls(*field values)`. The default pickling of slotted
    dataclasses sets each field by a Python call when loading: over twice as slow."""
    table: dict[type, _Reducer] = {**copyreg.dispatch_table}
    for cls in _dataclasses_within(PodcastArchive):
        if all(spec.init for spec in fields(cls)):
            table[cls] = _positional_reducer(cls)
    return table


def _positional_reducer(cls: type) -> _Reducer:
    names = [spec.name for spec in fields(cls)]
    values = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda instance: (cls, (values(instance),))
    return lambda instance: (cls, values(instance))


def _dataclasses_within(root: type) -> set[type]:
    """`root` and every dataclass its fields can hold, however nested."""
    found: set[type] = set()
    pending = [root]
    while pending:
        cls = pending.pop()
        if cls in found:
            continue
        found.add(cls)
        for hint in typing.get_type_hints(cls).values():
            pending.extend(t for t in _types_named(hint) if isinstance(t, type) and is_dataclass(t))
    return found


def _types_named(hint: object) -> Iterator[object]:
    yield hint
    for argument in typing.get_args(hint):
        yield from _types_named(argument)


# --- JSON codec for the model's dataclasses -------------------------------------------------


def _to_json(value: object) -> object:
    if isinstance(value, datetime):
        return _format_time(value)
    if is_dataclass(value) and not isinstance(value, type):
        return _to_json_fields(value)
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    return value


def _format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z: "2024-05-01T12:00:00Z" (four-digit years, even year 99)."""
    return _utc(moment).replace(tzinfo=None).isoformat() + "Z"


def _to_json_fields(value: Any) -> dict[str, object]:
    encoded: dict[str, object] = {}
    for name, default in _field_defaults(value.__class__):
        item = getattr(value, name)
        # Empty defaults are left out: smaller files, and new model fields change no file.
        if item is default or (item == default and item in _EMPTY_VALUES):
            continue
        encoded[name] = _to_json(item)
    return encoded


@cache
def _field_defaults(cls: Any) -> tuple[tuple[str, object], ...]:
    """(name, default) per field; fields without a plain default get a sentinel."""
    return tuple(
        (spec.name, spec.default if spec.default in _EMPTY_VALUES else MISSING)
        for spec in fields(cls)
    )


class _Invalid(Exception):
    """A value that does not fit its field; `where` is filled in on the way out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.where: list[str] = []


_Decoder = Callable[[object], Any]


def _decode(path: Path, context: str, cls: type, raw: object) -> Any:
    try:
        return _decoder(cls)(raw)
    except _Invalid as error:
        where = "".join(part if part.startswith("[") else f".{part}" for part in error.where)
        raise ArchiveError(path, f"{context}{where}: {error.message}") from None


@cache
def _decoder(expected: Any) -> _Decoder:
    """A function turning JSON data into `expected`, built once per type from the model."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return _optional_decoder(expected)
    if origin is typing.Literal:
        return _literal_decoder(typing.get_args(expected))
    if origin is tuple:
        return _tuple_decoder(_decoder(typing.get_args(expected)[0]))
    if isinstance(expected, type) and is_dataclass(expected):
        return _dataclass_decoder(expected)
    if expected is datetime:
        return _parse_time
    return _scalar_decoder(expected)


def _optional_decoder(expected: Any) -> _Decoder:
    options = typing.get_args(expected)
    (inner_type,) = [t for t in options if t is not type(None)]
    inner = _decoder(inner_type)
    nullable = type(None) in options

    def decode(raw: object) -> Any:
        return None if raw is None and nullable else inner(raw)

    return decode


def _literal_decoder(allowed: tuple[object, ...]) -> _Decoder:
    def decode(raw: object) -> Any:
        if raw not in allowed:
            raise _Invalid(f"expected one of {allowed}, got {raw!r}")
        return raw

    return decode


def _tuple_decoder(item: _Decoder) -> _Decoder:
    def decode(raw: object) -> Any:
        if not isinstance(raw, list):
            raise _Invalid(f"expected a list, got {type(raw).__name__}")
        decoded = []
        for index, value in enumerate(raw):
            try:
                decoded.append(item(value))
            except _Invalid as error:
                error.where.insert(0, f"[{index}]")
                raise
        return tuple(decoded)

    return decode


def _dataclass_decoder(cls: type) -> _Decoder:
    hints = typing.get_type_hints(cls)
    specs = [
        (spec.name, _decoder(hints[spec.name]), spec.default is MISSING is spec.default_factory)
        for spec in fields(cls)
    ]

    def decode(raw: object) -> Any:
        if not isinstance(raw, dict):
            raise _Invalid(f"expected an object, got {type(raw).__name__}")
        values: dict[str, Any] = {}
        for name, decode_field, required in specs:
            if name in raw:  # unknown keys are ignored: files of newer or older models load
                try:
                    values[name] = decode_field(raw[name])
                except _Invalid as error:
                    error.where.insert(0, name)
                    raise
            elif required:
                raise _Invalid(f"missing {name!r}")
        return cls(**values)

    return decode


def _scalar_decoder(expected: type) -> _Decoder:
    def decode(raw: object) -> Any:
        if type(raw) is expected:
            return raw
        if expected is float and type(raw) is int:
            return float(raw)
        raise _Invalid(f"expected {expected.__name__}, got {raw!r}")

    return decode


def _parse_time(raw: object) -> datetime:
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
    raise _Invalid(f"expected a UTC time like '2024-05-01T12:00:00Z', got {raw!r}")
