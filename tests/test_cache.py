"""util.cache: a fingerprint of what made a value, and a cache file that damage only makes miss."""

from __future__ import annotations

import os
import pickle
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts import model
from devcasts.util import cache
from devcasts.util.cache import CacheFile, fingerprint

VALUE = {"pages": {"index.html": "a1b2", "podcasts/x/index.html": "c3d4"}, "count": 2}


def cache_file(path: Path, version: int = 1, fingerprint: str | None = "f00d") -> CacheFile:
    return CacheFile(path, version, fingerprint)


# --- the fingerprint ------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    first = fingerprint(code=(model,), name="x", data=b"\x00", folder=tmp_path)
    assert first is not None and len(first) == 64
    assert fingerprint(data=b"\x00", folder=tmp_path, name="x", code=(model,)) == first


def test_every_input_counts_and_so_does_its_name(tmp_path: Path) -> None:
    base = fingerprint(a="x", b="")
    assert fingerprint(a="x", b="y") != base
    assert fingerprint(a="", b="x") != base  # the same text under another name
    assert fingerprint(a="x") != base
    assert fingerprint(a=b"x", b="") != base  # bytes are not text
    assert fingerprint(a=tmp_path / "x", b="") != base  # nor is a path its name


def test_a_folder_counts_by_the_names_and_bytes_of_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    (folder / "partials").mkdir(parents=True)
    (folder / "base.html").write_text("<html>")
    (folder / "partials" / "nav.html").write_text("<nav>")
    seen = {fingerprint(templates=folder)}
    (folder / "partials" / "nav.html").write_text("<nav class=x>")
    seen.add(fingerprint(templates=folder))
    (folder / "partials" / "nav.html").rename(folder / "partials" / "menu.html")
    seen.add(fingerprint(templates=folder))
    (folder / "partials" / "__pycache__").mkdir()
    (folder / "partials" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert fingerprint(templates=folder) in seen  # compiled files are not sources
    assert len(seen) == 3


def test_a_missing_path_counts_as_absent_and_a_file_by_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    missing = fingerprint(file=path)
    assert missing is not None
    path.write_text("")
    assert fingerprint(file=path) not in {missing, None}


def test_code_counts_by_its_source(tmp_path: Path) -> None:
    def module(name: str, source: str) -> types.ModuleType:
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        made = types.ModuleType(name)
        made.__file__ = str(path)
        return made

    one, other = module("one", "X = 1\n"), module("other", "X = 2\n")
    same_as_one = module("same", "X = 1\n")
    assert fingerprint(code=(one,)) == fingerprint(code=(same_as_one,))
    assert fingerprint(code=(one,)) != fingerprint(code=(other,))
    assert fingerprint(code=(one, other)) != fingerprint(code=(other, one))


def test_code_may_be_named_without_being_imported() -> None:
    assert fingerprint(code=("devcasts.model",)) == fingerprint(code=(model,))


def test_unreadable_code_or_files_give_no_fingerprint(tmp_path: Path) -> None:
    without_source = types.ModuleType("nowhere")
    without_source.__file__ = str(tmp_path / "gone.py")
    assert fingerprint(code=(without_source,)) is None
    assert fingerprint(code=(types.ModuleType("no_file"),)) is None
    assert fingerprint(code=("devcasts.no_such_module",)) is None
    if os.geteuid() != 0:  # root reads any file
        secret = tmp_path / "secret"
        secret.write_text("x")
        secret.chmod(0)
        assert fingerprint(file=secret) is None


# --- the cache file -------------------------------------------------------------------------


def test_a_saved_value_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    cache_file(path).save(VALUE)
    assert cache_file(path).load(dict) == VALUE


def test_another_version_fingerprint_or_type_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    cache_file(path).save(VALUE)
    assert cache_file(path, version=2).load(dict) is None
    assert cache_file(path, fingerprint="beef").load(dict) is None
    assert cache_file(path).load(list) is None


def test_no_fingerprint_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    cache_file(path, fingerprint=None).save(VALUE)
    assert not path.exists()
    cache_file(path).save(VALUE)
    assert cache_file(path, fingerprint=None).load(dict) is None


def test_identical_bytes_are_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    cache_file(path).save(VALUE)
    before = path.stat()
    cache_file(path).save(dict(VALUE))
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    cache_file(path).save({**VALUE, "count": 3})
    assert cache_file(path).load(dict) == {**VALUE, "count": 3}


def test_a_value_json_cannot_hold_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    cache_file(path).save(VALUE)
    cache_file(path).save({"odd": float("nan")})
    cache_file(path).save({"odd": {1, 2}})
    assert cache_file(path).load(dict) == VALUE


def test_a_missing_or_unusable_place_costs_only_time(tmp_path: Path) -> None:
    assert cache_file(tmp_path / "missing.json").load(dict) is None
    (tmp_path / "a-folder.json").mkdir()
    assert cache_file(tmp_path / "a-folder.json").load(dict) is None
    cache_file(tmp_path / "a-folder.json").save(VALUE)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    cache_file(not_a_folder / "state.json").save(VALUE)
    assert cache_file(not_a_folder / "state.json").load(dict) is None


def test_bytes_read_elsewhere_decode_alike(tmp_path: Path) -> None:
    data = cache_file(tmp_path / "x").encode(VALUE)
    assert data is not None and data.startswith(b"devcasts cache 1 f00d\n")
    assert cache_file(tmp_path / "y").decode(data, dict) == VALUE


class _Pickle:
    def dumps(self, value: object) -> bytes:
        return pickle.dumps(value)

    def loads(self, data: memoryview) -> object:
        return pickle.loads(data)


def test_a_cache_may_bring_its_own_encoding(tmp_path: Path) -> None:
    path = tmp_path / "records.pickle"
    pickled = CacheFile(path, 1, "f00d", _Pickle())
    pickled.save(("a", 1.0, b"\x00"))
    assert pickled.load(tuple) == ("a", 1.0, b"\x00")
    assert cache_file(path).load(tuple) is None  # read as JSON: damage


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0), encoding=st.sampled_from(["json", "pickle"]))
def test_a_truncated_file_is_a_miss(
    tmp_path_factory: pytest.TempPathFactory, cut: int, encoding: str
) -> None:
    path = tmp_path_factory.mktemp("cache") / "value"
    chosen = cache.JSON if encoding == "json" else _Pickle()
    CacheFile(path, 1, "f00d", chosen).save(VALUE)
    data = path.read_bytes()
    path.write_bytes(data[: cut % len(data)])
    assert CacheFile(path, 1, "f00d", chosen).load(dict) is None


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1),
    encoding=st.sampled_from(["json", "pickle"]),
)
def test_damaged_bytes_never_raise(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, int]], encoding: str
) -> None:
    path = tmp_path_factory.mktemp("cache") / "value"
    chosen = cache.JSON if encoding == "json" else _Pickle()
    CacheFile(path, 1, "f00d", chosen).save(VALUE)
    data = bytearray(path.read_bytes())
    for position, byte in edits:
        data[position % len(data)] = byte
    path.write_bytes(bytes(data))
    loaded = CacheFile(path, 1, "f00d", chosen).load(dict)
    assert loaded is None or isinstance(loaded, dict)


@given(st.binary(max_size=300))
def test_any_bytes_at_all_are_a_miss_or_a_value_of_the_asked_type(data: bytes) -> None:
    header = b"devcasts cache 1 f00d\n"
    for encoding in (cache.JSON, _Pickle()):
        for candidate in (data, header + data):
            loaded = CacheFile(Path("unused"), 1, "f00d", encoding).decode(candidate, dict)
            assert loaded is None or isinstance(loaded, dict)
