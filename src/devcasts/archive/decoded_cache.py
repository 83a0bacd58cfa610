"""Each archive file's decoded records, kept in the build's cache folder (`<cache>/archive/`),
so that a build decodes only the files that changed since the last one.

An entry is a `util.cache.CacheFile` named after its archive file (`show/2024.json` is
`show~2024`), under a fingerprint of the file's name and bytes and of the code that decoded
them (this module, the codec and the model). The JSON files stay the truth: they are read and
hashed on every load, and an entry is used only for the very bytes, under the very name, it
was decoded from. Anything unexpected in an entry is a miss and the entry is rewritten; a
cache that cannot be written is simply not used.

Entries are pickled, the one cache that is: unpickling a podcast's records takes half the
time of decoding its JSON again, which is the point. Only entries under this code's
fingerprint are unpickled, and the cache folder is the user's own.
"""

from __future__ import annotations

import copyreg
import io
import operator
import pickle
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
ENTRY_VERSION = 3  # 2: one entry per podcast file (format 1); 1: before util.cache
_SUFFIX = ".pickle"
T = TypeVar("T")


def entry_name(name: str) -> str:
    """The entry of an archive file named relative to the archive folder: `show/2024.json`
    is `show~2024` (slugs never hold a `~`), `show.json` (format 1) is `show`."""
    return name.removesuffix(".json").replace("/", "~")


class DecodedCache:
    """The entries in one folder, one per archive file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def read(
        self,
        path: Path,
        name: str,
        data: bytes,
        decode: Callable[[Path, bytes], T],
        fits: Callable[[object], bool],
    ) -> T:
        """What `decode` makes of the archive file `path` (`name` within the archive), whose
        bytes are `data`: from its entry when that was made from this name and these bytes
        and `fits` the file (not another's records, copied), else decoded (and kept)."""
        entry = self._entry(name, _entry_fingerprint(name, data))
        kept = entry.load(object)
        if kept is not None and fits(kept):
            return cast(T, kept)
        value = decode(path, data)
        entry.save(value)
        return value

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
