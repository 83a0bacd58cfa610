"""The in-browser search index: Pagefind, split into shards by year.

Pagefind has no incremental mode, and indexing 20,000 pages costs about half a minute and
gigabytes of memory. So episode pages are grouped by the year they were published, each
year is its own Pagefind bundle under `site/pagefind/<year>/`, and `static/search.js`
merges the bundles in the browser (`mergeIndex`). A new episode changes only the current
year's shard; only shards whose pages changed are re-indexed.

Markup this module relies on (written by the renderer on episode pages, whose files
`urls.is_episode_file` recognizes):

- `data-pagefind-body` on the element holding the episode's content (pages without it are
  left out of the search);
- `data-pagefind-sort="date:YYYY-MM-DD"` on an element (gives the shard's year, and lets
  the browser sort by date);
- `data-pagefind-filter="podcast"` and `data-pagefind-filter="topic"` elements, and
  `data-pagefind-meta` for title and date.

Files: `site/pagefind/shards.json` lists the shards; `<cache>/browser-index.json` (a
util.cache file, under the fingerprint of this module's code) remembers each page's content
hash and shard, so the next build knows which shards changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devcasts.errors import BuildError
from devcasts.site import urls
from devcasts.util.atomic import replace_file
from devcasts.util.cache import CacheFile, fingerprint

OUTPUT_DIR = urls.PAGEFIND_DIR
STATE_FILE = "browser-index.json"
STATE_VERSION = 2  # 1: {"version": 1, ...}, without a util.cache header
UNDATED = "undated"
EPISODE_PAGES = urls.EPISODE_FILES
# Pagefind also writes its ready-made UIs; search.js uses only the search API.
UNUSED_OUTPUT = re.compile(r"^pagefind-(ui|modular-ui|component-ui|highlight)\.(js|css)$")
_BODY = re.compile(rb"data-pagefind-body")
# The year of `data-pagefind-sort="date:2024-05-31"`, or of the date right after a bare
# `data-pagefind-sort="date"` (in a datetime attribute or the element's text).
_YEAR = re.compile(
    rb"""data-pagefind-sort=["'][^"']*\bdate\b[^>]{0,200}?>?[^0-9]{0,200}?((?:19|20)\d\d)-\d\d""",
    re.DOTALL,
)
TIMEOUT_SECONDS = 600


@dataclass(frozen=True, slots=True)
class BrowserIndexReport:
    skipped: bool  # nothing changed: Pagefind did not run
    seconds: float
    pages: int  # pages indexed by this run
    total_pages: int = 0  # pages in the whole browser index
    shards: tuple[str, ...] = ()  # every shard
    rebuilt: tuple[str, ...] = ()  # shards Pagefind indexed this run
    # Site-relative files under pagefind/ this run added or replaced, and removed; a file
    # whose bytes did not change is in neither (SiteWriter.external_changes takes them).
    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Page:
    relpath: str
    size: int
    mtime_ns: int
    digest: str
    shard: str | None  # None: no data-pagefind-body, not searchable


def build_browser_index(
    site_dir: Path,
    cache_dir: Path,
    changed_pages: Sequence[str] | None,
    language: str = "en",
) -> BrowserIndexReport:
    """Re-index the shards whose episode pages changed since the last build.

    `changed_pages` are site-relative paths written or removed by this build: when none is an
    episode page, Pagefind is skipped at once (if an index exists). None means "not known":
    every page is compared with what the last build saw.
    """
    started = time.perf_counter()
    state = _load_state(cache_dir)
    shards_path = site_dir / urls.pagefind_shards()
    episode_changed = changed_pages is None or any(map(urls.is_episode_file, changed_pages))
    if not episode_changed and state and shards_path.is_file():
        total = sum(1 for entry in state["pages"].values() if entry[3])
        return BrowserIndexReport(True, _since(started), 0, total, tuple(state["shards"]))

    pages = _scan_pages(site_dir, state.get("pages", {}) if state else {})
    shards = _group(pages)
    fingerprints = {name: _fingerprint(members) for name, members in shards.items()}
    previous = state.get("shards", {}) if state else {}
    stale = sorted(
        name
        for name in shards
        if previous.get(name) != fingerprints[name]
        or not (site_dir / OUTPUT_DIR / name / "pagefind-entry.json").is_file()
    )
    # Site-relative; never overlapping: a shard is published once, and only shards that
    # are no longer wanted are removed.
    written: set[str] = set()
    removed: set[str] = set()
    for name in stale:
        wrote, dropped = _index_shard(site_dir, cache_dir, name, shards[name], language)
        written |= wrote
        removed |= dropped
    removed |= _remove_old_shards(site_dir, cache_dir, set(shards))
    if _write_if_changed(shards_path, _shards_json(sorted(shards))):
        written.add(urls.pagefind_shards())
    _save_state(cache_dir, pages, fingerprints)
    return BrowserIndexReport(
        skipped=not stale,
        seconds=_since(started),
        pages=sum(len(shards[name]) for name in stale),
        total_pages=sum(len(members) for members in shards.values()),
        shards=tuple(sorted(shards)),
        rebuilt=tuple(stale),
        written=tuple(sorted(written)),
        removed=tuple(sorted(removed)),
    )


