"""The decoded-archive cache: only ever faster, never different from decoding the JSON files."""

from __future__ import annotations

import dataclasses
import gc
import os
import pickle
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from test_archive import NOW, make_config, make_episode, make_feed, nested

from devcasts import records
from devcasts.archive import decoded_cache, files
from devcasts.archive.codec import ArchiveError
from devcasts.archive.decoded_cache import DecodedCacheWrites
from devcasts.archive.files import archive_dir, load_archive, save_archive
from devcasts.archive.merge import merge_feeds
from devcasts.archive.state import ArchiveState
from devcasts.catalog.build import build_catalog
from devcasts.catalog.overrides import Overrides
from devcasts.records import Chapter, Enclosure, Person

CACHE = "cache"
LIGHTHOUSE = ("lighthouse~2024.pickle", "lighthouse~podcast.pickle")
LIGHTHOUSE_AND_KEEPER = ("keeper~2024.pickle", "keeper~podcast.pickle", *LIGHTHOUSE)


def save_two_podcasts(content: Path, extra: int = 0) -> ArchiveState:
    rich = make_episode(
        7,
        title="Ünïcode \u2028 and a lone \ud800 surrogate",
        enclosure=Enclosure(url="https://example.test/7.mp3", type="audio/mpeg", length=12),
        chapters=(Chapter(0.0, "Intro"), Chapter(62.5, "Fog", "https://example.test")),
        people=(Person("Ada Keeper", "ada-keeper"),),
    )
    lighthouse = [rich, *(make_episode(n) for n in range(1, 4 + extra))]
    keeper = [make_episode(n, podcast="keeper") for n in range(3)]
    feeds = [make_feed(lighthouse), make_feed(keeper, slug="keeper")]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    save_archive(content, state)
    return state


def saved_with_cache(content: Path, state: ArchiveState, cache: Path) -> None:
    """As a build saves: entries fingerprinted with the writes, kept once committed."""
    writes = DecodedCacheWrites(cache)
    save_archive(content, state, cache_writes=writes)
    writes.commit()


def entries(cache: Path) -> list[str]:
    folder = cache / decoded_cache.DECODED_CACHE_FOLDER
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


DECODERS = ("decode_podcast_file", "decode_podcast_record", "decode_year_file")


def refuse_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, decoding an archive file fails the test: every file must be a hit."""

    def refuse(path: Path, data: bytes) -> None:
        raise AssertionError(f"{path.name} was decoded again")

    for name in DECODERS:
        monkeypatch.setattr(files, name, refuse)


def count_decoding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The archive files decoded from here on, as `podcast/name`."""
    decoded: list[str] = []

    def counting(decode: Callable[[Path, bytes], object]) -> Callable[[Path, bytes], object]:
        def count(path: Path, data: bytes) -> object:
            decoded.append(f"{path.parent.name}/{path.name}")
            return decode(path, data)

        return count

    for name in DECODERS:
        monkeypatch.setattr(files, name, counting(getattr(files, name)))
    return decoded


def test_a_cache_hit_gives_what_decoding_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = save_two_podcasts(tmp_path)
    fresh = load_archive(tmp_path)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == fresh == state
    assert entries(tmp_path / CACHE) == [*LIGHTHOUSE_AND_KEEPER]
    refuse_decoding(monkeypatch)
    cached = load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    assert cached == fresh
    assert [type(e) for e in cached.episodes()] == [type(e) for e in fresh.episodes()]
    config = make_config("lighthouse", "keeper")
    assert build_catalog(cached, config, Overrides()) == build_catalog(fresh, config, Overrides())


def _edit_keeping_the_size(path: Path) -> None:
    data = path.read_bytes()
    edited = data.replace(b"Keeper's log 2", b"Keeper's log Z", 1)
    assert edited != data and len(edited) == len(data)
    path.write_bytes(edited)


