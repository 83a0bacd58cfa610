"""How much room the built site takes, by top-level folder: GitHub Pages publishes a site of
at most 1 GB, so a build says when the site nears that and what takes the room."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PAGES_LIMIT_BYTES = 1_000_000_000  # GitHub Pages' published-site limit
WARN_BYTES = 800_000_000
NAMED_IN_WARNING = 4  # the largest folders a warning names


@dataclass(frozen=True, slots=True)
class SiteSize:
    total: int
    # "podcasts/" (or a top-level file) -> bytes, largest first
    by_folder: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, folders: dict[str, int]) -> SiteSize:
        """Top-level dotfiles (the build's manifests) are left out: GitHub Pages' upload
        leaves hidden files out, so they count for nothing there."""
        published = {name: size for name, size in folders.items() if not name.startswith(".")}
        ordered = tuple(sorted(published.items(), key=lambda item: (-item[1], item[0])))
        return cls(sum(published.values()), ordered)

    def warning(self) -> str | None:
        """What to tell the user when the site nears the limit, else None."""
        if self.total < WARN_BYTES:
            return None
        largest = ", ".join(
            f"{name} {_mb(size)}" for name, size in self.by_folder[:NAMED_IN_WARNING]
        )
        return (
            f"the site is {_mb(self.total)}, near GitHub Pages' limit of {_mb(PAGES_LIMIT_BYTES)}; "
            f"the most room: {largest} (docs/deploy.md says what to do past it)"
        )


def measure(site_dir: Path) -> SiteSize:
    """The bytes of every file under `site_dir`, summed by top-level folder (os.scandir: one
    stat per file, which a directory listing already holds on most file systems)."""
    sizes: dict[str, int] = {}
    with os.scandir(site_dir) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                sizes[entry.name + "/"] = _folder_bytes(entry.path)
            elif entry.is_file(follow_symlinks=False):
                sizes[entry.name] = entry.stat(follow_symlinks=False).st_size
    return SiteSize.of(sizes)


def _folder_bytes(folder: str) -> int:
    total = 0
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    return total


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB" if size >= 10_000_000 else f"{size / 1_000_000:.1f} MB"
