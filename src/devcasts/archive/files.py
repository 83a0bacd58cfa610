"""The archive on disk: a folder per podcast, `content/archive/<podcast-slug>/`, holding
`podcast.json` (the podcast's last known metadata) and one `<year>.json` per year of its
episodes' publication dates, so that a new episode rewrites only its year's file.

Nothing is ever dropped: an episode that leaves its feed, or whose feed fails, stays as it was.
Files are replaced atomically and flushed to disk, being the only copy of the history. Given
the build's cache dir, load and save keep each file's decoded records there
(decoded_cache.py), so that a build decodes only the files that changed.

Folders written before (format 1: `content/archive/<slug>.json`, everything in one file) are
read as they are; the first save of such a podcast writes its folder, `podcast.json` last,
and only then removes the old file. A folder with `podcast.json` wins over an old file beside
it; a folder without one is an unfinished first save, and is ignored (the old file, if any,
stays the truth).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from devcasts.archive.codec import (
    PODCAST_FILE,
    ArchiveError,
    archive_year,
    checked_slug,
    decode_podcast_file,
    decode_podcast_folder,
    decode_podcast_record,
    decode_year_file,
    encode_podcast_files,
    year_file_name,
)
from devcasts.archive.decoded_cache import DECODED_CACHE_FOLDER, DecodedCache, DecodedCacheWrites
from devcasts.archive.state import ArchiveState, PodcastArchive, feed_key
from devcasts.records import Episode, Podcast
from devcasts.util.atomic import replace_file

__all__ = ["ARCHIVE_FOLDER", "archive_dir", "load_archive", "save_archive"]

ARCHIVE_FOLDER = "archive"
_LEGACY_SUFFIX = ".json"  # format 1: content/archive/<slug>.json
T = TypeVar("T")


def archive_dir(content_dir: Path) -> Path:
    return content_dir / ARCHIVE_FOLDER


def load_archive(content_dir: Path, *, cache_dir: Path | None = None) -> ArchiveState:
    """Read every podcast under `content/archive/`; a missing folder is an empty archive.

    With `cache_dir`, each file's decoded records are kept under it, and only the files that
    changed since are decoded again; the JSON files stay the truth.
    """
    folder = archive_dir(content_dir)
    if not folder.is_dir():
        return ArchiveState()
    reader = _Reader(
        folder, None if cache_dir is None else DecodedCache(cache_dir / DECODED_CACHE_FOLDER)
    )
    with _collection_paused():
        records = [reader.podcast(slug) for slug in _podcast_slugs(folder)]
    if reader.cache is not None:
        reader.cache.forget_all_but(reader.names_read)
        reader.cache.save_stats(reader.names_read)
    return ArchiveState(tuple(sorted(records, key=lambda r: r.podcast.slug)))


def _podcast_slugs(folder: Path) -> list[str]:
    """Each podcast's slug: a folder with its podcast.json, or a format 1 file."""
    slugs: set[str] = set()
    for entry in os.scandir(folder):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if (Path(entry.path) / PODCAST_FILE).is_file():
                slugs.add(entry.name)
        elif entry.name.endswith(_LEGACY_SUFFIX):
            slugs.add(entry.name.removesuffix(_LEGACY_SUFFIX))
    return sorted(slugs)


class _Reader:
    """Reads podcasts' files, through the decoded cache when there is one."""

    def __init__(self, folder: Path, cache: DecodedCache | None) -> None:
        self.folder = folder
        self.cache = cache
        self.names_read: set[str] = set()  # relative to the folder: `show/2024.json`

    def podcast(self, slug: str) -> PodcastArchive:
        podcast_folder = self.folder / slug
        record_path = podcast_folder / PODCAST_FILE
        if not record_path.is_file():
            legacy = self.folder / f"{slug}{_LEGACY_SUFFIX}"
            return self._read(legacy, decode_podcast_file, _is_record_of(slug))
        podcast = self._read(record_path, decode_podcast_record, _is_podcast(slug))
        years = sorted(p for p in podcast_folder.iterdir() if year_file_name(p.name))
        decoded = [
            (path, self._read(path, decode_year_file, _are_episodes_of(slug))) for path in years
        ]
        return decode_podcast_folder(podcast_folder, podcast, decoded)

    def _read(self, path: Path, decode: Callable[[Path, bytes], T], fits: _Check) -> T:
        name = path.relative_to(self.folder).as_posix()
        self.names_read.add(name)
        if self.cache is None:
            return decode(path, archive_bytes(path))
        return self.cache.read(path, name, partial(archive_bytes, path), decode, fits)


