"""External folders whose tool reports what it changed: only those files are compared,
swapped and caught up, and a missing report still means the full comparison."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devcasts.site import writer as output
from devcasts.site.writer import SiteWriter, site_transaction

SITE = {"index.html": "<h1>home</h1>", "feed.xml": "<rss/>"}
BUNDLE = {
    "search/2023/entry.json": "2023 v1",
    "search/2023/fragment/a.pf": "a",
    "search/2024/entry.json": "2024 v1",
    "search/2024/fragment/b.pf": "b",
    "search/shards.json": "[2024, 2023]",
}


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and inode (the journal file aside)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_ino)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != output.JOURNAL
    }


def contents(root: Path) -> dict[str, bytes]:
    return {rel: data for rel, (data, _) in snapshot(root).items()}


def rebuild(writer: SiteWriter, files: dict[str, str]) -> None:
    for rel, text in files.items():
        writer.write_text(rel, text)


def replace(root: Path, rel: str, text: str) -> None:
    """As Pagefind's publisher does: a new file renamed over the old name."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text)
    tmp.replace(path)


def first_build(out: Path) -> None:
    with site_transaction(out) as writer:
        rebuild(writer, {**SITE, **BUNDLE})


def open_bundle(writer: SiteWriter) -> Path:
    return writer.external_dir("search", keep_existing=True, replaces_only=True)


