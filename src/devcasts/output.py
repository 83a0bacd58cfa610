"""Writing the site: only files whose bytes changed, and never a half-written site.

`site_transaction(out_dir)` builds the next site in `<out_dir>.staging`, a tree of hard links to
the current one: unchanged files keep their inode and mtime, a changed file is written as a new
file and renamed over its link (the live file is never touched). On success the staging tree
is renamed to `<out_dir>.ready` (it is now complete), then swapped in with two renames; the
previous site is removed afterwards. A build killed at any moment leaves either the previous
site or the complete new one, and the next transaction finishes or discards what was left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .lock import build_lock

__all__ = ["SiteWriter", "build_lock", "recover_site", "site_transaction"]


class SiteWriter:
    """Collects the files of one build.

    `write` puts a file's bytes in place only when they differ from what is there, so an
    unchanged page keeps its mtime. `keep` marks a file the build did not need to regenerate.
    `external_dir` hands a folder to a tool that writes files itself. `finish` removes every
    file that was neither written, kept, nor under an external folder.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.seen: set[str] = set()
        self.changed: list[str] = []
        self.removed: list[str] = []
        self.external: list[str] = []

    def write(self, relpath: str, data: bytes) -> bool:
        relpath = _safe_relpath(relpath)
        self.seen.add(relpath)
        target = self.out_dir / relpath
        if _has_bytes(target, data):
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace_file(target, data)
        self.changed.append(relpath)
        return True

    def write_text(self, relpath: str, text: str) -> bool:
        return self.write(relpath, text.encode("utf-8"))

    def keep(self, relpath: str) -> None:
        self.seen.add(_safe_relpath(relpath))

    def exists(self, relpath: str) -> bool:
        return (self.out_dir / _safe_relpath(relpath)).is_file()

    def external_dir(self, relpath: str, keep_existing: bool = False) -> Path:
        """A folder for a tool that writes its own files (a search index, say).

        The folder starts empty, or with `keep_existing` holds private copies of the current
        files, so the tool may rewrite them in place without touching the live site (in a
        transaction the other files are hard links to it). The transaction compares the
        folder with the live one when it commits; `finish` leaves it alone.
        """
        relpath = _safe_relpath(relpath)
        folder = self.out_dir / relpath
        if folder.is_dir() and keep_existing:
            _unshare_files(folder)
        elif folder.is_dir():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.external.append(relpath)
        return folder

    def finish(self) -> list[str]:
        """Remove files this build did not produce, and emptied folders; return the files."""
        removed: list[str] = []
        if not self.out_dir.is_dir():
            return removed
        for path in sorted(self.out_dir.rglob("*")):
            if path.is_file() or path.is_symlink():
                rel = path.relative_to(self.out_dir).as_posix()
                if rel not in self.seen and not self._is_external(rel):
                    path.unlink()
                    removed.append(rel)
        _remove_empty_dirs(self.out_dir)
        self.removed.extend(removed)
        return removed

    def _is_external(self, rel: str) -> bool:
        return any(rel.startswith(folder + "/") for folder in self.external)


@contextlib.contextmanager
def site_transaction(out_dir: Path, prune: bool = True) -> Iterator[SiteWriter]:
    """Build the next site beside `out_dir` and swap it in only if the block succeeds.

    With `prune` (the default) files the build neither wrote nor kept are removed at commit,
    as `SiteWriter.finish` does. When nothing changed, `out_dir` is left exactly as it was.
    Run it under `build_lock`: two transactions on the same folder must not overlap.
    """
    out_dir = out_dir.absolute()
    recover_site(out_dir)
    staging = _sibling(out_dir, "staging")
    _link_tree(out_dir, staging)
    writer = SiteWriter(staging)
    try:
        yield writer
        if prune:
            writer.finish()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _commit(out_dir, staging, writer)


def recover_site(out_dir: Path) -> None:
    """Finish or discard what a killed build left beside `out_dir`."""
    ready, old = _sibling(out_dir, "ready"), _sibling(out_dir, "old")
    shutil.rmtree(_sibling(out_dir, "staging"), ignore_errors=True)
    if ready.is_dir():  # a complete site that was not swapped in yet: finish the swap
        if out_dir.exists():
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
        ready.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _commit(out_dir: Path, staging: Path, writer: SiteWriter) -> None:
    external_changed = _settle_external(out_dir, staging, writer.external)
    if not (writer.changed or writer.removed or external_changed):
        shutil.rmtree(staging)
        return
    ready, old = _sibling(out_dir, "ready"), _sibling(out_dir, "old")
    staging.rename(ready)  # from here on the new site counts as built
    if out_dir.exists():
        out_dir.rename(old)
    ready.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _settle_external(out_dir: Path, staging: Path, folders: list[str]) -> bool:
    """Relink identical files of external folders to the live ones; tell whether any differ."""
    changed = False
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
            if _has_bytes(live, new.read_bytes()):
                _relink(live, new)
            else:
                changed = True
    return changed


def _relink(live: Path, new: Path) -> None:
    tmp = new.with_name(f".{new.name}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(live, tmp)
    except OSError:
        return  # no hard links here: the copy is fine, only its mtime differs
    tmp.replace(new)


def _link_tree(source: Path, target: Path) -> None:
    """Mirror `source` into `target` with hard links (copies where links are impossible)."""
    target.mkdir(parents=True)
    if not source.is_dir():
        return
    for root, dirs, files in os.walk(source):
        here = Path(root)
        there = target / here.relative_to(source)
        for name in dirs:
            if not (here / name).is_symlink():
                (there / name).mkdir()
        for name in files:
            if not (here / name).is_symlink():
                _link_or_copy(here / name, there / name)


def _link_or_copy(source: Path, target: Path) -> None:
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


def _has_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except FileNotFoundError:
        return False


def _replace_file(target: Path, data: bytes) -> None:
    """A new file renamed over the target: a hard-linked original is never written to."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _remove_empty_dirs(root: Path) -> None:
    for folder, _dirs, _files in os.walk(root, topdown=False):  # children before parents
        path = Path(folder)
        if path != root and not any(path.iterdir()):
            path.rmdir()


def _sibling(out_dir: Path, role: str) -> Path:
    return out_dir.with_name(f"{out_dir.name}.{role}")


def _safe_relpath(relpath: str) -> str:
    """Reject absolute paths and `..` so no feed-derived name escapes the output folder."""
    parts = [p for p in relpath.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise ValueError(f"unsafe output path: {relpath!r}")
    return "/".join(parts)