def test_a_hand_edit_of_the_same_size_is_read(tmp_path: Path) -> None:
    save_two_podcasts(tmp_path)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    path = archive_dir(tmp_path) / "lighthouse" / "2024.json"
    before = path.stat()
    _edit_keeping_the_size(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    loaded = load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    assert "Keeper's log Z" in {e.title for e in loaded.episodes()}
    assert loaded == load_archive(tmp_path)


def test_an_edit_that_puts_the_old_mtime_back_is_read(tmp_path: Path) -> None:
    """Same size, same mtime (a coarse clock, or touch -d): the cache goes by the bytes."""
    save_two_podcasts(tmp_path)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    path = archive_dir(tmp_path) / "lighthouse" / "2024.json"
    before = path.stat()
    _edit_keeping_the_size(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    loaded = load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    assert "Keeper's log Z" in {e.title for e in loaded.episodes()}


def _check_out(path: Path, data: bytes, stat: os.stat_result) -> None:
    """As a `git checkout` of an older version does: a new file with those bytes and mtime
    renamed over `path`."""
    checkout = path.with_name("checkout.tmp")
    checkout.write_bytes(data)
    os.utime(checkout, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    checkout.replace(path)


def test_a_replaced_file_is_read_even_with_its_old_size_and_mtime(tmp_path: Path) -> None:
    """A git checkout of an older version: the cache holds the newer one."""
    old_state = save_two_podcasts(tmp_path)
    path = archive_dir(tmp_path) / "lighthouse" / "2024.json"
    old_bytes, old_stat = path.read_bytes(), path.stat()
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    new_state = save_two_podcasts(tmp_path, extra=2)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == new_state != old_state

    _check_out(path, old_bytes, old_stat)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == old_state


def test_records_saved_with_a_cache_are_not_decoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first build writes the archive; the next one finds it decoded already."""
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(n) for n in range(4)])], NOW)
    saved_with_cache(tmp_path, state, tmp_path / CACHE)
    assert entries(tmp_path / CACHE) == [*LIGHTHOUSE]
    refuse_decoding(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state


def test_entries_of_saved_files_are_written_when_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline leaves the pickling to a forked child: nothing is kept before commit."""
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(n) for n in range(4)])], NOW)
    writes = DecodedCacheWrites(tmp_path / CACHE)
    save_archive(tmp_path, state, cache_writes=writes)
    assert entries(tmp_path / CACHE) == []
    writes.commit()
    assert entries(tmp_path / CACHE) == [*LIGHTHOUSE]
    refuse_decoding(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state


@pytest.mark.parametrize("committed", [False, True], ids=["decoded", "saved"])
def test_kept_records_carry_their_fingerprints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    """An entry keeps each episode's fingerprint: the next build does not hash it again,
    whether the entry was made from the JSON or from the records just saved."""
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(n) for n in range(4)])], NOW)
    if committed:
        writes = DecodedCacheWrites(tmp_path / CACHE)
        save_archive(tmp_path, state, cache_writes=writes)
        writes.commit()
    else:
        save_archive(tmp_path, state)
        load_archive(tmp_path, cache_dir=tmp_path / CACHE)  # decodes, and keeps the entries
    expected = [e.fingerprint for e in load_archive(tmp_path).episodes()]
    monkeypatch.setattr(records, "_record_digest", _refuse_hashing)
    kept = load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    assert [e.fingerprint for e in kept.episodes()] == expected


