"""Each archive file's decoded records, kept in the build's cache folder (`<cache>/archive/`),
so that a build decodes only the files that changed since the last one.

An entry is a `util.cache.CacheFile` named after its archive file (`show/2024.json` is
`show~2024`), under a fingerprint of the file's name and bytes and of the code that decoded
them (this module, the codec and the model). The JSON files stay the truth: an entry is used
only for the very bytes, under the very name, it was decoded from. Anything unexpected in an
entry is a miss and the entry is rewritten; a cache that cannot be written is simply not used.

Reading and hashing 400 MB of archive on every build cost more than a second at 100,000
episodes, so the fingerprint of each file's bytes is also kept beside its stat (`files.stat`),
as git's index does: a file whose size, mtime, ctime and inode are those recorded is not read.
Any write changes its ctime, which no tool can set back; a copy or a checkout changes its
inode. A stat is recorded only once the file has not changed for a while (SETTLED_NS), so an
edit within the clock's tick of the recording is never taken for the recorded bytes.

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
from typing import Any, TypeVar, cast

from devcasts import model, records
from devcasts.archive import codec, state
from devcasts.archive.state import PodcastArchive
from devcasts.util.cache import CacheFile, fingerprint

__all__ = ["DECODED_CACHE_FOLDER", "DecodedCache", "DecodedCacheWrites", "entry_name"]

DECODED_CACHE_FOLDER = "archive"  # under the build's cache dir
ENTRY_VERSION = 4  # 3: no fingerprints kept; 2: an entry per podcast file (format 1)
_SUFFIX = ".pickle"
STATS_FILE = "files.stat"  # name -> [size, mtime_ns, ctime_ns, inode, entry fingerprint]
STATS_VERSION = 1
SETTLED_NS = 2_000_000_000  # a stat is recorded only when mtime and ctime are this much older
T = TypeVar("T")


def entry_name(name: str) -> str:
    """The entry of an archive file named relative to the archive folder: `show/2024.json`
    is `show~2024` (slugs never hold a `~`), `show.json` (format 1) is `show`."""
    return name.removesuffix(".json").replace("/", "~")


class DecodedCache:
    """The entries in one folder, one per archive file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stats_file = CacheFile(folder / STATS_FILE, STATS_VERSION, _code_fingerprint())
        self._loaded_stats: dict[str, list[object]] | None = None  # read by the first `read`
        self._stats_changed = False

    @property
    def _stats(self) -> dict[str, list[object]]:
        """The recorded stats, read once, and only by a cache that reads archive files (a
        build's DecodedCacheWrites only writes entries)."""
        if self._loaded_stats is None:
            self._loaded_stats = self._stats_file.load(dict) or {}
        return self._loaded_stats

    def read(
        self,
        path: Path,
        name: str,
        read_bytes: Callable[[], bytes],
        decode: Callable[[Path, bytes], T],
        fits: Callable[[object], bool],
    ) -> T:
        """What `decode` makes of the archive file `path` (`name` within the archive), whose
        bytes `read_bytes` gives: from its entry when that was made from this name and these
        bytes and `fits` the file (not another's records, copied), else decoded (and kept).
        A file whose stat is the one recorded with its bytes' fingerprint is not read."""
        stat = _stat(path)
        known = self._stats.get(name)
        if stat is not None and known is not None and known[:4] == list(stat) and known[4]:
            kept = self._entry(name, str(known[4])).load(object)
            if kept is not None and fits(kept):
                return cast(T, kept)
        data = read_bytes()
        entry_fingerprint = _entry_fingerprint(name, data)
        self._record(name, stat, path, entry_fingerprint)
        entry = self._entry(name, entry_fingerprint)
        kept = entry.load(object)
        if kept is not None and fits(kept):
            return cast(T, kept)
        value = decode(path, data)
        entry.save(value)
        return value

    def _record(
        self, name: str, stat: _Stat | None, path: Path, entry_fingerprint: str | None
    ) -> None:
        """Remember the fingerprint of the bytes just read under the file's stat, if it is
        settled and did not change while it was read."""
        self._stats_changed |= self._stats.pop(name, None) is not None
        if stat is None or entry_fingerprint is None or _stat(path) != stat:
            return
        _size, mtime_ns, ctime_ns, _inode = stat
        if max(mtime_ns, ctime_ns) > time.time_ns() - SETTLED_NS:
            return
        self._stats[name] = [*stat, entry_fingerprint]
        self._stats_changed = True

    def save_stats(self, names: set[str]) -> None:
        """Keep the stats recorded, those of the archive files `names` only."""
        gone = self._stats.keys() - names
        for name in gone:
            del self._stats[name]
        if self._stats_changed or gone:
            self._stats_file.save(self._stats)

    def keep(self, name: str, entry_fingerprint: str | None, value: object) -> None:
        self._entry(name, entry_fingerprint).save(value)

    def forget_all_but(self, names: set[str]) -> None:
        """Drop entries of archive files that are gone, and temp files of a killed build."""
        kept = {entry_name(name) for name in names}
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or (entry.suffix == _SUFFIX and entry.stem not in kept):
                entry.unlink(missing_ok=True)

    def _entry(self, name: str, entry_fingerprint: str | None) -> CacheFile:
        entry = self.folder / f"{entry_name(name)}{_SUFFIX}"
        return CacheFile(entry, ENTRY_VERSION, entry_fingerprint, _RECORD_PICKLE)


