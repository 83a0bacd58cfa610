"""Writing pages with fingerprints: a page whose inputs did not change is kept, not rendered.

Each page's fingerprint (a hash of everything it shows) is kept in a manifest in the output
folder, a util.cache file under the fingerprint of the code and templates that write the
pages. When a page's fingerprint matches the last build's and its file exists, the page is
handed to `SiteWriter.keep` without being rendered; a missing, corrupt or foreign manifest
only means every page is rendered again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import cast

from devcasts.records import Episode
from devcasts.site import urls
from devcasts.site.writer import SiteWriter
from devcasts.util.cache import CacheFile

MANIFEST = ".render-manifest.json"  # dotfile: left out of the GitHub Pages upload
MANIFEST_VERSION = 2  # 1: {"version": 1, <kind>: fingerprints}, without a util.cache header


@dataclass(slots=True)
class RenderReport:
    pages_written: int = 0  # files whose bytes changed (or that are new)
    pages_unchanged: int = 0  # files kept as they were (fingerprint or bytes unchanged)
    changed_pages: list[str] = field(default_factory=list)  # relpaths written, sorted


class PageOutput:
    """Writes pages, skips those whose fingerprint is unchanged, and keeps the manifest."""

    def __init__(self, writer: SiteWriter, manifest: Manifest, previous: Mapping[str, str]) -> None:
        self.writer = writer
        self.manifest = manifest
        self.previous = previous
        self.fingerprints: dict[str, str] = {}
        self.html_pages: dict[str, datetime | None] = {}  # for sitemap.xml
        self.report = RenderReport()

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
        self.data(filename, render().encode("utf-8"))

    def keep_group(
        self, key: str, fingerprint: str, pages: Sequence[tuple[str, datetime | None]]
    ) -> bool:
        """Keep every page of a group (`pages`: relpath, lastmod) when the group's fingerprint,
        over everything its pages show, is the last build's: each keeps its manifest entry,
        and none is fingerprinted or rendered. False, keeping nothing counted: `page` them."""
        self.fingerprints[key] = fingerprint  # a key no file has: it starts with "#"
        if self.previous.get(key) != fingerprint:
            return False
        # Whole lists at a time: a show's group holds a thousand files, the site 200,000.
        filenames = list(map(urls.output_file, (relpath for relpath, _ in pages)))
        kept = list(map(self.previous.get, filenames))
        if None in kept or not self.writer.keep_all_existing(filenames):
            return False
        self.fingerprints.update(zip(filenames, cast("list[str]", kept), strict=True))
        self.html_pages.update(
            page
            for page, filename in zip(pages, filenames, strict=True)
            if filename.endswith(".html")
        )
        self.report.pages_unchanged += len(filenames)
        return True

    def data(self, relpath: str, data: bytes) -> None:
        self._count(relpath, self.writer.write(relpath, data))

    def _count(self, relpath: str, changed: bool) -> None:
        if changed:
            self.report.pages_written += 1
            self.report.changed_pages.append(relpath)
        else:
            self.report.pages_unchanged += 1

    def finish(self) -> RenderReport:
        """Keep or write the manifest; what was written and kept."""
        self.manifest.save(self.fingerprints, self.previous)
        self.report.changed_pages.sort()
        return self.report


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
# Never shown on a page or in a feed: bookkeeping of the archive.
NEVER_SHOWN = frozenset({"guid", "first_seen", "last_seen", "dropped"})
_NOT_HASHED_BY_NORMALIZE = attrgetter(
    *(
        f.name
        for f in dataclasses.fields(Episode)
        if f.name not in HASHED_BY_NORMALIZE and f.name not in NEVER_SHOWN
    )
)


def episode_digest(episode: Episode, *also: object) -> str:
    """`fields_digest(episode)` in a fifth of the time: the show notes, chapters and people
    are covered by the episode's content_hash and not hashed again; an episode without one
    is hashed whole. `also`: what else the caller shows with it (its cover), in one hash."""
    if not episode.content_hash:
        return digest(fields_digest(episode), also) if also else fields_digest(episode)
    return digest(_NOT_HASHED_BY_NORMALIZE(episode), len(episode.text), *also)


def files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