def forbid_scans(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """From now on a full mirror of the site or of a folder fails; the folders searched
    with rglob are recorded (the external folder must not be among them)."""
    searched: list[Path] = []
    rglob = Path.rglob

    def recording_rglob(self: Path, pattern: str):  # type: ignore[no-untyped-def]
        searched.append(self)
        return rglob(self, pattern)

    def refuse(*args: object) -> None:
        raise AssertionError("the journal and the report should have spared the scan")

    monkeypatch.setattr(output, "_mirror", refuse)
    monkeypatch.setattr(output, "_mirror_dir", refuse)
    monkeypatch.setattr(Path, "rglob", recording_rglob)
    return searched


def bundle_searches(searched: list[Path]) -> list[Path]:
    return [path for path in searched if "search" in path.parts[-2:]]


def remove(root: Path, rel: str) -> None:
    """As Pagefind's publisher does: the file goes, and its folder once empty."""
    (root / rel).unlink()
    folder = (root / rel).parent
    if not any(folder.iterdir()):
        folder.rmdir()


def test_a_reported_change_swaps_in_exactly_those_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    first_build(out)
    before = snapshot(out)
    searched = forbid_scans(monkeypatch)
    changed = ["search/2024/entry.json", "search/2024/fragment/c.pf", "search/shards.json"]
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        bundle = open_bundle(writer)
        replace(writer.out_dir, "search/2024/entry.json", "2024 v2")
        replace(writer.out_dir, "search/2024/fragment/c.pf", "c")
        replace(writer.out_dir, "search/shards.json", "[2024, 2023]")  # same bytes
        (bundle / "2024/fragment/b.pf").unlink()
        assert (out / "search/2024/entry.json").read_text() == "2024 v1"  # live untouched
        writer.external_changes("search", written=changed, removed=["search/2024/fragment/b.pf"])
    assert bundle_searches(searched) == []
    after = snapshot(out)
    expected = {rel: text.encode() for rel, text in {**SITE, **BUNDLE}.items()}
    del expected["search/2024/fragment/b.pf"]
    expected |= {"search/2024/entry.json": b"2024 v2", "search/2024/fragment/c.pf": b"c"}
    assert contents(out) == expected
    for rel in ("search/2023/entry.json", "search/2023/fragment/a.pf", "search/shards.json"):
        assert after[rel] == before[rel]  # kept, or relinked to the live file: same inode
    assert after["search/2024/entry.json"][1] != before["search/2024/entry.json"][1]


def test_after_a_reported_change_the_spare_tree_catches_up_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    first_build(out)
    searched = forbid_scans(monkeypatch)
    edits = [
        ({"search/2024/entry.json": "2024 v2", "search/2025/entry.json": "new"}, []),
        ({}, []),  # left alone: no swap
        ({"search/2023/entry.json": "2023 v2"}, ["search/2024/entry.json"]),
        ({}, ["search/2025/entry.json"]),  # a whole shard goes
    ]
    for round_number, (written, removed) in enumerate(edits):
        with site_transaction(out) as writer:
            live = snapshot(out)
            assert snapshot(writer.out_dir) == live  # same bytes, and links to the live files
            rebuild(writer, {**SITE, "feed.xml": f"<rss>{round_number}</rss>"})
            open_bundle(writer)
            for rel, text in written.items():
                replace(writer.out_dir, rel, text)
            for rel in removed:
                remove(writer.out_dir, rel)
            writer.external_changes("search", written=list(written), removed=removed)
        for rel, text in written.items():
            assert (out / rel).read_text() == text
        assert not any((out / rel).exists() for rel in removed)
    with site_transaction(out) as writer:
        assert snapshot(writer.out_dir) == snapshot(out)
    assert bundle_searches(searched) == []
    assert not (out / "search/2025").exists()
    assert not (tmp_path / "site.spare/search/2025").exists()


def test_an_untouched_reported_folder_is_not_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    first_build(out)
    before, folder_inode = snapshot(out), out.stat().st_ino
    searched = forbid_scans(monkeypatch)
    settled: list[list[str]] = []
    settle = output._settle_external

    def recording_settle(out_dir: Path, staging: Path, folders: list[str]) -> tuple[bool, set[str]]:
        settled.append(folders)
        return settle(out_dir, staging, folders)

    monkeypatch.setattr(output, "_settle_external", recording_settle)
    for _ in range(2):
        with site_transaction(out) as writer:
            rebuild(writer, SITE)
            open_bundle(writer)
            writer.external_changes("search")
    assert searched == [] and settled == [[], []]
    assert out.stat().st_ino == folder_inode  # nothing changed: not even swapped
    monkeypatch.undo()
    assert snapshot(out) == before


def test_a_folder_without_a_report_is_compared_in_full(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first_build(out)
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        open_bundle(writer)
        replace(writer.out_dir, "search/2023/entry.json", "2023 v2")  # and says nothing
    assert (out / "search/2023/entry.json").read_text() == "2023 v2"
    with site_transaction(out) as writer:
        assert contents(writer.out_dir) == contents(out)
        rebuild(writer, SITE)
        open_bundle(writer)
        writer.external_changes("search")
    assert (out / "search/2023/entry.json").read_text() == "2023 v2"


def test_a_folder_without_a_report_is_searched_once_in_each_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    first_build(out)
    searched = forbid_scans(monkeypatch)
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        open_bundle(writer)
        replace(writer.out_dir, "search/2023/entry.json", "2023 v2")  # and says nothing
        staging = writer.out_dir
    assert sorted(bundle_searches(searched)) == sorted([out / "search", staging / "search"])
    monkeypatch.undo()
    expected = {rel: text.encode() for rel, text in {**SITE, **BUNDLE}.items()}
    assert contents(out) == {**expected, "search/2023/entry.json": b"2023 v2"}


def test_a_build_killed_after_a_reported_change_repairs_the_spare_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first_build(out)
    before = snapshot(out)
    with pytest.raises(RuntimeError, match="killed"), site_transaction(out) as writer:
        rebuild(writer, SITE)
        open_bundle(writer)
        replace(writer.out_dir, "search/2024/entry.json", "half")
        writer.external_changes("search", written=["search/2024/entry.json"])
        raise RuntimeError("killed")
    assert snapshot(out) == before
    with site_transaction(out) as writer:  # no journal: the full mirror repairs the tree
        assert snapshot(writer.out_dir) == before
        rebuild(writer, SITE)
        open_bundle(writer)
        writer.external_changes("search")
    assert snapshot(out) == before


def test_a_report_needs_a_linked_folder_and_paths_inside_it(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first_build(out)
    with site_transaction(out) as writer:
        rebuild(writer, {**SITE, **BUNDLE})
        writer.external_dir("emptied")
        with pytest.raises(ValueError, match="keep_existing and replaces_only"):
            writer.external_changes("emptied")
        writer.external_dir("search", keep_existing=True)  # its files are private copies
        with pytest.raises(ValueError, match="keep_existing and replaces_only"):
            writer.external_changes("search")
        open_bundle(writer)
        with pytest.raises(ValueError, match="outside the external folder"):
            writer.external_changes("search", written=["index.html"])
        with pytest.raises(ValueError, match="unsafe output path"):
            writer.external_changes("search", removed=["search/../index.html"])


def test_a_staged_replacement_never_reaches_the_live_file(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first_build(out)
    live = out / "search/2023/entry.json"
    with site_transaction(out) as writer:
        staged = open_bundle(writer) / "2023/entry.json"
        assert os.path.samefile(staged, live)  # linked until replaced
        replace(writer.out_dir, "search/2023/entry.json", "2023 v2")
        assert live.read_text() == "2023 v1"
        writer.external_changes("search", written=["search/2023/entry.json"])
    assert live.read_text() == "2023 v2"
    assert (tmp_path / "site.spare/search/2023/entry.json").read_text() == "2023 v1"


def test_a_reported_new_file_alone_is_swapped_in(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first_build(out)
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        open_bundle(writer)
        replace(writer.out_dir, "search/2025/entry.json", "new year")
        writer.external_changes("search", written=["search/2025/entry.json"])
    assert (out / "search/2025/entry.json").read_text() == "new year"
    with site_transaction(out) as writer:
        assert snapshot(writer.out_dir) == snapshot(out)