def test_kept_records_are_the_model_s_frozen_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are loaded through classes of their own (decoded_cache._loading_class): what
    comes out is the model's class, frozen, equal to what decoding gives, every nested record
    too."""
    people = (Person("Ada Sample", "ada-sample", "guest"),)
    chapters = (Chapter(0.0, "Intro"), Chapter(61.5, "Deploys", "https://example.org/"))
    enclosure = Enclosure("https://media.example.org/1.mp3", "audio/mpeg", 1234)
    episode = make_episode(1, people=people, chapters=chapters, enclosure=enclosure)
    state, _ = merge_feeds(ArchiveState(), [make_feed([episode])], NOW)
    saved_with_cache(tmp_path, state, tmp_path / CACHE)
    [decoded] = load_archive(tmp_path).episodes()
    refuse_decoding(monkeypatch)
    [kept] = load_archive(tmp_path, cache_dir=tmp_path / CACHE).episodes()
    assert kept == decoded and repr(kept) == repr(decoded)
    records_in = [kept, kept.enclosure, *kept.people, *kept.chapters]
    assert [type(r) for r in records_in] == [
        type(r) for r in [decoded, enclosure, *people, *chapters]
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        kept.title = "changed"  # type: ignore[misc]
    assert dataclasses.replace(kept, title="changed").title == "changed"


def _refuse_hashing(episode: object) -> str:
    raise AssertionError(f"hashed again: {episode!r}")


def test_a_file_edited_between_its_save_and_the_commit_is_read_again(tmp_path: Path) -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(n) for n in range(4)])], NOW)
    writes = DecodedCacheWrites(tmp_path / CACHE)
    save_archive(tmp_path, state, cache_writes=writes)
    _edit_keeping_the_size(archive_dir(tmp_path) / "lighthouse" / "2024.json")
    writes.commit()
    loaded = load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    assert "Keeper's log Z" in {e.title for e in loaded.episodes()}


@settings(max_examples=60, deadline=None)
@given(fields=nested)
def test_records_kept_when_saved_are_exactly_what_decoding_gives(
    tmp_path_factory: pytest.TempPathFactory, fields: dict[str, object]
) -> None:
    """Same values of the same types (repr tells 1 from 1.0, -0.0 from 0.0, time zones)."""
    episodes = [make_episode(1, **fields), make_episode(2)]
    state, _ = merge_feeds(ArchiveState(), [make_feed(episodes)], NOW)
    content = tmp_path_factory.mktemp("content")
    saved_with_cache(content, state, content / CACHE)
    with pytest.MonkeyPatch.context() as patch:
        refuse_decoding(patch)
        cached = load_archive(content, cache_dir=content / CACHE)
    assert repr(cached) == repr(load_archive(content))


def test_a_copied_archive_is_checked_by_its_bytes_not_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy (cp, a fresh clone) changes every inode and ctime, not a byte."""
    state = save_two_podcasts(tmp_path)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    for path in archive_dir(tmp_path).glob("*/*.json"):
        copy = path.with_name("copy.tmp")
        copy.write_bytes(path.read_bytes())
        copy.replace(path)
    refuse_decoding(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state


def _garbage(entry: Path) -> None:
    entry.write_bytes(b"\x80\x05not a pickle at all")


def _empty(entry: Path) -> None:
    entry.write_bytes(b"")


def _truncated(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[:-40])


def _header_and_body(data: bytes) -> tuple[bytes, bytes]:
    header, body = data.split(b"\n", 1)
    return header + b"\n", body


def _other_code(entry: Path) -> None:
    header, body = _header_and_body(entry.read_bytes())
    magic, fingerprint = header.rsplit(b" ", 1)
    entry.write_bytes(magic + b" " + fingerprint[::-1] + body)


def _other_version(entry: Path) -> None:
    header, body = _header_and_body(entry.read_bytes())
    entry.write_bytes(header.replace(b" 3 ", b" 2 ", 1) + body)


def _another_object(entry: Path) -> None:
    header, _ = _header_and_body(entry.read_bytes())
    entry.write_bytes(header + pickle.dumps({"podcast": "lighthouse"}))


def _another_podcast(entry: Path) -> None:
    header, _ = _header_and_body(entry.read_bytes())
    _, body = _header_and_body(entry.with_name("keeper~2024.pickle").read_bytes())
    entry.write_bytes(header + body)


def _a_folder(entry: Path) -> None:
    entry.unlink()
    entry.mkdir()


@pytest.mark.parametrize(
    "damage",
    [
        _garbage,
        _empty,
        _truncated,
        _other_code,
        _other_version,
        _another_object,
        _another_podcast,
    ],
)
def test_a_damaged_or_foreign_entry_is_ignored_then_rewritten(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[Path], None],
) -> None:
    content, cache = tmp_path / "content", tmp_path / CACHE
    state = save_two_podcasts(content)
    load_archive(content, cache_dir=cache)
    entry = cache / decoded_cache.DECODED_CACHE_FOLDER / "lighthouse~2024.pickle"
    damage(entry)
    assert load_archive(content, cache_dir=cache) == state
    refuse_decoding(monkeypatch)
    assert load_archive(content, cache_dir=cache) == state


def test_an_entry_that_cannot_be_replaced_costs_only_time(tmp_path: Path) -> None:
    content, cache = tmp_path / "content", tmp_path / CACHE
    state = save_two_podcasts(content)
    load_archive(content, cache_dir=cache)
    _a_folder(cache / decoded_cache.DECODED_CACHE_FOLDER / "lighthouse~2024.pickle")
    assert load_archive(content, cache_dir=cache) == state
    assert load_archive(content, cache_dir=cache) == state


_UNPICKLED: list[str] = []


def _record_unpickling() -> None:
    _UNPICKLED.append("unpickled")


class _Trap:
    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        return _record_unpickling, ()


@pytest.mark.parametrize(
    "header",
    [b"", b"devcasts decoded archive\nsomething else\n(1,)\n", b"devcasts cache 2 other\n"],
)
def test_a_foreign_pickle_is_never_unpickled(tmp_path: Path, header: bytes) -> None:
    content, cache = tmp_path / "content", tmp_path / CACHE
    state = save_two_podcasts(content)
    folder = cache / decoded_cache.DECODED_CACHE_FOLDER
    folder.mkdir(parents=True)
    (folder / "lighthouse~2024.pickle").write_bytes(header + pickle.dumps(_Trap()))
    _UNPICKLED.clear()
    assert load_archive(content, cache_dir=cache) == state
    assert _UNPICKLED == []


