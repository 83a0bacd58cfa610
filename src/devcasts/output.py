"""Writing the site: only files whose bytes changed, and never a half-written site."""

from __future__ import annotations

from pathlib import Path


class SiteWriter:
    """Collects the files of one build. `write` returns True when the file's bytes changed."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir

    def write(self, relpath: str, data: bytes) -> bool:
        raise NotImplementedError
