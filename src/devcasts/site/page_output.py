"""Writing pages with fingerprints: a page whose inputs did not change is kept, not rendered.

Each page's fingerprint (a hash of everything it shows) is kept in a manifest in the output
folder, a util.cache file under the fingerprint of the code and templates that write the
pages. When a page's fingerprint matches the last build's and its file exists, the page is
handed to `SiteWriter.keep` without being rendered; a missing, corrupt or foreign manifest
only means every page is rendered again. Many pages to render are shared with a forked second
process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import NoReturn

from devcasts.errors import BuildError
from devcasts.util.processes import fork_is_safe, usable_cores
from devcasts.site import urls
from devcasts.site.writer import SiteWriter
from devcasts.records import Episode
from devcasts.util.cache import CacheFile

MANIFEST = ".render-manifest.json"  # dotfile: left out of the GitHub Pages upload
MANIFEST_VERSION = 2  # 1: {"version": 1, <kind>: fingerprints}, without a util.cache header
PARALLEL_MIN_PAGES = 2000  # fewer pages than this render faster than a fork is set up


@dataclass(slots=True)
class RenderReport:
    pages_written: int = 0  # files whose bytes changed (or that are new)
    pages_unchanged: int = 0  # files kept as they were (fingerprint or bytes unchanged)
    changed_pages: list[str] = field(default_factory=list)  # relpaths written, sorted


class PageOutput:
    """Writes pages, skips those whose fingerprint is unchanged, and keeps the manifest.

    Pages given while `deferring` is set are queued; `start_deferred` renders the queue in a
    forked second process when it is long enough to pay for one (the machine has a second
    core, and the process no other thread), while this one goes on with the other pages;
    `finish` collects what it wrote.
    """

    def __init__(self, writer: SiteWriter, manifest: Manifest, previous: Mapping[str, str]) -> None:
        self.writer = writer
        self.manifest = manifest
        self.previous = previous
        self.fingerprints: dict[str, str] = {}
        self.html_pages: dict[str, datetime | None] = {}  # for sitemap.xml
        self.report = RenderReport()
        self.deferring = False
        self._deferred: list[Job] = []
        self._helper: _Helper | None = None

    def page(
        self,
        relpath: str,
        render: Callable[[], str],
        fingerprint: str | None = None,
        lastmod: datetime | None = None,
    ) -> None:
        """Write the page at `relpath` (a path from urls) unless its fingerprint says it is
        current."""
        filename = urls.output_file(relpath)
        if filename.endswith(".html") and relpath != urls.not_found():
            self.html_pages[relpath] = lastmod
        if fingerprint is not None:
            self.fingerprints[filename] = fingerprint
            if self.previous.get(filename) == fingerprint and self.writer.keep_existing(filename):
                self.report.pages_unchanged += 1
                return
        if self.deferring:
            self._deferred.append((filename, render))
        else:
            self.data(filename, render().encode("utf-8"))

    def data(self, relpath: str, data: bytes) -> None:
        self._count(relpath, self.writer.write(relpath, data))

    def _count(self, relpath: str, changed: bool) -> None:
        if changed:
            self.report.pages_written += 1
            self.report.changed_pages.append(relpath)
        else:
            self.report.pages_unchanged += 1

    def start_deferred(self) -> None:
        """Render the queued pages: in a second process if there are enough of them."""
        jobs, self._deferred = self._deferred, []
        if len(jobs) >= PARALLEL_MIN_PAGES and fork_is_safe() and usable_cores() > 1:
            self._helper = _Helper.start(self.writer, jobs)
            return
        for filename, render in jobs:
            self.data(filename, render().encode("utf-8"))

    def join_deferred(self) -> None:
        """Help the second process, if any, with the pages left; count the files it wrote."""
        helper, self._helper = self._helper, None
        if helper is not None:
            try:
                for chunk in helper.chunks.claim():
                    for filename, render in chunk:
                        self.data(filename, render().encode("utf-8"))
            except BaseException:
                helper.stop()
                raise
            for relpath, changed in helper.join():
                self.writer.record(relpath, changed)
                self._count(relpath, changed)

    def abandon(self) -> None:
        """Stop the second process without waiting for its pages (the build failed)."""
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.stop()

    def finish(self) -> RenderReport:
        """Collect the second process's pages, then keep or write the manifest."""
        self.join_deferred()
        self.manifest.save(self.fingerprints, self.previous)
        self.report.changed_pages.sort()
        return self.report


Job = tuple[str, Callable[[], str]]  # a file to write, and how to render it
_CHUNK = 200  # pages claimed at a time by either process


class _Chunks:
    """The queued pages in chunks, claimed one at a time by either process.

    The counter lives in memory shared across the fork, so whichever process is free takes
    the next chunk: the main process joins in once it has rendered its own pages.
    """

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self.count = (len(jobs) + _CHUNK - 1) // _CHUNK
        self.claimed = multiprocessing.get_context("fork").Value("i", 0)

    def claim(self) -> Iterator[list[Job]]:
        while True:
            with self.claimed.get_lock():
                number = self.claimed.value
                self.claimed.value = number + 1
            if number >= self.count:
                return
            yield self.jobs[number * _CHUNK : (number + 1) * _CHUNK]