# What a decoded-cache entry must hold to be used for a file of the podcast `slug`.
_Check = Callable[[object], bool]


def _is_record_of(slug: str) -> _Check:
    return lambda kept: isinstance(kept, PodcastArchive) and kept.podcast.slug == slug


def _is_podcast(slug: str) -> _Check:
    return lambda kept: isinstance(kept, Podcast) and kept.slug == slug


def _are_episodes_of(slug: str) -> _Check:
    def check(kept: object) -> bool:
        return isinstance(kept, tuple) and all(
            isinstance(episode, Episode) and episode.podcast == slug for episode in kept
        )

    return check


def archive_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ArchiveError(path, f"cannot read: {error.strerror or error}") from error


@contextmanager
def _collection_paused() -> Iterator[None]:
    """The decoded archive lives as long as the build, and holds no reference cycles.

    Garbage collections while it is built free nothing, yet each walks every object made so
    far: they took half the load time. Once it is built it is frozen (gc.freeze: left out of
    every later collection, still freed when no longer referenced), or the first collection
    after would walk its two million objects, half a second at 100,000 episodes. The pipeline
    unfreezes everything when the build ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def save_archive(
    content_dir: Path,
    state: ArchiveState,
    only: Iterable[str] | None = None,
    *,
    cache_writes: DecodedCacheWrites | None = None,
) -> list[Path]:
    """Write each podcast's files atomically, only those whose bytes changed; return them.

    `only` limits the work to some podcasts, by feed key (ArchiveChanges.touched_podcasts,
    say), and to those still in a format 1 file, which are moved to their folder; each folder
    is named by its podcast's slug. Podcasts not in `state` are left alone: the archive never
    deletes history. With `cache_writes`, the records written are kept in the decoded cache
    once it commits, so load_archive need not decode those files again.
    """
    folder = archive_dir(content_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(folder)
    wanted = None if only is None else set(only)
    written: list[Path] = []
    for record in state.podcasts:
        slug = checked_slug(record.podcast.slug)
        legacy = folder / f"{slug}{_LEGACY_SUFFIX}"
        if wanted is not None and feed_key(record.podcast) not in wanted and not legacy.exists():
            continue
        written += _save_podcast(folder, record, cache_writes)
        if legacy.exists():  # only once the folder is whole and on disk
            legacy.unlink()
            _fsync_dir(folder)
    return written


def _save_podcast(
    folder: Path, record: PodcastArchive, cache_writes: DecodedCacheWrites | None
) -> list[Path]:
    """The podcast's changed files, `podcast.json` last; then the year files no episode is
    published in any more (dates moved), once the files that now hold those episodes are
    on disk."""
    podcast_folder = folder / record.podcast.slug
    if podcast_folder.is_dir():
        _remove_stale_temp_files(podcast_folder)
    else:
        podcast_folder.mkdir()
        _fsync_dir(folder)
    files = encode_podcast_files(record)
    decoded = _decoded_files(record)
    written: list[Path] = []
    for name in sorted(files, key=lambda n: n == PODCAST_FILE):  # podcast.json last
        path = podcast_folder / name
        if _current_bytes(path) != files[name]:
            replace_file(path, files[name], durable=True)
            written.append(path)
            if cache_writes is not None:
                cache_writes.add(f"{record.podcast.slug}/{name}", files[name], decoded[name])
    if written:
        _fsync_dir(podcast_folder)
    emptied = [
        p for p in podcast_folder.iterdir() if year_file_name(p.name) and p.name not in files
    ]
    for path in emptied:
        path.unlink()
    if emptied:
        _fsync_dir(podcast_folder)
    return written


def _decoded_files(record: PodcastArchive) -> dict[str, object]:
    """What each of the podcast's files decodes to, as load_archive reads them."""
    decoded: dict[str, object] = {PODCAST_FILE: record.podcast}
    by_year: dict[str, list[object]] = {}
    for episode in record.episodes:  # in archive order, as encode_podcast_files writes them
        by_year.setdefault(f"{archive_year(episode):04d}.json", []).append(episode)
    decoded.update((name, tuple(episodes)) for name, episodes in by_year.items())
    return decoded


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