class DecodedCacheWrites:
    """Entries for the archive files a build just wrote, fingerprinted at once and pickled
    later (`commit`): the pipeline leaves the pickling to a forked child while it renders.
    A file edited in between no longer has the bytes its entry names: a miss, never a wrong
    hit."""

    def __init__(self, cache_dir: Path) -> None:
        self._cache = DecodedCache(cache_dir / DECODED_CACHE_FOLDER)
        self._pending: list[tuple[str, str | None, object]] = []

    def add(self, name: str, data: bytes, value: object) -> None:
        """`data`, the bytes just written to the archive file `name`, decode to `value`."""
        self._pending.append((name, _entry_fingerprint(name, data), value))

    def commit(self) -> None:
        for name, entry_fingerprint, value in self._pending:
            self._cache.keep(name, entry_fingerprint, value)
        self._pending.clear()


_Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def _stat(path: Path) -> _Stat | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _entry_fingerprint(name: str, data: bytes) -> str | None:
    code = _code_fingerprint()
    return None if code is None else fingerprint(decoder=code, name=name, archive_file=data)


@cache
def _code_fingerprint() -> str | None:
    """The code that decodes an archive file and shapes its records: an entry written by any
    other code is never trusted. None (no cache) if a source cannot be read."""
    return fingerprint(code=(codec, state, model, records, __name__))


# --- pickling the records, fast ----------------------------------------------------------


class _RecordPickle:
    """pickle, with the model's dataclasses reduced to their loading classes (below)."""

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
_Reducer = Callable[[Any], Any]  # instance -> (loading class, slot values)

# A memo slot of a record, and the property that fills it: kept filled, so that a build that
# loads the entry never works it out again.
_MEMOS: dict[type, dict[str, str]] = {records.Episode: {"_fingerprint": "fingerprint"}}


def _loading_class(cls: type) -> type:
    """A class with the slots of the frozen dataclass `cls`, whose __init__ sets them all and
    then makes the object a `cls`.

    Unpickling 100,000 episodes is most of a build's start, and most of that was the frozen
    dataclasses' __init__, which sets each field through a Python call to object.__setattr__
    (frozen forbids a plain assignment): this one assigns, as a class that is not frozen
    does, in half the time. The two classes have the very same slots, so the object is
    exactly what `cls(...)` makes; the code is generated as dataclasses generates __init__.
    """
    slots = tuple(spec.name for spec in fields(cls))
    assert slots == getattr(cls, "__slots__", None), cls  # the layout __class__ assignment needs
    body = "".join(f"    self.{name} = {name}\n" for name in slots)
    source = f"def __init__(self, {', '.join(slots)}):\n{body}    self.__class__ = cls\n"
    namespace: dict[str, Any] = {"cls": cls}
    exec(source, namespace)  # noqa: S102 -- made from the dataclass's own field names
    name = f"_Loading{cls.__name__}"
    loading = type(name, (), {"__slots__": slots, "__init__": namespace["__init__"]})
    loading.__module__, loading.__qualname__ = __name__, name  # where pickle finds it
    return loading


def _slot_reducer(cls: type, loading: type) -> _Reducer:
    memos = _MEMOS.get(cls, {})
    getters = [memos.get(spec.name, spec.name) for spec in fields(cls)]
    values = operator.attrgetter(*getters)
    if len(getters) == 1:
        return lambda instance: (loading, (values(instance),))
    return lambda instance: (loading, values(instance))


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


# Made at import, so that pickle finds them by name in any process that loads an entry.
_LOADING = {cls: _loading_class(cls) for cls in _dataclasses_within(PodcastArchive)}
globals().update({loading.__qualname__: loading for loading in _LOADING.values()})


@cache
def _record_reducers() -> Mapping[type, _Reducer]:
    table: dict[type, _Reducer] = {**copyreg.dispatch_table}
    for cls, loading in _LOADING.items():
        table[cls] = _slot_reducer(cls, loading)
    return table