@dataclass(slots=True)
class _Helper:
    """A forked process that renders and writes pages, and reports what it wrote.

    It shares the parent's memory as it was at the fork (catalog, templates, the writer's
    view of the staging tree), so only the list of written paths travels back, as JSON
    through a pipe. It leaves with os._exit: none of the parent's cleanup runs twice.
    """

    pid: int
    reader: int
    chunks: _Chunks

    @classmethod
    def start(cls, writer: SiteWriter, jobs: list[Job]) -> _Helper:
        chunks = _Chunks(jobs)
        reader, sender = os.pipe()
        pid = os.fork()
        if pid == 0:  # the second process
            os.close(reader)
            _serve(writer, chunks, sender)  # never returns
        os.close(sender)
        return cls(pid, reader, chunks)

    def join(self) -> list[tuple[str, bool]]:
        with os.fdopen(self.reader, "rb") as pipe:
            payload = pipe.read()  # read to the end first: a full pipe would block the child
        _, status = os.waitpid(self.pid, 0)
        try:
            document = json.loads(payload)
        except ValueError:
            document = None
        if not isinstance(document, dict) or "written" not in document or status != 0:
            reason = document.get("error") if isinstance(document, dict) else None
            raise BuildError(f"rendering in a second process failed: {reason or status}")
        return [(str(relpath), bool(changed)) for relpath, changed in document["written"]]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.reader)


def _serve(writer: SiteWriter, chunks: _Chunks, sender: int) -> NoReturn:
    code = 1
    try:
        try:
            written = [
                (f, writer.write(f, render().encode("utf-8")))
                for chunk in chunks.claim()
                for f, render in chunk
            ]
            document: dict[str, object] = {"written": written}
            code = 0
        except Exception as error:  # reported by the parent, which raises it there
            document = {"error": f"{type(error).__name__}: {error}"}
        with os.fdopen(sender, "wb") as pipe:
            pipe.write(json.dumps(document).encode())
    finally:
        os._exit(code)


@dataclass(frozen=True, slots=True)
class Manifest:
    """The fingerprints of the files one sink wrote, kept in the site as the dotfile `name`
    under the fingerprint of the code (and templates) that write them: None keeps none."""

    writer: SiteWriter
    name: str
    fingerprint: str | None

    def read(self) -> dict[str, str]:
        """The previous build's fingerprints; an unusable manifest means "write all"."""
        entries = self._file().load(dict)
        return {} if entries is None else {str(k): str(v) for k, v in entries.items()}

    def save(self, fingerprints: Mapping[str, str], previous: Mapping[str, str]) -> None:
        """Keep the manifest as it is when no fingerprint changed, else write it compactly."""
        if fingerprints == previous and self.writer.keep_existing(self.name):
            return
        # Entries come in the same order for the same catalog: no need to sort 40,000 keys.
        data = self._file().encode(dict(fingerprints))
        if data is not None:
            self.writer.write(self.name, data)

    def _file(self) -> CacheFile:
        return CacheFile(self.writer.out_dir / self.name, MANIFEST_VERSION, self.fingerprint)


def digest(*parts: object) -> str:
    """A fingerprint of frozen dataclasses, tuples and strings (their repr is stable)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def fields_digest(record: object) -> str:
    """`digest(record)` for a dataclass, faster: its text fields are hashed as they are.

    The show notes and full text are most of an episode; repr() would copy and escape them.
    Each text is prefixed with its length, so no two different records hash alike.
    """
    kind: type = type(record)
    parts: list[str] = [kind.__qualname__]
    for name in _field_names(kind):
        value = getattr(record, name)
        if type(value) is str:
            parts += (f"\x00{name}:s{len(value)}:", value)
        else:
            parts += (f"\x00{name}:r:", repr(value))
    return hashlib.sha256("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


# Fields normalize's content_hash covers (normalize._content_hash) and no later stage changes.
# Overrides change the title and topics, the archive an undated episode's date: those, and
# every field not listed here, are hashed as they are. `text` is the notes' plain text, made
# from notes_html by normalize: pages show only its length (long notes are folded).
HASHED_BY_NORMALIZE = frozenset(
    {
        "link", "summary", "notes_html", "duration", "enclosure", "chapters", "chapters_url",
        "people", "transcripts", "language", "categories", "image", "number", "season",
        "explicit", "text",
    }
)  # fmt: skip
# Never shown on a page or in a feed: last_seen moves daily for every episode of a feed read.
NEVER_SHOWN = frozenset({"guid", "first_seen", "last_seen"})
_NOT_HASHED_BY_NORMALIZE = attrgetter(
    *(
        f.name
        for f in dataclasses.fields(Episode)
        if f.name not in HASHED_BY_NORMALIZE and f.name not in NEVER_SHOWN
    )
)


def episode_digest(episode: Episode) -> str:
    """`fields_digest(episode)` in a fifth of the time: the show notes, chapters and people
    are covered by the episode's content_hash and not hashed again; an episode without one
    is hashed whole."""
    if not episode.content_hash:
        return fields_digest(episode)
    return digest(_NOT_HASHED_BY_NORMALIZE(episode), len(episode.text))


def files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