def browser_index_files(site_dir: Path) -> list[str]:
    """Site-relative paths of every file of the browser index, for SiteWriter.keep()."""
    root = site_dir / OUTPUT_DIR
    if not root.is_dir():
        return []
    return sorted(p.relative_to(site_dir).as_posix() for p in root.rglob("*") if p.is_file())


def pagefind_executable() -> Path:
    """The Pagefind binary shipped by the pagefind-bin package."""
    try:
        import pagefind_bin

        return Path(pagefind_bin.get_executable())
    except (ImportError, FileNotFoundError) as error:
        raise BuildError(
            "Pagefind is not installed (pip install pagefind-bin); or build with --no-browser-index"
        ) from error


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


# --- which pages, which shard ----------------------------------------------------------------


def _scan_pages(site_dir: Path, known: dict[str, list[Any]]) -> list[_Page]:
    """Every episode page with its hash and shard; unchanged files are not read again."""
    pages = []
    for path in sorted(site_dir.glob(EPISODE_PAGES)):
        relpath = path.relative_to(site_dir).as_posix()
        stat = path.stat()
        entry = known.get(relpath)
        if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            pages.append(_Page(relpath, stat.st_size, stat.st_mtime_ns, entry[2], entry[3]))
            continue
        data = path.read_bytes()
        pages.append(
            _Page(
                relpath,
                stat.st_size,
                stat.st_mtime_ns,
                hashlib.blake2b(data, digest_size=16).hexdigest(),
                _shard_of(data),
            )
        )
    return pages


def _shard_of(html: bytes) -> str | None:
    if not _BODY.search(html):
        return None
    year = _YEAR.search(html)
    return year.group(1).decode("ascii") if year else UNDATED


def _group(pages: Iterable[_Page]) -> dict[str, list[_Page]]:
    shards: dict[str, list[_Page]] = {}
    for page in pages:
        if page.shard is not None:
            shards.setdefault(page.shard, []).append(page)
    return shards


def _fingerprint(pages: Sequence[_Page]) -> str:
    digest = hashlib.sha256()
    for page in sorted(pages, key=lambda p: p.relpath):
        digest.update(f"{page.relpath}\0{page.digest}\n".encode())
    return digest.hexdigest()


# --- running Pagefind on one shard ---------------------------------------------------------


def _index_shard(
    site_dir: Path,
    cache_dir: Path,
    name: str,
    pages: Sequence[_Page],
    language: str,
) -> tuple[set[str], set[str]]:
    """Index a shard's pages alone: link them into a staging folder, run Pagefind on it.
    Returns the site's files written and removed, as _publish does."""
    stage = cache_dir / "pagefind-stage" / name
    output = cache_dir / "pagefind-out" / name
    shutil.rmtree(output, ignore_errors=True)
    _stage(site_dir, stage, [page.relpath for page in pages])
    command = [
        str(pagefind_executable()),
        "--site",
        str(stage),
        "--output-path",
        str(output),
        "--force-language",
        language,
        "--silent",
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BuildError(f"Pagefind failed on the {name} shard: {error}") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-800:]
        raise BuildError(
            f"Pagefind failed on the {name} shard (exit {result.returncode}): {detail}"
        )
    changes = _publish(output, site_dir / OUTPUT_DIR / name, urls.pagefind(f"{name}/"))
    shutil.rmtree(output, ignore_errors=True)
    return changes


def _stage(site_dir: Path, stage: Path, relpaths: Sequence[str]) -> None:
    """Make `stage` hold exactly the shard's pages, as hard links at their site paths.

    The folder is kept between builds and only corrected: creating and removing thousands
    of page folders costs more than Pagefind itself on some file systems.
    """
    wanted = set(relpaths)
    if stage.is_dir():
        for path in sorted(stage.rglob("*"), reverse=True):
            relpath = path.relative_to(stage).as_posix()
            if path.is_file() and relpath not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    made: set[Path] = set()
    for relpath in sorted(wanted):
        source, target = site_dir / relpath, stage / relpath
        if _same_file(source, target):
            continue
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.unlink(missing_ok=True)
        try:
            os.link(source, target)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(source, target)


