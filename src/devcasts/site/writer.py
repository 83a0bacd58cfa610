"""Writing the site: only files whose bytes changed, and never a half-written site.

`site_transaction(out_dir)` builds the next site in `<out_dir>.spare`, a tree of hard links to
the current one: unchanged files keep their inode and mtime, a changed file is written as a new
file in place of its link (the live file is never touched). On success the tree is renamed
to `<out_dir>.ready` (it is now complete) and swapped in with renames; the previous site
becomes the spare tree of the next build, so a build re-links only what changed instead of
recreating every folder, and a journal in the spare tree says what that is (no scan of the
site). A build killed at any moment leaves either the previous site or the complete new one;
the next transaction finishes the swap, and repairs the spare tree.
"""

# Per-file operations use os and string paths: pathlib costs microseconds per call, which
# adds up at 40,000 files a build.
# ruff: noqa: PTH102, PTH103, PTH106, PTH108, PTH113, PTH116, PTH118, PTH120

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from devcasts.site.out_guard import MARKER, MARKER_TEXT
from devcasts.util.atomic import replace_file
from devcasts.util.lock import build_lock

__all__ = ["SiteWriter", "build_lock", "recover_site", "site_transaction"]


class SiteWriter:
    """Collects the files of one build.

    `write` puts a file's bytes in place only when they differ from what is there, so an
    unchanged page keeps its mtime. `keep` marks a file the build did not need to regenerate.
    `external_dir` hands a folder to a tool that writes files itself, and `external_changes`
    lets the tool say which files it changed there. `finish` removes every file that was
    neither written, kept, nor under an external folder.
    """

    def __init__(self, out_dir: Path, present: set[str] | None = None) -> None:
        self.out_dir = out_dir
        self.seen: set[str] = set()
        self.changed: list[str] = []
        self.removed: list[str] = []
        self.external: list[str] = []
        # External folders whose tool said what it changed: folder -> changed files (written
        # or removed). Only these files can differ from the live site, so no scan is needed.
        self.external_reports: dict[str, set[str]] = {}
        self._linked_external: set[str] = set()  # opened with keep_existing and replaces_only
        # In a transaction: the staging tree's files when the build began (no reader sees the
        # tree before the swap, so a file is written in place instead of renamed over, and
        # its folder made only when the file cannot be created without it).
        self._present = present
        # Bytes gained (or lost) by this build's writes and removals, by top-level folder
        # ("podcasts/") or file: with the last build's sizes, the site's size without a walk.
        self.bytes_delta: dict[str, int] = {}
        # Outside a transaction: the folders known to exist, so a page costs no stat or mkdir
        # it does not need.
        self._folders: set[str] = set()

    def write(self, relpath: str, data: bytes) -> bool:
        relpath = _safe_relpath(relpath)
        self.seen.add(relpath)
        target = os.path.join(self.out_dir, relpath)
        present = self._present
        old_size = _size(target) if present is None or relpath in present else None
        if old_size == len(data) and _same_bytes(target, data):
            return False
        self._count(relpath, len(data) - (old_size or 0))
        if present is None:
            self._make_folder(relpath)
            replace_file(Path(target), data)
        else:
            _write_unlinked(target, data)
        self.changed.append(relpath)
        return True

    def write_text(self, relpath: str, text: str) -> bool:
        return self.write(relpath, text.encode("utf-8"))

    def _count(self, relpath: str, change: int) -> None:
        top, slash, _rest = relpath.partition("/")
        key = top + slash
        self.bytes_delta[key] = self.bytes_delta.get(key, 0) + change

    def keep(self, relpath: str) -> None:
        self.seen.add(_safe_relpath(relpath))

    def keep_existing(self, relpath: str) -> bool:
        """`keep` the file if it exists; tell whether it did."""
        relpath = _safe_relpath(relpath)
        if self._present is not None:
            found = relpath in self._present
        else:
            found = os.path.isfile(os.path.join(self.out_dir, relpath))
        if found:
            self.seen.add(relpath)
        return found

    def keep_all_existing(self, relpaths: Sequence[str]) -> bool:
        """`keep` every file if each exists; False, keeping none, if one does not."""
        if self._present is None:
            safe = list(map(_safe_relpath, relpaths))
            if not all(os.path.isfile(os.path.join(self.out_dir, rel)) for rel in safe):
                return False
            self.seen.update(safe)
            return True
        if not self._present.issuperset(relpaths):  # its paths are safe and normal
            return False
        self.seen.update(relpaths)
        return True

    def keep_folder(self, folder: str) -> None:
        """`keep` every file under `folder` as it is."""
        prefix = _safe_relpath(folder) + "/"
        if self._present is not None:
            self.seen.update(rel for rel in self._present if rel.startswith(prefix))
            return
        root = os.path.join(self.out_dir, prefix)
        for parent, _dirs, files in os.walk(root):
            rel_parent = os.path.relpath(parent, self.out_dir).replace(os.sep, "/")
            self.seen.update(f"{rel_parent}/{name}" for name in files)

    def _make_folder(self, relpath: str) -> None:
        folder = relpath.rpartition("/")[0]
        if not folder or folder in self._folders:
            return
        os.makedirs(os.path.join(self.out_dir, folder), exist_ok=True)
        while folder and folder not in self._folders:
            self._folders.add(folder)
            folder = folder.rpartition("/")[0]

    def external_dir(
        self, relpath: str, keep_existing: bool = False, replaces_only: bool = False
    ) -> Path:
        """A folder for a tool that writes its own files (a search index, say).

        The folder starts empty, or with `keep_existing` holds private copies of the current
        files, so the tool may rewrite them in place without touching the live site (in a
        transaction the other files are hard links to it). A tool that never writes into an
        existing file, only replaces files by renaming new ones over them or removes them,
        says `replaces_only`: its files then stay linked, which saves copying them all. The
        transaction compares the folder with the live one when it commits; `finish` leaves
        it alone.
        """
        relpath = _safe_relpath(relpath)
        folder = self.out_dir / relpath
        if folder.is_dir() and keep_existing:
            if not replaces_only:
                _unshare_files(folder)
        elif folder.is_dir():
            shutil.rmtree(folder)
            self._forget(relpath)
        folder.mkdir(parents=True, exist_ok=True)
        self.external.append(relpath)
        if keep_existing and replaces_only:
            self._linked_external.add(relpath)
        return folder

    def external_changes(
        self, relpath: str, written: Sequence[str] = (), removed: Sequence[str] = ()
    ) -> None:
        """What the tool did in an external folder: site-relative files added or replaced,
        and removed (files whose bytes did not change need not be listed). Empty lists say
        the folder was left alone. With such a report the commit compares only those files;
        without one it compares the whole folder with the live one.

        Only for a folder opened with `keep_existing` and `replaces_only`: its other files
        are then still hard links to the live ones.
        """
        folder = _safe_relpath(relpath)
        if folder not in self._linked_external:
            raise ValueError(f"{folder!r} was not opened with keep_existing and replaces_only")
        changed = {_safe_relpath(rel) for rel in (*written, *removed)}
        outside = sorted(rel for rel in changed if not rel.startswith(folder + "/"))
        if outside:
            raise ValueError(f"files outside the external folder {folder!r}: {outside[:3]}")
        self.external_reports.setdefault(folder, set()).update(changed)

    def _forget(self, folder: str) -> None:
        """Files and folders under `folder` are gone: stop counting them as present."""
        prefix = folder + "/"
        if self._present is not None:
            self._present = {rel for rel in self._present if not rel.startswith(prefix)}
        self._folders = {rel for rel in self._folders if not rel.startswith(prefix)}

    def finish(self) -> list[str]:
        """Remove files this build did not produce, and emptied folders; return the files."""
        if self._present is None:
            removed = self._remove_unseen_by_walking()
        else:
            removed = self._remove_unseen(self._present)
        removed.sort()
        self.removed.extend(removed)
        return removed

    def _remove_unseen(self, present: set[str]) -> list[str]:
        """The staging tree's files are known: no directory walk, only the unlinks needed."""
        external = tuple(folder + "/" for folder in self.external)
        removed = [r for r in present - self.seen if not (external and r.startswith(external))]
        root = str(self.out_dir)
        folders: set[str] = set()
        for rel in removed:
            with contextlib.suppress(FileNotFoundError):
                path = os.path.join(root, rel)
                self._count(rel, -os.stat(path).st_size)
                os.unlink(path)
            folders.update(_ancestors(rel))
        present.difference_update(removed)  # a second finish() finds nothing more
        for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):  # deepest first
            try:
                os.rmdir(os.path.join(root, folder))
            except OSError:  # still holds something
                continue
            self._folders.discard(folder)
        return removed

    def _remove_unseen_by_walking(self) -> list[str]:
        removed: list[str] = []
        root = str(self.out_dir)
        emptied: set[str] = set()
        for folder, dirs, files in os.walk(root, topdown=False):  # children before parents
            prefix = "" if folder == root else folder[len(root) + 1 :].replace(os.sep, "/") + "/"
            kept = 0
            for name in files:
                rel = prefix + name
                if rel in self.seen or self._is_external(rel):
                    kept += 1
                    continue
                self._count(rel, -Path(folder, name).stat().st_size)
                Path(folder, name).unlink()
                removed.append(rel)
            if prefix and not kept and all(prefix + d in emptied for d in dirs):
                Path(folder).rmdir()
                emptied.add(prefix[:-1])
        return removed

    def files(self, external: set[str]) -> set[str]:
        """Every file of a transaction's finished tree: those present at the start and those
        written (minus the removed ones), with `external` for what the external folders hold
        now: the reported files still there, and every file of the scanned folders."""
        assert self._present is not None, "only a transaction's writer knows its files"
        files = (self._present | self.seen) - set(self.removed)
        files -= self.reported_external_files()  # only these can have come or gone
        scanned = tuple(folder + "/" for folder in self.scanned_external_folders())
        if scanned:
            files = {rel for rel in files if not rel.startswith(scanned)}
        return files | external

    def _is_external(self, rel: str) -> bool:
        return any(rel.startswith(folder + "/") for folder in self.external)

    def reported_external_files(self) -> set[str]:
        """The files of reported external folders that may differ from the live site."""
        return set().union(*self.external_reports.values())

    def scanned_external_folders(self) -> list[str]:
        """External folders compared in full with the live ones: those without a report."""
        return sorted(set(self.external) - set(self.external_reports))


