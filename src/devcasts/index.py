"""Full-text search over the archive (whoosh, kept in the cache directory)."""

from __future__ import annotations
