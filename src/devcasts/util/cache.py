"""Values kept between builds under a fingerprint of what made them: only ever a saving.

`fingerprint` hashes named inputs: values, files by their content, and code given as modules
(their source files), so that editing the code that wrote a cache invalidates it. A
`CacheFile` starts with a header naming its format version and that fingerprint; `load`
returns the value only under the same header, and any damage (a missing, truncated, foreign or
undecodable file, a value of the wrong type) is a miss, never an error. `save` replaces the
file atomically and leaves identical bytes alone. Values are JSON unless the cache brings its
own `Encoding`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol, TypeVar

from devcasts.util.atomic import replace_file

__all__ = ["JSON", "CacheFile", "Encoding", "fingerprint"]

T = TypeVar("T")
Code = ModuleType | str  # a module, or its dotted name (found without importing it)
Input = str | bytes | Path


def fingerprint(*, code: Iterable[Code] = (), **inputs: Input) -> str | None:
    """SHA-256 (hex) of Python's version, the source of each module in `code`, and each named
    input: a str or bytes as it is, a Path by the content of the file or of every file under
    the folder (one that does not exist counts as absent). None when a source or a file cannot
    be read: nothing made under such a fingerprint could be trusted."""
    digest = hashlib.sha256(sys.version.encode())
    for module in code:
        source = _source_digest(_source_file(module))
        if source is None:
            return None
        digest.update(b"code\0" + source + b"\0")
    for name in sorted(inputs):
        value = inputs[name]
        digest.update(b"input\0" + _sized(name.encode()))
        if isinstance(value, Path):
            try:
                _update_with_files(digest, value)
            except OSError:
                return None
        elif isinstance(value, str):
            digest.update(b"str\0" + _sized(value.encode("utf-8", "surrogatepass")))
        else:
            digest.update(b"bytes\0" + _sized(value))
    return digest.hexdigest()


def _source_file(module: Code) -> str | None:
    if isinstance(module, ModuleType):
        return getattr(module, "__file__", None)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


@functools.cache
def _source_digest(file: str | None) -> bytes | None:
    """Read once per process: the code running is the code that was imported."""
    if file is None:
        return None
    try:
        return hashlib.sha256(Path(file).read_bytes()).digest()
    except OSError:
        return None


def _update_with_files(digest: hashlib._Hash, root: Path) -> None:
    if root.is_file():
        digest.update(b"file\0" + _sized(root.read_bytes()))
        return
    digest.update(b"folder\0" if root.is_dir() else b"absent\0")
    for path in sorted(_files_under(root)):
        name = path.relative_to(root).as_posix().encode("utf-8", "surrogateescape")
        digest.update(b"file\0" + _sized(name) + _sized(path.read_bytes()))


def _files_under(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _sized(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


class Encoding(Protocol):
    """How a cache's values become bytes and back. `dumps` raises ValueError or TypeError for
    a value it cannot encode; whatever `loads` raises is taken as damage."""

    def dumps(self, value: object) -> bytes: ...

    def loads(self, data: memoryview) -> object: ...


class _Json:
    def dumps(self, value: object) -> bytes:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")

    def loads(self, data: memoryview) -> object:
        return json.loads(bytes(data))


JSON: Encoding = _Json()
_MAGIC = "devcasts cache"


@dataclass(frozen=True, slots=True)
class CacheFile:
    """One cache file: `version` is the layout of its values (raise it when that changes),
    `fingerprint` what they were made from; None means nothing is kept."""

    path: Path
    version: int
    fingerprint: str | None
    encoding: Encoding = JSON

    def load(self, kind: type[T]) -> T | None:
        """The stored value if it is a `kind` written under this version and fingerprint."""
        try:
            data = self.path.read_bytes()
        except OSError:
            return None
        return self.decode(data, kind)

    def save(self, value: object) -> None:
        """Keep `value`; a value or a file that cannot be written costs time, not a build."""
        data = self.encode(value)
        if data is None:
            return
        try:
            if _has_bytes(self.path, data):
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            replace_file(self.path, data)
        except OSError:
            pass

    def decode(self, data: bytes, kind: type[T]) -> T | None:
        """`load` of bytes read elsewhere (a file that another writer owns)."""
        header = self._header()
        if header is None or not data.startswith(header):
            return None
        try:
            value = self.encoding.loads(memoryview(data)[len(header) :])
        except Exception:  # any damage at all: a miss
            return None
        return value if isinstance(value, kind) else None

    def encode(self, value: object) -> bytes | None:
        """The file's bytes for `value`; None when nothing is to be kept."""
        header = self._header()
        if header is None:
            return None
        try:
            return header + self.encoding.dumps(value)
        except (TypeError, ValueError):
            return None

    def _header(self) -> bytes | None:
        if self.fingerprint is None:
            return None
        return f"{_MAGIC} {self.version} {self.fingerprint}\n".encode("ascii")


def _has_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False