@contextlib.contextmanager
def site_transaction(
    out_dir: Path, prune: bool = True, mark_site: bool = False
) -> Iterator[SiteWriter]:
    """Build the next site beside `out_dir` and swap it in only if the block succeeds.

    With `prune` (the default) files the build neither wrote nor kept are removed at commit,
    as `SiteWriter.finish` does. When nothing changed, `out_dir` is left exactly as it was.
    With `mark_site` the folder gets `out_guard.MARKER`, which tells a later build that the
    whole folder is a site it may replace. Run it under `build_lock`: two transactions on the
    same folder must not overlap.
    """
    out_dir = out_dir.absolute()
    recover_site(out_dir)
    spare = _sibling(out_dir, "spare")
    journal = _take_journal(out_dir, spare)  # gone before any write: a crash means full repair
    present = None
    if journal is not None:
        try:
            present = _catch_up(out_dir, spare, journal)
        except OSError:  # a file became a folder, say: the full scan sorts it out
            present = None
    if present is None:
        present = _mirror(out_dir, spare)
    writer = SiteWriter(spare, present=present)
    if mark_site:
        writer.write(MARKER, MARKER_TEXT)
    yield writer  # on an exception the spare tree is simply left for the next build to repair
    if prune:
        writer.finish()
    _commit(out_dir, spare, writer)


