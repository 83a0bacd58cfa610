"""The archive on disk: `content/archive/<podcast-slug>.json`, one file per podcast.

Each file holds the podcast's last known metadata and every episode ever seen (codec.py says
how), so the files diff well in git. Nothing is ever dropped: an episode that leaves its feed,
or whose feed fails, stays as it was. Files are replaced atomically and flushed to disk, being
the only copy of the history. Given the build's cache dir, load and save keep each file's
decoded records there (decoded_cache.py), so that a build decodes only the files that changed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devcasts.archive.codec import (
    ArchiveError,
    checked_slug,
    decode_podcast_file,
    encode_podcast_archive,
)
from devcasts.archive.decoded_cache import DECODED_CACHE_FOLDER, DecodedCache, DecodedCacheWrites
from devcasts.archive.state import ArchiveState, PodcastArchive, feed_key
from devcasts.util.atomic import replace_file

__all__ = ["ARCHIVE_FOLDER", "archive_dir", "load_archive", "save_archive"]

ARCHIVE_FOLDER = "archive"


def archive_dir(content_dir: Path) -> Path:
    return content_dir / ARCHIVE_FOLDER


def load_archive(content_dir: Path, *, cache_dir: Path | None = None) -> ArchiveState:
    """Read every `content/archive/*.json`; a missing folder is an empty archive.

    With `cache_dir`, each file's decoded records are kept under it, and only the files that
    changed since are decoded again (or read at all: decoded_cache.py); the JSON files stay
    the truth.
    """
    folder = archive_dir(content_dir)
    if not folder.is_dir():
        return ArchiveState()
    paths = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
    cache = None if cache_dir is None else DecodedCache(cache_dir / DECODED_CACHE_FOLDER)
    with _collection_paused():
        records = [_read(path, cache) for path in paths]
    if cache is not None:
        cache.forget_all_but({path.stem for path in paths})
        cache.save_stat_index()
    return ArchiveState(tuple(sorted(records, key=lambda r: r.podcast.slug)))


def _read(path: Path, cache: DecodedCache | None) -> PodcastArchive:
    if cache is None:
        return decode_podcast_file(path, archive_bytes(path))
    return cache.read(path, lambda: archive_bytes(path))


def archive_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ArchiveError(path, f"cannot read: {error.strerror or error}") from error


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

    `only` limits the work to some podcasts, by feed key (ArchiveChanges.touched_podcasts,
    say); each file is named by its podcast's slug. Files of
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
        if wanted is not None and feed_key(record.podcast) not in wanted:
            continue
        path = folder / f"{checked_slug(record.podcast.slug)}.json"
        data = encode_podcast_archive(record)
        if _current_bytes(path) != data:
            replace_file(path, data, durable=True)
            written.append(path)
            if cache_writes is not None:
                cache_writes.add(path, data, record)
    if written:
        _fsync_dir(folder)
    return written


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
