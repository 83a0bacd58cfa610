"""Writing the site: only changed files, swapped in whole, never half-written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devcasts.site import writer as output
from devcasts.site.writer import SiteWriter, recover_site, site_transaction


def make_site(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file's bytes, inode and mtime."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def contents(root: Path) -> dict[str, str]:
    return {rel: data.decode() for rel, (data, _, _) in snapshot(root).items()}


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f"{out.name}."))


def assert_no_leftovers(out: Path) -> None:
    """Only the spare tree (the previous site, reused by the next build) stays beside it."""
    assert siblings(out) in ([], [f"{out.name}.spare"])


SITE = {
    "index.html": "<h1>home</h1>",
    "podcasts/harbour/index.html": "harbour",
    "podcasts/harbour/fog/index.html": "fog",
    "feed.xml": "<rss/>",
}


def rebuild(writer: SiteWriter, files: dict[str, str]) -> None:
    for rel, text in files.items():
        writer.write_text(rel, text)


# --- SiteWriter on its own ------------------------------------------------------------------


def test_writer_rewrites_only_changed_files(tmp_path: Path) -> None:
    make_site(tmp_path, SITE)
    before = snapshot(tmp_path)
    writer = SiteWriter(tmp_path)
    assert not writer.write_text("index.html", "<h1>home</h1>")
    assert writer.write_text("feed.xml", "<rss version='2.0'/>")
    writer.keep("podcasts/harbour/index.html")
    assert writer.finish() == ["podcasts/harbour/fog/index.html"]
    assert not (tmp_path / "podcasts/harbour/fog").exists()  # emptied folder removed
    after = snapshot(tmp_path)
    assert after["index.html"] == before["index.html"]
    assert after["feed.xml"][0] == b"<rss version='2.0'/>"
    assert writer.changed == ["feed.xml"]
    assert writer.removed == ["podcasts/harbour/fog/index.html"]


def test_keep_existing_keeps_only_a_file_that_is_there(tmp_path: Path) -> None:
    make_site(tmp_path, SITE)
    (tmp_path / "podcasts/harbour/fog").mkdir(exist_ok=True)
    writer = SiteWriter(tmp_path)
    assert writer.keep_existing("podcasts/harbour/index.html")
    assert not writer.keep_existing("podcasts/harbour/gone.html")
    assert not writer.keep_existing("podcasts/harbour/fog")  # a folder is no file
    assert writer.seen == {"podcasts/harbour/index.html"}
    assert writer.finish() == ["feed.xml", "index.html", "podcasts/harbour/fog/index.html"]


def test_keep_existing_in_a_transaction_asks_the_staging_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    with site_transaction(out) as writer:
        assert writer.keep_existing("podcasts/harbour/index.html")
        assert not writer.keep_existing("podcasts/harbour/gone.html")
        assert not writer.keep_existing("podcasts/harbour/fog")
        assert writer.seen == {"podcasts/harbour/index.html"}
    assert contents(out) == {"podcasts/harbour/index.html": "harbour"}


def test_keep_all_existing_keeps_every_file_or_none(tmp_path: Path) -> None:
    make_site(tmp_path, SITE)
    (tmp_path / "podcasts/harbour/fog").mkdir(exist_ok=True)
    writer = SiteWriter(tmp_path)
    assert not writer.keep_all_existing(["index.html", "podcasts/harbour/gone.html"])
    assert not writer.keep_all_existing(["index.html", "podcasts/harbour/fog"])
    assert writer.seen == set()
    assert writer.keep_all_existing(["index.html", "./podcasts/harbour/index.html"])
    assert writer.seen == {"index.html", "podcasts/harbour/index.html"}
    with pytest.raises(ValueError, match="unsafe"):
        writer.keep_all_existing(["../index.html"])


def test_keep_all_existing_in_a_transaction_asks_the_staging_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    with site_transaction(out) as writer:
        assert not writer.keep_all_existing(["feed.xml", "podcasts/harbour/gone.html"])
        assert not writer.keep_all_existing(["../site/feed.xml"])
        assert writer.seen == set()
        assert writer.keep_all_existing(["feed.xml", "podcasts/harbour/index.html"])
    assert set(contents(out)) == {"feed.xml", "podcasts/harbour/index.html"}


def test_finish_removes_folders_emptied_at_every_depth(tmp_path: Path) -> None:
    make_site(tmp_path, {**SITE, "podcasts/harbour/fog/notes/a.txt": "a", "empty/x/y.txt": "y"})
    (tmp_path / "already-empty" / "deeper").mkdir(parents=True)
    writer = SiteWriter(tmp_path)
    rebuild(writer, {"index.html": "<h1>home</h1>", "feed.xml": "<rss/>"})
    assert writer.finish() == [
        "empty/x/y.txt",
        "podcasts/harbour/fog/index.html",
        "podcasts/harbour/fog/notes/a.txt",
        "podcasts/harbour/index.html",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.xml", "index.html"]


@pytest.mark.parametrize("bad", ["../escape.html", "/etc/passwd/../../x", "", "a/../../b"])
def test_writer_refuses_paths_outside_the_site(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="unsafe output path"):
        SiteWriter(tmp_path).write_text(bad, "x")


def test_writer_never_writes_into_an_existing_file(tmp_path: Path) -> None:
    """A leftover temp name hard-linked elsewhere must not be opened for writing."""
    make_site(tmp_path, {"page.html": "old"})
    outside = tmp_path.parent / f"{tmp_path.name}-outside.html"
    os.link(tmp_path / "page.html", outside)
    SiteWriter(tmp_path).write_text("page.html", "new")
    assert outside.read_text() == "old"
    assert (tmp_path / "page.html").read_text() == "new"


# --- transactions ---------------------------------------------------------------------------


def test_a_first_build_creates_the_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
    assert contents(out) == SITE
    assert_no_leftovers(out)


def test_a_rebuild_with_nothing_new_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    before, folder_inode = snapshot(out), out.stat().st_ino
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
    assert snapshot(out) == before
    assert out.stat().st_ino == folder_inode  # not even swapped
    assert_no_leftovers(out)


def test_one_change_rewrites_one_file_and_keeps_the_others_inode_and_mtime(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    before = snapshot(out)
    with site_transaction(out) as writer:
        rebuild(writer, {**SITE, "podcasts/harbour/fog/index.html": "fog, edited"})
        # The live site is untouched until the block ends.
        assert (out / "podcasts/harbour/fog/index.html").read_text() == "fog"
    after = snapshot(out)
    assert after["podcasts/harbour/fog/index.html"][0] == b"fog, edited"
    assert (
        after["podcasts/harbour/fog/index.html"][1] != before["podcasts/harbour/fog/index.html"][1]
    )
    for rel in ("index.html", "podcasts/harbour/index.html", "feed.xml"):
        assert after[rel] == before[rel]
    assert_no_leftovers(out)


def test_pages_the_build_no_longer_makes_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    smaller = {k: v for k, v in SITE.items() if "fog" not in k}
    with site_transaction(out) as writer:
        rebuild(writer, smaller)
    assert contents(out) == smaller
    assert writer.removed == ["podcasts/harbour/fog/index.html"]


def test_without_prune_unwritten_files_stay(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    with site_transaction(out, prune=False) as writer:
        writer.write_text("extra.html", "more")
    assert contents(out) == {**SITE, "extra.html": "more"}


def test_a_failing_build_leaves_the_site_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    before = snapshot(out)

    def failing_build() -> None:
        with site_transaction(out) as writer:
            writer.write_text("index.html", "half")
            writer.write_text("new.html", "half")
            raise RuntimeError("template exploded")

    with pytest.raises(RuntimeError, match="template exploded"):
        failing_build()
    assert snapshot(out) == before
    with site_transaction(out) as writer:  # the next build starts from the intact site
        rebuild(writer, SITE)
    assert snapshot(out) == before
    assert_no_leftovers(out)


def test_a_damaged_spare_tree_is_repaired_before_use(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    spare = tmp_path / "site.spare"
    make_site(spare, {"index.html": "half-built", "junk/left.html": "x", "feed.xml/oops": "x"})
    before = snapshot(out)
    with site_transaction(out) as writer:
        assert contents(spare) == SITE
        rebuild(writer, SITE)
    assert snapshot(out) == before
    assert_no_leftovers(out)


def test_the_spare_tree_is_reused_and_kept_in_step(tmp_path: Path) -> None:
    out = tmp_path / "site"
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
    for edit in ("one", "two", "three"):
        with site_transaction(out) as writer:
            spare = writer.out_dir
            assert snapshot(spare) == snapshot(out)  # same files, same inodes
            rebuild(writer, {**SITE, "feed.xml": edit})
        assert contents(out)["feed.xml"] == edit
        assert_no_leftovers(out)
    spare_folder = (tmp_path / "site.spare").stat().st_ino
    with site_transaction(out) as writer:
        rebuild(writer, {**SITE, "feed.xml": "three"})
    assert (tmp_path / "site.spare").stat().st_ino == spare_folder  # no change, no swap


def test_a_complete_site_left_ready_is_swapped_in(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    make_site(tmp_path / "site.ready", {**SITE, "index.html": "newer"})
    recover_site(out)
    assert contents(out)["index.html"] == "newer"
    assert siblings(out) == ["site.spare"]


def test_killed_between_the_two_renames_the_ready_site_is_used(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(tmp_path / "site.old", SITE)
    make_site(tmp_path / "site.ready", {**SITE, "index.html": "newer"})
    recover_site(out)
    assert contents(out)["index.html"] == "newer"
    assert siblings(out) == ["site.spare"]


def test_killed_after_the_swap_the_old_site_becomes_the_spare(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, SITE)
    make_site(tmp_path / "site.old", {"feed.xml": "stale"})
    recover_site(out)
    assert contents(out) == SITE
    assert siblings(out) == ["site.spare"]
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
    assert contents(out) == SITE
    assert_no_leftovers(out)


# --- folders written by other tools ---------------------------------------------------------


def test_an_unchanged_external_folder_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, {**SITE, "search/index.bin": "v1", "search/meta.json": "{}"})
    before = snapshot(out)
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        folder = writer.external_dir("search")
        assert not any(folder.iterdir())  # starts empty
        assert (out / "search/index.bin").read_text() == "v1"  # live copy untouched
        (folder / "index.bin").write_text("v1")
        (folder / "meta.json").write_text("{}")
    assert snapshot(out) == before


def test_a_changed_external_folder_is_swapped_in_keeping_identical_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, {**SITE, "search/index.bin": "v1", "search/meta.json": "{}"})
    before = snapshot(out)
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        folder = writer.external_dir("search")
        (folder / "index.bin").write_text("v2")
        (folder / "meta.json").write_text("{}")
    after = snapshot(out)
    assert after["search/index.bin"][0] == b"v2"
    assert after["search/meta.json"] == before["search/meta.json"]  # relinked: same inode
    assert after["index.html"] == before["index.html"]


def test_a_kept_external_folder_may_be_rewritten_in_place(tmp_path: Path) -> None:
    out = tmp_path / "search-site"
    make_site(out, {**SITE, "search/2023/index.bin": "old year", "search/2024/index.bin": "v1"})
    before = snapshot(out)
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        folder = writer.external_dir("search", keep_existing=True)
        assert (folder / "2023/index.bin").read_text() == "old year"
        with (folder / "2024/index.bin").open("w") as handle:  # in place, as some tools do
            handle.write("v2")
        assert (out / "search/2024/index.bin").read_text() == "v1"  # live copy untouched
    after = snapshot(out)
    assert after["search/2024/index.bin"][0] == b"v2"
    assert after["search/2023/index.bin"] == before["search/2023/index.bin"]  # same inode
    assert after["index.html"] == before["index.html"]


def test_a_kept_external_folder_left_alone_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    make_site(out, {**SITE, "search/index.bin": "v1"})
    before = snapshot(out)
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
        writer.external_dir("search", keep_existing=True)
    assert snapshot(out) == before


# --- the spare tree's journal ---------------------------------------------------------------


def test_the_first_build_leaves_a_spare_tree_and_a_journal(tmp_path: Path) -> None:
    out = tmp_path / "site"
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
    spare = tmp_path / "site.spare"
    assert {p.relative_to(spare).as_posix() for p in spare.rglob("*") if p.is_file()} == {
        *SITE,
        output.JOURNAL,
    }
    assert (spare / "feed.xml").stat().st_ino == (out / "feed.xml").stat().st_ino


def test_with_a_journal_the_spare_tree_is_caught_up_without_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
    monkeypatch.setattr(output, "_mirror", _no_full_scan)
    edits = [
        {**SITE, "feed.xml": "one"},
        {**SITE, "feed.xml": "one", "podcasts/new/index.html": "new"},
        {"index.html": "home", "feed.xml": "one"},  # a folder emptied
        {"index.html": "home", "feed.xml": "one"},  # nothing changed: no swap
        {"index.html": "home", "feed.xml": "two", "podcasts/harbour/index.html": "back"},
    ]
    for files in edits:
        with site_transaction(out) as writer:
            assert snapshot(writer.out_dir) == snapshot(out)
            rebuild(writer, files)
        assert contents(out) == files
        assert_no_leftovers(out)
    assert not (out / "podcasts/new").exists()


@pytest.mark.parametrize("damage", ["corrupt", "site replaced", "file added at the top"])
def test_an_untrustworthy_journal_means_a_full_scan(tmp_path: Path, damage: str) -> None:
    out = tmp_path / "site"
    for text in ("one", "two"):
        with site_transaction(out) as writer:
            rebuild(writer, {**SITE, "feed.xml": text})
    journal = tmp_path / "site.spare" / output.JOURNAL
    if damage == "corrupt":
        journal.write_text('{"version": 1, "live": [1')
    elif damage == "site replaced":
        (tmp_path / "copy").mkdir()
        for rel, text in contents(out).items():
            make_site(tmp_path / "copy", {rel: text})
        os.rename(out, tmp_path / "gone")
        os.rename(tmp_path / "copy", out)
    else:
        (out / "CNAME").write_text("casts.example.org")
    with site_transaction(out) as writer:
        assert contents(writer.out_dir) == contents(out)  # the spare tree was repaired
        rebuild(writer, {**SITE, "feed.xml": "three"})
    assert contents(out) == {**SITE, "feed.xml": "three"}


def test_a_journal_naming_a_path_out_of_the_tree_means_a_full_scan(tmp_path: Path) -> None:
    out = tmp_path / "site"
    for text in ("one", "two"):
        with site_transaction(out) as writer:
            rebuild(writer, {**SITE, "feed.xml": text})
    journal = tmp_path / "site.spare" / output.JOURNAL
    document = json.loads(journal.read_text())
    document["files"] += "\0../outside.html"
    journal.write_text(json.dumps(document))
    (tmp_path / "outside.html").write_text("not the site's")
    with site_transaction(out) as writer:
        rebuild(writer, {**SITE, "feed.xml": "three"})
    assert contents(out) == {**SITE, "feed.xml": "three"}
    assert (tmp_path / "outside.html").read_text() == "not the site's"


_PATH_PARTS = st.sampled_from(["a", "b.html", ".", "..", "", "...", ".x", "a\\b", "c\nd", " "])


@given(st.lists(st.lists(_PATH_PARTS, min_size=1, max_size=4).map("/".join), max_size=5))
def test_the_journal_checks_its_paths_as_the_writer_does(paths: list[str]) -> None:
    """The check of the journal's paths at once agrees with `_safe_relpath` path by path."""
    if paths == [""]:  # no paths and one empty path are the same text: there is none
        paths = []
    one_by_one = all(_is_kept_as_it_is(path) for path in paths)
    assert output._normal_relpaths("\0".join(paths)) is one_by_one