def recover_site(out_dir: Path) -> None:
    """Finish the swap a killed build started, if it got that far (see `_commit`)."""
    ready, old, spare = (_sibling(out_dir, role) for role in ("ready", "old", "spare"))
    if ready.is_dir():  # a complete site that was not swapped in yet: finish the swap
        if out_dir.exists() and not old.exists():
            out_dir.rename(old)
        elif out_dir.exists():
            shutil.rmtree(out_dir)
        ready.rename(out_dir)
    if old.exists():
        if spare.exists():
            shutil.rmtree(old)
        else:
            old.rename(spare)


def _commit(out_dir: Path, spare: Path, writer: SiteWriter) -> None:
    """Swap the finished tree in with renames; the previous site becomes the next spare.

    The names say how far a killed commit got: `ready` exists only once the new tree is
    complete, `old` only while the previous site steps aside. `recover_site` reads them.
    """
    reported, scanned = writer.reported_external_files(), writer.scanned_external_folders()
    reported_changed, reported_there = _settle_reported(out_dir, spare, reported)
    scanned_changed, scanned_files = _settle_external(out_dir, spare, scanned)
    external_changed = reported_changed or scanned_changed
    files = writer.files(reported_there | scanned_files)
    if not (writer.changed or writer.removed or external_changed):
        _write_journal(out_dir, spare, files, (), scanned)  # still the same files
        return  # the spare tree already mirrors the live one: nothing to swap
    ready, old = _sibling(out_dir, "ready"), _sibling(out_dir, "old")
    spare.rename(ready)
    if out_dir.exists():
        out_dir.rename(old)
    ready.rename(out_dir)
    if old.exists():
        old.rename(spare)
        stale = sorted({*writer.changed, *writer.removed, *reported})
    else:  # the first build: link a spare tree now, so the next build starts from one
        _link_tree(out_dir, spare, files)
        stale = []
    _write_journal(out_dir, spare, files, stale, scanned)


