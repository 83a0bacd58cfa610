"""What tells a current search index from a missing or outdated one, without importing whoosh.

A build that finds nothing new asks only this; the index's schema (schema.py), its writer
and its searcher load whoosh. SCHEMA_VERSION is here, not in schema.py, for that reason.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_VERSION = 8  # bump on any change to schema.py's fields or how they are analyzed
MARKER_NAME = "devcasts-index.json"
INDEX_NAME = "MAIN"


def read_marker(index_dir: Path) -> int | None:
    try:
        data = json.loads((index_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("schema_version") if isinstance(data, dict) else None
    return version if isinstance(version, int) else None


def index_exists(index_dir: Path) -> bool:
    """True when an index of the current schema is there (a build may skip updating it)."""
    return read_marker(index_dir) == SCHEMA_VERSION and has_toc(index_dir)


def has_toc(index_dir: Path) -> bool:
    """Whether whoosh wrote the index's table of contents, `_<name>_<generation>.toc`;
    cheaper than whoosh's index.exists_in, which opens the whole index to tell."""
    return any(index_dir.glob(f"_{INDEX_NAME}_*.toc"))
