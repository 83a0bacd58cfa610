"""Each archive file's decoded records, kept in the build's cache folder (`<cache>/archive/`),
so that a build decodes only the files that changed since the last one.

An entry is a `util.cache.CacheFile` named after its archive file, under a fingerprint of the
file's bytes and of the code that decoded them (this module, the codec and the model). The
JSON files stay the truth: an entry is used only for the very bytes it was decoded from.
Reading and hashing every file on every load cost a second at 100,000 episodes, so a stat
index (`stat-index.json`) remembers, per file, its size, times and inode with the fingerprint
of the bytes they had: a file whose stat is unchanged is not read again (as git trusts its
index). A file is entered only once its mtime is a few seconds old, so an edit within the
file system's clock tick after it was hashed cannot hide behind the same stat. Anything
unexpected in an entry is a miss and the entry is rewritten; a cache that cannot be written
is simply not used.

Entries are pickled, the one cache that is: unpickling a podcast's records takes half the
time of decoding its JSON again, which is the point. Only entries under this code's
fingerprint are unpickled, and the cache folder is the user's own.
"""

from __future__ import annotations

import copyreg
import io
import operator
import pickle
import time
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any

from devcasts import model, records
from devcasts.archive import codec, state
from devcasts.archive.codec import decode_podcast_file
from devcasts.archive.state import PodcastArchive
from devcasts.util.cache import CacheFile, fingerprint

__all__ = ["DECODED_CACHE_FOLDER", "DecodedCache", "DecodedCacheWrites"]

DECODED_CACHE_FOLDER = "archive"  # under the build's cache dir
ENTRY_VERSION = 2  # 1: entries with their own header and the file's stat, before util.cache
_SUFFIX = ".pickle"
STAT_INDEX = "stat-index.json"  # neither a dotfile nor an entry: forget_all_but leaves it
STAT_INDEX_VERSION = 1
SETTLED_SECONDS = 2.0  # a file's stat is trusted once its mtime is this old

StatKey = list[int]  # size, mtime_ns, ctime_ns, inode: JSON keeps it as a list


class DecodedCache:
    """The entries in one folder, one per archive file, and the stat index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        known = self._stat_index().load(dict)
        self._known: dict[str, object] = {} if known is None else known
        self._seen: dict[str, list[object]] = {}  # what this load confirmed, for the index

    def read(self, path: Path, read_bytes: Callable[[], bytes]) -> PodcastArchive:
        """The records of the archive file `path`: from its entry when that was decoded from
        the file's bytes (known by its unchanged stat, or read with `read_bytes` and hashed),
        else decoded (and kept)."""
        stat = _stat_key(path)
        known = self._known.get(path.stem)
        if stat is not None and isinstance(known, list) and len(known) == 2 and known[0] == stat:
            record = self._load(path, str(known[1]))
            if record is not None:
                self._seen[path.stem] = known
                return record
        data = read_bytes()
        entry_fingerprint = _entry_fingerprint(data)
        record = self._load(path, entry_fingerprint)
        if record is None:
            record = decode_podcast_file(path, data)
            self._entry(path, entry_fingerprint).save(record)
        if stat is not None and entry_fingerprint is not None and _settled(stat):
            self._seen[path.stem] = [stat, entry_fingerprint]
        return record

    def save_stat_index(self) -> None:
        """Keep the stats this load confirmed (files gone drop out)."""
        if self._seen != self._known:
            self._stat_index().save(self._seen)

    def _load(self, path: Path, entry_fingerprint: str | None) -> PodcastArchive | None:
        record = self._entry(path, entry_fingerprint).load(PodcastArchive)
        if record is not None and record.podcast.slug == path.stem:  # not another's, copied
            return record
        return None

    def _stat_index(self) -> CacheFile:
        return CacheFile(self.folder / STAT_INDEX, STAT_INDEX_VERSION, _code_fingerprint())

    def keep(self, path: Path, entry_fingerprint: str | None, record: PodcastArchive) -> None:
        self._entry(path, entry_fingerprint).save(record)

    def forget_all_but(self, stems: set[str]) -> None:
        """Drop entries of archive files that are gone, and temp files of a killed build."""
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or (entry.suffix == _SUFFIX and entry.stem not in stems):
                entry.unlink(missing_ok=True)

    def _entry(self, path: Path, entry_fingerprint: str | None) -> CacheFile:
        entry = self.folder / f"{path.stem}{_SUFFIX}"
        return CacheFile(entry, ENTRY_VERSION, entry_fingerprint, _RECORD_PICKLE)


class DecodedCacheWrites:
    """Entries for the archive files a build just wrote, fingerprinted at once and pickled
    later (`commit`): the pipeline leaves the pickling to a forked child while it renders.
    A file edited in between no longer has the bytes its entry names: a miss, never a wrong
    hit."""

    def __init__(self, cache_dir: Path) -> None:
        self._cache = DecodedCache(cache_dir / DECODED_CACHE_FOLDER)
        self._pending: list[tuple[Path, str | None, PodcastArchive]] = []

    def add(self, path: Path, data: bytes, record: PodcastArchive) -> None:
        """`data`, the bytes just written to `path`, decode to `record`."""
        self._pending.append((path, _entry_fingerprint(data), record))

    def commit(self) -> None:
        for path, entry_fingerprint, record in self._pending:
            self._cache.keep(path, entry_fingerprint, record)
        self._pending.clear()


def _stat_key(path: Path) -> StatKey | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _settled(stat: StatKey) -> bool:
    """Old enough that a later write gets another mtime, whatever the clock's tick."""
    return stat[1] < time.time_ns() - int(SETTLED_SECONDS * 1e9)


def _entry_fingerprint(data: bytes) -> str | None:
    code = _code_fingerprint()
    return None if code is None else fingerprint(decoder=code, archive_file=data)


@cache
def _code_fingerprint() -> str | None:
    """The code that decodes an archive file and shapes its records: an entry written by any
    other code is never trusted. None (no cache) if a source cannot be read."""
    return fingerprint(code=(codec, state, model, records, __name__))


# --- pickling the records, fast ----------------------------------------------------------


class _RecordPickle:
    """pickle, with the model's dataclasses reduced to `cls(*field values)`."""

    def dumps(self, value: object) -> bytes:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=5)
        pickler.dispatch_table = _record_reducers()
        try:
            pickler.dump(value)
        except pickle.PicklingError as error:
            raise ValueError(str(error)) from error
        return buffer.getvalue()

    def loads(self, data: memoryview) -> object:
        # Only entries under this code's fingerprint, in the build's own cache folder, get here.
        return pickle.loads(data)  # noqa: S301


_RECORD_PICKLE = _RecordPickle()
_Reducer = Callable[[Any], Any]  # instance -> (class, field values)


@cache
def _record_reducers() -> Mapping[type, _Reducer]:
    """The default pickling of slotted dataclasses sets each field by a Python call when
    loading: over twice as slow as calling the class with the values."""
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