# --- the spare tree's journal ---------------------------------------------------------------
#
# After a commit the spare tree (the previous site) differs from the live one only in the
# files that build wrote or removed (external folders' reported files among them), and in
# the external folders whose tool reported nothing. The journal lists them, with every file
# of the live site, so the next build brings the spare tree up to date without scanning
# 20,000 folders. It is deleted before the spare tree is touched, so a
# killed build leaves none, and the next one repairs the spare tree by a full scan. It is
# trusted only while the live folder is the one it was written for (same inode and mtime):
# another program that replaces the site, or adds a file at its top, means a full scan.

JOURNAL = ".spare-journal.json"


def _root_stamp(out_dir: Path) -> list[int]:
    status = out_dir.stat()
    return [status.st_ino, status.st_mtime_ns]


JOURNAL_VERSION = 2  # 1: "files" a sorted list (sorting and checking 200,000 paths: 0.35 s)


def _write_journal(
    out_dir: Path, spare: Path, files: set[str], stale: Sequence[str], external: Sequence[str]
) -> None:
    document = {
        "version": JOURNAL_VERSION,
        "live": _root_stamp(out_dir),
        "stale": list(stale),
        "external": sorted(set(external)),
        "files": "\0".join(files),  # one string, in no order: decoded and checked at once
    }
    replace_file(spare / JOURNAL, json.dumps(document, separators=(",", ":")).encode())


def _take_journal(out_dir: Path, spare: Path) -> dict[str, list[str]] | None:
    """The journal the last build left in the spare tree, removed; None if not trustworthy."""
    path = spare / JOURNAL
    try:
        document = json.loads(path.read_bytes())
        path.unlink()
        live = _root_stamp(out_dir)
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return None
    if not isinstance(document, dict) or document.get("version") != JOURNAL_VERSION:
        return None
    if document.get("live") != live:
        return None
    files = document.get("files")
    lists = {key: document.get(key) for key in ("stale", "external")}
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists.values()):
        return None
    if not isinstance(files, str) or not _normal_relpaths(files):
        return None
    journal = {key: list(value) for key, value in lists.items() if isinstance(value, list)}
    return journal | {"files": files.split("\0") if files else []}


def _normal_relpaths(joined: str) -> bool:
    """Every path in `joined` (NUL-separated: no path holds one) is one `_safe_relpath` leaves
    as it is, checked on the whole text at once: no backslash, and with each "/" made a NUL
    too, no part empty, "." or ".."."""
    if not joined:
        return True
    parts = "\0" + joined.replace("/", "\0") + "\0"
    return "\\" not in joined and not any(bad in parts for bad in ("\0\0", "\0.\0", "\0..\0"))


