"""Writing pages with fingerprints: a page whose inputs did not change is kept, not rendered.

Each page's fingerprint (a hash of everything it shows) is kept in a manifest in the output
folder, a util.cache file under the fingerprint of the code and templates that write the
pages. When a page's fingerprint matches the last build's and its file exists, the page is
handed to `SiteWriter.keep` without being rendered; a missing, corrupt or foreign manifest
only means every page is rendered again.

Pages that go together (a show's episode pages, a listing's pages) form a group with one
fingerprint over all they show (`keep_group`). The manifest keeps a group's pages' own
fingerprints as the group's text, decoded only when the group changed: at 100,000 episodes
the site has 220,000 pages, and decoding and encoding every fingerprint took 0.4 s a build.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from devcasts.records import Episode
from devcasts.site import urls
from devcasts.site.writer import SiteWriter
from devcasts.util.cache import CacheFile

MANIFEST = ".render-manifest.json"  # dotfile: left out of the GitHub Pages upload
# 3: the pages outside groups, then a line per group; 2: one JSON object of every fingerprint,
# groups' among them; 1: {"version": 1, <kind>: fingerprints}, without a util.cache header
MANIFEST_VERSION = 3


@dataclass(slots=True)
class RenderReport:
    pages_written: int = 0  # files whose bytes changed (or that are new)
    pages_unchanged: int = 0  # files kept as they were (fingerprint or bytes unchanged)
    changed_pages: list[str] = field(default_factory=list)  # relpaths written, sorted


class PageOutput:
    """Writes pages, skips those whose fingerprint is unchanged, and keeps the manifest."""

    def __init__(
        self, writer: SiteWriter, manifest: Manifest, previous: Fingerprints | None = None
    ) -> None:
        self.writer = writer
        self.manifest = manifest
        self.previous = previous or Fingerprints()
        # The last build's fingerprint of each page outside a kept group: those of the pages
        # outside any group, and of the groups that changed (added as each turns out to).
        self._last = dict(self.previous.pages)
        self.fingerprints: dict[str, str] = {}  # this build's, of pages outside kept groups
        self.groups: dict[str, _Group] = {}
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
            if self._last.get(filename) == fingerprint and self.writer.keep_existing(filename):
                self.report.pages_unchanged += 1
                return
        self.data(filename, render().encode("utf-8"))

    def keep_group(
        self, key: str, fingerprint: str, pages: Sequence[tuple[str, datetime | None]]
    ) -> bool:
        """Keep every page of a group (`pages`: relpath, lastmod) when the group's fingerprint,
        over everything its pages show, is the last build's: none is fingerprinted or
        rendered, and the manifest keeps their fingerprints as they were. False, keeping
        nothing: `page` them, each then compared with its own fingerprint of the last build."""
        filenames = list(map(urls.output_file, (relpath for relpath, _ in pages)))
        last = self.previous.groups.get(key)
        if last is None or last[0] != fingerprint or not self.writer.keep_all_existing(filenames):
            self.groups[key] = _Group(fingerprint, filenames, None)
            if last is not None:
                self._last.update(self.previous.group_pages(key))
            return False
        self.groups[key] = _Group(fingerprint, filenames, last[1])
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
        pages = dict(self.fingerprints)
        groups: dict[str, tuple[str, str]] = {}
        for key, group in self.groups.items():
            if group.kept is None:  # its pages' fingerprints, as this build made them
                own = {f: pages.pop(f) for f in group.files if f in pages}
                groups[key] = (group.fingerprint, json.dumps(own, separators=(",", ":")))
            else:
                groups[key] = (group.fingerprint, group.kept)
        self.manifest.save(Fingerprints(pages, groups), self.previous)
        self.report.changed_pages.sort()
        return self.report


@dataclass(frozen=True, slots=True)
class _Group:
    fingerprint: str
    files: list[str]
    kept: str | None  # its pages' fingerprints as the manifest held them; None: rendered


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """A manifest's contents: the fingerprint of each page outside a group; each
    group's fingerprint and its pages' (as the manifest's text, decoded by `group_pages`)."""

    pages: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def group_pages(self, key: str) -> dict[str, str]:
        """The fingerprints of a group's pages; none when they cannot be read."""
        try:
            pages = json.loads(self.groups[key][1])
        except (KeyError, ValueError):
            return {}
        return _string_pairs(pages) or {}


def _string_pairs(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return value


class _FingerprintsText:
    """A manifest's encoding: the pages outside groups as one JSON object, then a line
    per group: its key (JSON), its fingerprint and its pages' fingerprints (a JSON object),
    tab-separated. JSON escapes every tab and line break within a key or an object."""

    def dumps(self, value: object) -> bytes:
        if not isinstance(value, Fingerprints):
            raise TypeError("a manifest holds Fingerprints")
        lines = [json.dumps(value.pages, separators=(",", ":"))]
        for key, (fingerprint, pages) in value.groups.items():
            if "\t" in fingerprint or "\n" in fingerprint or "\n" in pages:
                raise ValueError(f"a group's fingerprint or pages for {key!r} are not one line")
            lines.append(f"{json.dumps(key)}\t{fingerprint}\t{pages}")
        return "\n".join(lines).encode("utf-8")

    def loads(self, data: memoryview) -> Fingerprints:
        first, *lines = bytes(data).decode("utf-8").split("\n")
        pages = _string_pairs(json.loads(first))
        if pages is None:
            raise ValueError("the pages' fingerprints are not an object of strings")
        groups: dict[str, tuple[str, str]] = {}
        for line in lines:
            key, fingerprint, group_pages = line.split("\t", 2)
            name = json.loads(key)
            if not isinstance(name, str):
                raise ValueError("a group's key is not a string")
            groups[name] = (fingerprint, group_pages)
        return Fingerprints(pages, groups)


@dataclass(frozen=True, slots=True)
class Manifest:
    """The fingerprints of the files one sink wrote (the pages, the feeds), kept in the site
    as the dotfile `name` under the fingerprint of the code (and templates) that write them:
    None keeps none."""

    writer: SiteWriter
    name: str
    fingerprint: str | None

    def read(self) -> Fingerprints:
        """The previous build's fingerprints; an unusable manifest means "write all"."""
        return read_manifest(self.writer.out_dir, self.name, self.fingerprint)

    def save(self, fingerprints: Fingerprints, previous: Fingerprints) -> None:
        """Keep the manifest as it is when no fingerprint changed, else write it."""
        if fingerprints == previous and self.writer.keep_existing(self.name):
            return
        data = self._file().encode(fingerprints)
        if data is not None:
            self.writer.write(self.name, data)

    def _file(self) -> CacheFile:
        return _manifest_file(self.writer.out_dir, self.name, self.fingerprint)


def read_manifest(site_dir: Path, name: str, fingerprint: str | None) -> Fingerprints:
    """`Manifest.read` of the site in `site_dir`, without a writer (the site being read, not
    written: the live one, by the indexing child)."""
    return _manifest_file(site_dir, name, fingerprint).load(Fingerprints) or Fingerprints()


def _manifest_file(site_dir: Path, name: str, fingerprint: str | None) -> CacheFile:
    return CacheFile(site_dir / name, MANIFEST_VERSION, fingerprint, _FINGERPRINTS_TEXT)


_FINGERPRINTS_TEXT = _FingerprintsText()


def digest(*parts: object) -> str:
    """A fingerprint of frozen dataclasses, tuples and strings (their repr is stable)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def episode_digest(episode: Episode, cover: str | None = None) -> str:
    """What a page or a feed shows of an episode: its record's fingerprint (hashed once per
    record, and kept with it by the archive's decoded cache), and the cover shown with it."""
    return episode.fingerprint if cover is None else f"{episode.fingerprint} {cover}"


def files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
