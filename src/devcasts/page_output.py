"""Writing pages with fingerprints: a page whose inputs did not change is kept, not rendered.

Each page's fingerprint (a hash of everything it shows) is kept in a manifest in the output
folder. When a page's fingerprint matches the last build's and its file exists, the page is
handed to `SiteWriter.keep` without being rendered; a missing or corrupt manifest only means
every page is rendered again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from devcasts.output import SiteWriter

MANIFEST = ".render-manifest.json"  # dotfile: left out of the GitHub Pages upload


@dataclass(slots=True)
class RenderReport:
    pages_written: int = 0  # files whose bytes changed (or that are new)
    pages_unchanged: int = 0  # files kept as they were (fingerprint or bytes unchanged)
    changed_pages: list[str] = field(default_factory=list)  # relpaths written, sorted


class PageOutput:
    """Writes pages, skips those whose fingerprint is unchanged, and keeps the manifest."""

    def __init__(self, writer: SiteWriter, previous: Mapping[str, str]) -> None:
        self.writer = writer
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
        """Write `relpath` ("x/" means "x/index.html") unless its fingerprint says it is current."""
        filename = relpath + "index.html" if relpath.endswith("/") or not relpath else relpath
        if filename.endswith(".html") and filename != "404.html":
            self.html_pages[relpath] = lastmod
        if fingerprint is not None:
            self.fingerprints[filename] = fingerprint
            if self.previous.get(filename) == fingerprint and self.writer.exists(filename):
                self.writer.keep(filename)
                self.report.pages_unchanged += 1
                return
        self.data(filename, render().encode("utf-8"))

    def data(self, relpath: str, data: bytes) -> None:
        if self.writer.write(relpath, data):
            self.report.pages_written += 1
            self.report.changed_pages.append(relpath)
        else:
            self.report.pages_unchanged += 1

    def finish(self) -> RenderReport:
        """Keep the manifest as it is when no fingerprint changed, else write it compactly."""
        if self.fingerprints == self.previous and self.writer.exists(MANIFEST):
            self.writer.keep(MANIFEST)
        else:
            manifest = {"version": 1, "pages": self.fingerprints}
            text = json.dumps(manifest, sort_keys=True, separators=(",", ":")) + "\n"
            self.writer.write_text(MANIFEST, text)
        self.report.changed_pages.sort()
        return self.report


def read_manifest(writer: SiteWriter) -> dict[str, str]:
    """The previous build's fingerprints; a missing or corrupt manifest means "render all"."""
    path = writer.out_dir / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = document.get("pages") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {str(k): str(v) for k, v in entries.items()}


def digest(*parts: object) -> str:
    """A fingerprint of frozen dataclasses, tuples and strings (their repr is stable)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def files_digest(*roots: Path) -> str:
    hasher = hashlib.sha256()
    for root in roots:
        for path in sorted(files(root)):
            hasher.update(path.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return hasher.hexdigest()


def files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