def _is_kept_as_it_is(relpath: str) -> bool:
    try:
        return output._safe_relpath(relpath) == relpath
    except ValueError:
        return False


def _no_full_scan(source: Path, target: Path) -> set[str]:
    raise AssertionError("the journal should have spared the full scan")


@given(st.lists(st.sampled_from(["a", "b.html", ".", "..", "", "...", ".x", "a\\b"]), max_size=6))
def test_safe_paths_are_normalized_and_never_climb(parts: list[str]) -> None:
    relpath = "/".join(parts)
    kept = [p for p in relpath.replace("\\", "/").split("/") if p not in ("", ".")]
    if not kept or ".." in kept:
        with pytest.raises(ValueError, match="unsafe"):
            SiteWriter(Path("x")).keep(relpath)
    else:
        writer = SiteWriter(Path("x"))
        writer.keep(relpath)
        assert writer.seen == {"/".join(kept)}


def test_a_staged_write_never_reaches_the_live_file_it_was_linked_to(tmp_path: Path) -> None:
    out = tmp_path / "site"
    with site_transaction(out) as writer:
        rebuild(writer, SITE)
    with site_transaction(out) as writer:
        staged = writer.out_dir / "feed.xml"
        assert staged.stat().st_ino == (out / "feed.xml").stat().st_ino  # linked, until written
        rebuild(
            writer, {**SITE, "feed.xml": "<rss>new</rss>", "podcasts/fresh/index.html": "fresh"}
        )
        assert (out / "feed.xml").read_text() == "<rss/>"  # the live site is untouched
        assert staged.stat().st_ino != (out / "feed.xml").stat().st_ino
    assert contents(out) == {
        **SITE,
        "feed.xml": "<rss>new</rss>",
        "podcasts/fresh/index.html": "fresh",
    }