def _same_file(source: Path, target: Path) -> bool:
    try:
        return source.samefile(target)
    except OSError:
        return False


def _publish(output: Path, target: Path, prefix: str) -> tuple[set[str], set[str]]:
    """Move Pagefind's output into the site. A file whose bytes did not change keeps the old
    copy (and its mtime); files Pagefind no longer writes are removed. Returns the files
    written and those removed, as `prefix` + the path under `target`.

    Files are moved in by rename, never written into: in a site transaction the old ones
    are hard links to the live site.
    """
    fresh = {rel for rel in _files_under(output) if not UNUSED_OUTPUT.match(rel.rpartition("/")[2])}
    written: set[str] = set()
    for relpath in sorted(fresh):
        source, destination = output / relpath, target / relpath
        if not _same_bytes(source, destination):
            destination.parent.mkdir(parents=True, exist_ok=True)
            source.replace(destination)
            written.add(prefix + relpath)
    stale = _files_under(target) - fresh
    for relpath in sorted(stale):
        (target / relpath).unlink()
    _remove_empty_folders(target)
    return written, {prefix + relpath for relpath in stale}


def _files_under(root: Path) -> set[str]:
    """Paths of the files under `root`, relative to it (os.walk: no stat per file)."""
    found: set[str] = set()
    for folder, _dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel_folder == "." else rel_folder + "/"
        found.update(prefix + name for name in files)
    return found


def _remove_empty_folders(root: Path) -> None:
    for folder, _dirs, _files in os.walk(root, topdown=False):  # children before parents
        if folder != str(root):
            with contextlib.suppress(OSError):  # still holds something
                Path(folder).rmdir()


def _same_bytes(source: Path, destination: Path) -> bool:
    try:
        if source.stat().st_size != destination.stat().st_size:
            return False
    except FileNotFoundError:
        return False
    return source.read_bytes() == destination.read_bytes()


def _remove_old_shards(site_dir: Path, cache_dir: Path, keep: set[str]) -> set[str]:
    """Shards with no page left: their bundle and their staging folder go. Returns the
    site's files removed."""
    removed: set[str] = set()
    for folder in _folders_not_in(site_dir / OUTPUT_DIR, keep):
        removed.update(urls.pagefind(f"{folder.name}/{rel}") for rel in _files_under(folder))
        shutil.rmtree(folder)
    for folder in _folders_not_in(cache_dir / "pagefind-stage", keep):
        shutil.rmtree(folder)
    return removed


def _folders_not_in(root: Path, keep: set[str]) -> list[Path]:
    if not root.is_dir():
        return []
    return [path for path in root.iterdir() if path.is_dir() and path.name not in keep]


def _shards_json(names: Sequence[str]) -> bytes:
    # Newest years first: the browser loads the first shard's pagefind.js.
    ordered = sorted((n for n in names if n != UNDATED), reverse=True)
    ordered += [UNDATED] if UNDATED in names else []
    return (json.dumps({"version": 1, "shards": ordered}, indent=1) + "\n").encode()


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Replace the file by rename when its bytes differ (the old one may be a hard link to
    the live site); tell whether it did."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, data)
    return True


# --- what the last build saw ----------------------------------------------------------------


def _state_file(cache_dir: Path) -> CacheFile:
    # Shards indexed by other code (another shard rule, other Pagefind options) are redone.
    return CacheFile(cache_dir / STATE_FILE, STATE_VERSION, fingerprint(code=(__name__,)))


def _load_state(cache_dir: Path) -> dict[str, Any] | None:
    state = _state_file(cache_dir).load(dict)
    if state is None:
        return None
    if not isinstance(state.get("pages"), dict) or not isinstance(state.get("shards"), dict):
        return None
    state["pages"] = {
        relpath: entry for relpath, entry in state["pages"].items() if _valid_entry(entry)
    }
    return state


def _valid_entry(entry: Any) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 4
        and all(isinstance(n, int) for n in entry[:2])
        and isinstance(entry[2], str)
        and (entry[3] is None or isinstance(entry[3], str))
    )


def _save_state(cache_dir: Path, pages: Sequence[_Page], shards: dict[str, str]) -> None:
    state = {
        "shards": dict(sorted(shards.items())),
        "pages": {p.relpath: [p.size, p.mtime_ns, p.digest, p.shard] for p in pages},
    }
    _state_file(cache_dir).save(state)