def _catch_up(out_dir: Path, spare: Path, journal: dict[str, list[str]]) -> set[str]:
    """Fix only what the journal names; return the files the spare tree now holds."""
    for rel in journal["stale"]:
        rel = _safe_relpath(rel)
        live, there = out_dir / rel, spare / rel
        if live.is_file():
            there.parent.mkdir(parents=True, exist_ok=True)
            _link_over(live, there)
        else:
            there.unlink(missing_ok=True)
            _remove_empty_folders(spare, rel)
    files = set(journal["files"])  # normal paths (_take_journal)
    for folder in journal["external"]:
        folder = _safe_relpath(folder)
        prefix = folder + "/"
        files = {rel for rel in files if not rel.startswith(prefix)}
        (spare / folder).mkdir(parents=True, exist_ok=True)
        same_device = out_dir.stat().st_dev == spare.stat().st_dev
        _mirror_dir(str(out_dir / folder), str(spare / folder), prefix, same_device, files)
    return files


def _remove_empty_folders(root: Path, relpath: str) -> None:
    for folder in _ancestors(relpath):
        try:
            (root / folder).rmdir()
        except OSError:  # missing, or still holds something
            return


def _link_tree(source: Path, target: Path, files: set[str]) -> None:
    """A new tree at `target` of hard links to the `files` of `source`."""
    target.mkdir()
    for folder in sorted(_parents(files)):
        os.mkdir(os.path.join(target, folder))
    source_root, target_root = str(source), str(target)
    for rel in files:
        try:  # a new name: no unlink first, no Path objects (40,000 files)
            os.link(os.path.join(source_root, rel), os.path.join(target_root, rel))
        except OSError:
            _link_over(source / rel, target / rel)


def _settle_external(out_dir: Path, staging: Path, folders: list[str]) -> tuple[bool, set[str]]:
    """Relink identical files of external folders to the live ones; tell whether any differ,
    and the folders' files in `staging` (site-relative)."""
    changed = False
    found: set[str] = set()
    for folder in folders:
        live_root, new_root = out_dir / folder, staging / folder
        new_files = {p.relative_to(new_root) for p in new_root.rglob("*") if p.is_file()}
        live_files = (
            {p.relative_to(live_root) for p in live_root.rglob("*") if p.is_file()}
            if live_root.is_dir()
            else set()
        )
        changed |= new_files != live_files
        for rel in sorted(new_files & live_files):
            live, new = live_root / rel, new_root / rel
            if _same_contents(live, new):
                _link_over(live, new)
            else:
                changed = True
        found.update(f"{folder}/{rel.as_posix()}" for rel in new_files)
    return changed, found


def _settle_reported(out_dir: Path, staging: Path, reported: set[str]) -> tuple[bool, set[str]]:
    """Like `_settle_external`, for only the files a tool reported; the others are still
    links to the live files. Tell whether any differs from the live site, and which of the
    reported files are in `staging`."""
    changed = False
    found: set[str] = set()
    for rel in sorted(reported):
        live, new = out_dir / rel, staging / rel
        live_there, new_there = live.is_file(), new.is_file()
        if new_there:
            found.add(rel)
        if live_there and new_there and _same_contents(live, new):
            _link_over(live, new)
        elif live_there or new_there:
            changed = True
    return changed, found


def _same_contents(live: Path, new: Path) -> bool:
    """Same bytes; a file with the same inode, or the same size and mtime, is not read."""
    a, b = live.stat(), new.stat()
    if (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev):
        return True
    if a.st_size != b.st_size:
        return False
    return a.st_mtime_ns == b.st_mtime_ns or live.read_bytes() == new.read_bytes()


def _mirror(source: Path, target: Path) -> set[str]:
    """Make `target` hold exactly the files of `source`, as hard links to them; return them.

    Only differences are fixed: after the first build the spare tree is the previous site,
    so this costs a directory scan and a few links, not a copy of the whole site. Files are
    compared by the inode number the directory listing already holds, so an unchanged file
    costs no system call of its own.
    """
    target.mkdir(parents=True, exist_ok=True)
    files: set[str] = set()
    if source.is_dir():
        same_device = source.stat().st_dev == target.stat().st_dev
        _mirror_dir(str(source), str(target), "", same_device, files)
    return files