def test_entries_written_by_other_code_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another model or decoder (a new field, a changed default) means decoding again."""
    state = save_two_podcasts(tmp_path)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    monkeypatch.setattr(decoded_cache, "_code_fingerprint", lambda: "another version")
    decoded = count_decoding(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state
    assert sorted(decoded) == [
        "keeper/2024.json",
        "keeper/podcast.json",
        "lighthouse/2024.json",
        "lighthouse/podcast.json",
    ]


def test_only_changed_files_are_decoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_two_podcasts(tmp_path)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    new_state = save_two_podcasts(tmp_path, extra=1)
    decoded = count_decoding(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == new_state
    assert decoded == ["lighthouse/2024.json"]  # the year of the new episode, only


def test_entries_of_removed_files_and_leftover_temp_files_go(tmp_path: Path) -> None:
    save_two_podcasts(tmp_path)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    folder = tmp_path / CACHE / decoded_cache.DECODED_CACHE_FOLDER
    (folder / ".lighthouse.pickle.x1y2.tmp").write_bytes(b"killed mid-write")
    shutil.rmtree(archive_dir(tmp_path) / "keeper")
    loaded = load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    assert [record.podcast.slug for record in loaded.podcasts] == ["lighthouse"]
    assert entries(tmp_path / CACHE) == [*LIGHTHOUSE]


def test_an_unusable_cache_dir_costs_only_time(tmp_path: Path) -> None:
    state = save_two_podcasts(tmp_path / "content")
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    assert load_archive(tmp_path / "content", cache_dir=not_a_folder) == state


def test_a_broken_archive_file_is_an_error_even_when_cached(tmp_path: Path) -> None:
    save_two_podcasts(tmp_path)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    (archive_dir(tmp_path) / "keeper" / "2024.json").write_text('{"format": 2,\n "episodes": ')
    with pytest.raises(ArchiveError, match=r"keeper/2024\.json:2: not valid JSON"):
        load_archive(tmp_path, cache_dir=tmp_path / CACHE)


def test_the_collector_is_left_as_it_was(tmp_path: Path) -> None:
    save_two_podcasts(tmp_path)
    assert gc.isenabled()
    load_archive(tmp_path)
    assert gc.isenabled()
    gc.disable()
    try:
        load_archive(tmp_path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def count_reading(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The archive files read from here on, as `podcast/name`."""
    read: list[str] = []
    original = files.archive_bytes

    def counting(path: Path) -> bytes:
        read.append(f"{path.parent.name}/{path.name}")
        return original(path)

    monkeypatch.setattr(files, "archive_bytes", counting)
    return read


def settle(seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files unchanged for `seconds` count as settled, and every file here has been."""
    monkeypatch.setattr(decoded_cache, "SETTLED_NS", int(seconds * 1e9))
    time.sleep(seconds + 0.05)


def test_settled_files_are_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = save_two_podcasts(tmp_path)
    settle(0.2, monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state  # records their stats
    read = count_reading(monkeypatch)
    refuse_decoding(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state
    assert read == []


def test_an_edit_of_a_settled_file_is_read_whatever_its_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same size, the old mtime put back (touch -d): the ctime still moves, and no tool sets
    it back."""
    save_two_podcasts(tmp_path)
    settle(0.2, monkeypatch)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    path = archive_dir(tmp_path) / "lighthouse" / "2024.json"
    before = path.stat()
    _edit_keeping_the_size(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    read = count_reading(monkeypatch)
    loaded = load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    assert "Keeper's log Z" in {e.title for e in loaded.episodes()}
    assert read == ["lighthouse/2024.json"]


def test_a_settled_file_replaced_by_a_copy_of_other_bytes_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout writes a new file (a new inode) over the old one."""
    old_state = save_two_podcasts(tmp_path)
    path = archive_dir(tmp_path) / "lighthouse" / "2024.json"
    old_bytes, old_stat = path.read_bytes(), path.stat()
    new_state = save_two_podcasts(tmp_path, extra=2)
    settle(0.2, monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == new_state
    _check_out(path, old_bytes, old_stat)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == old_state


def test_a_file_just_written_is_read_until_it_settles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its stat is not recorded yet: an edit within the same clock tick would keep it."""
    state = save_two_podcasts(tmp_path)
    monkeypatch.setattr(decoded_cache, "SETTLED_NS", 3600 * 10**9)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    read = count_reading(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state
    assert len(read) == len(LIGHTHOUSE_AND_KEEPER)


def test_recorded_stats_of_other_code_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = save_two_podcasts(tmp_path)
    settle(0.2, monkeypatch)
    load_archive(tmp_path, cache_dir=tmp_path / CACHE)
    monkeypatch.setattr(decoded_cache, "_code_fingerprint", lambda: "other code")
    read = count_reading(monkeypatch)
    assert load_archive(tmp_path, cache_dir=tmp_path / CACHE) == state
    assert len(read) == len(LIGHTHOUSE_AND_KEEPER)
