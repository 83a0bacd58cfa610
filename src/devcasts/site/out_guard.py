"""Which output folders a build refuses: never the project's own files, never someone else's.

A build swaps its output folder out with renames (`site/` becomes `site.spare/`, and so on,
see `writer.py`) and deletes every file in it that it did not write. Pointed at the archive,
the templates, the cache, the project or a folder of other files, that destroys them. So
`survey` looks at the disk once (resolving `..` and symlinks), and `refusal`, a pure function
of what it found, says why the folder is refused, or None.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MARKER",
    "Contents",
    "OutputLayout",
    "check_output_folder",
    "refusal",
    "survey",
]

MARKER = ".devcasts-site"  # dotfile: left out of the GitHub Pages upload
MARKER_TEXT = b"Built by devcasts: the whole folder is replaced by each build.\n"
# A site from a build older than the marker holds the render manifest instead.
SITE_MARKS = (MARKER, ".render-manifest.json")
# The folders beside the output that a build renames into and out of it.
SIBLING_ROLES = ("spare", "ready", "old")


class Contents(enum.Enum):
    MISSING = "missing"
    EMPTY = "empty"
    SITE = "a devcasts site"
    FOREIGN = "other files"
    NOT_A_FOLDER = "not a folder"


@dataclass(frozen=True, slots=True)
class OutputLayout:
    """Absolute paths with symlinks resolved, and what the output folder holds now."""

    out: Path
    keep: Mapping[str, Path]  # what a build must not move or delete, by what it is called
    working: Path  # the folder the build runs in: neither it nor a parent may be replaced
    contents: Contents


def refusal(layout: OutputLayout) -> str | None:
    """Why the output folder is refused, or None when a build may replace it."""
    for role in ("", *SIBLING_ROLES):
        folder = _sibling(layout.out, role) if role else layout.out
        what = f"its {role} copy {folder}" if role else "it"
        reason = _overlap(folder, layout)
        if reason is not None:
            return f"{what} {reason}"
    if layout.contents is Contents.NOT_A_FOLDER:
        return "it is not a folder"
    if layout.contents is Contents.FOREIGN:
        return (
            f"it holds files devcasts did not write (no {MARKER} from an earlier build), "
            "which a build would delete; empty it or choose another folder"
        )
    return None


def _overlap(folder: Path, layout: OutputLayout) -> str | None:
    for name, kept in layout.keep.items():
        if folder == kept:
            return f"is {name} {kept}"
        if folder in kept.parents:
            return f"holds {name} {kept}"
        if kept in folder.parents:
            return f"lies inside {name} {kept}"
    if folder == layout.working or folder in layout.working.parents:
        return f"is or holds the working folder {layout.working}"
    return None


def survey(
    out_dir: Path,
    *,
    content_dir: Path,
    templates_dir: Path,
    cache_dir: Path,
    working: Path | None = None,
) -> OutputLayout:
    """The layout `refusal` judges, read from the disk."""
    out = _resolved(out_dir)
    keep = {
        "the content folder": _resolved(content_dir),
        "the templates folder": _resolved(templates_dir),
        "the cache folder": _resolved(cache_dir),
    }
    return OutputLayout(out, keep, _resolved(working or Path.cwd()), _contents(out))


def check_output_folder(
    out_dir: Path, *, content_dir: Path, templates_dir: Path, cache_dir: Path
) -> str | None:
    """`refusal` of the folder as it is on disk now."""
    layout = survey(
        out_dir, content_dir=content_dir, templates_dir=templates_dir, cache_dir=cache_dir
    )
    return refusal(layout)


def _resolved(path: Path) -> Path:
    """Absolute, with symlinks and `..` resolved as far as the path exists."""
    return Path(path).resolve()


def _contents(folder: Path) -> Contents:
    try:
        with os.scandir(folder) as scan:
            names = {entry.name for entry in scan}
    except FileNotFoundError:
        return Contents.MISSING
    except NotADirectoryError:
        return Contents.NOT_A_FOLDER
    if not names:
        return Contents.EMPTY
    if any(mark in names for mark in SITE_MARKS):
        return Contents.SITE
    return Contents.FOREIGN


def _sibling(folder: Path, role: str) -> Path:
    return folder.with_name(f"{folder.name}.{role}")