def _mirror_dir(source: str, target: str, prefix: str, same_device: bool, files: set[str]) -> None:
    wanted = _entries(source)
    present = _entries(target)
    for name, entry in present.items():
        match = wanted.get(name)
        if match is None or _is_dir(match) != _is_dir(entry):
            _remove_entry(entry)
    for name, entry in wanted.items():
        there = os.path.join(target, name)
        current = present.get(name)
        if _is_dir(entry):
            if current is None or not _is_dir(current):
                os.mkdir(there)
            _mirror_dir(entry.path, there, f"{prefix}{name}/", same_device, files)
            continue
        if current is None or _is_dir(current) or not _same_file(entry, current, same_device):
            _link_over(Path(entry.path), Path(there))
        files.add(prefix + name)


def _entries(folder: str) -> dict[str, os.DirEntry[str]]:
    try:
        with os.scandir(folder) as scan:
            return {entry.name: entry for entry in scan if not entry.is_symlink()}
    except FileNotFoundError:
        return {}


def _is_dir(entry: os.DirEntry[str]) -> bool:
    return entry.is_dir(follow_symlinks=False)


def _same_file(a: os.DirEntry[str], b: os.DirEntry[str], same_device: bool) -> bool:
    if same_device:  # inode numbers are unique within one file system
        return a.inode() == b.inode()
    first, second = a.stat(follow_symlinks=False), b.stat(follow_symlinks=False)
    return (first.st_ino, first.st_dev) == (second.st_ino, second.st_dev)


def _remove_entry(entry: os.DirEntry[str]) -> None:
    if _is_dir(entry):
        shutil.rmtree(entry.path)
    else:
        Path(entry.path).unlink()


def _link_over(source: Path, target: Path) -> None:
    """Make `target` a hard link to `source` (a copy where links are impossible)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _unshare_files(folder: Path) -> None:
    """Replace each file under `folder` by a copy of its own (same bytes and mtime)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            copy = path.with_name(f".{path.name}.copy")
            shutil.copy2(path, copy)
            copy.replace(path)


def _size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return None


def _same_bytes(path: str, data: bytes) -> bool:
    """The file holds `data` (its size is known to match)."""
    try:
        with open(path, "rb") as handle:
            return handle.read() == data
    except FileNotFoundError:
        return False


def _write_unlinked(target: str, data: bytes) -> None:
    """Write a staging file as a new inode: the old name may be a hard link to a live file.

    A build killed halfway leaves a file the next transaction's mirror replaces (its inode
    differs from the live file's), so no temporary name and rename are needed here.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:  # O_EXCL: never opens the existing (perhaps linked) file
        os.unlink(target)
        fd = os.open(target, flags, 0o644)
    except FileNotFoundError:  # a new folder
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd = os.open(target, flags, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the umask, as replace_file does
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _parents(files: set[str]) -> set[str]:
    folders: set[str] = set()
    for rel in files:
        folder = rel.rpartition("/")[0]
        while folder and folder not in folders:  # a known folder's parents are known too
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def _ancestors(relpath: str) -> Iterator[str]:
    """ "a/b/c.html" -> "a/b", "a"."""
    folder = relpath.rpartition("/")[0]
    while folder:
        yield folder
        folder = folder.rpartition("/")[0]


def _sibling(out_dir: Path, role: str) -> Path:
    return out_dir.with_name(f"{out_dir.name}.{role}")


# A path already in normal form: no backslash, no empty, "." or ".." part (the common case).
_NORMAL_RELPATH = re.compile(r"(?!\.\.?(?:/|$))[^/\\]+(?:/(?!\.\.?(?:/|$))[^/\\]+)*")


def _safe_relpath(relpath: str) -> str:
    """Reject absolute paths and `..` so no feed-derived name escapes the output folder."""
    if _NORMAL_RELPATH.fullmatch(relpath):
        return relpath
    parts = [p for p in relpath.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise ValueError(f"unsafe output path: {relpath!r}")
    return "/".join(parts)
