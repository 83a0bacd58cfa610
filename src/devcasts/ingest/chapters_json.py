"""A Podcasting 2.0 chapters file (the JSON that podcast:chapters links to) -> chapters.

Every byte is hostile: the document must be a JSON object with a `chapters` list; each entry
needs a numeric `startTime` (seconds, from 0 to a week) and a `title`; `url` and `img` are
kept when they are http(s) links; entries marked `"toc": false` (images or links meant only
for the player, not the table of contents) are left out. Titles are cleaned as feed titles
are, lengths and counts are bounded, and a file with no usable chapter gives none.
"""

from __future__ import annotations

import json
import math

from devcasts.ingest.chapters import TITLE_LIMIT, parse_timestamp
from devcasts.ingest.limits import SHORT_LIMIT, URL_LIMIT
from devcasts.ingest.sanitize import clean_text, clean_url
from devcasts.records import Chapter

MAX_BYTES = 1024 * 1024  # as fetched (fetch/sidecar.py caps the download the same)
MAX_ENTRIES = 5_000  # entries read; a file with more is not a table of contents
MAX_CHAPTERS = 500  # chapters kept, the earliest
MAX_START = 7 * 24 * 3600.0  # seconds: a start later than a week is nonsense


def chapters_from_json(data: bytes, base_url: str | None = None) -> tuple[Chapter, ...]:
    """The file's chapters, sorted by start, one per start; () when the file is unusable.
    Relative links are resolved against `base_url` (the file's own URL)."""
    entries = _entries(data)
    chapters: dict[float, Chapter] = {}
    for entry in entries[:MAX_ENTRIES]:
        chapter = _chapter(entry, base_url) if isinstance(entry, dict) else None
        if chapter is not None:
            chapters.setdefault(chapter.start, chapter)
    return tuple(chapters[start] for start in sorted(chapters)[:MAX_CHAPTERS])


def _entries(data: bytes) -> list[object]:
    """The `chapters` list of a chapters document, or [] for anything else."""
    if len(data) > MAX_BYTES:
        return []
    try:
        document = json.loads(data)  # bytes: UTF-8 (with or without a BOM), UTF-16 or UTF-32
    except (ValueError, RecursionError):  # not JSON, not text, nested beyond reason
        return []
    if not isinstance(document, dict):
        return []
    version = document.get("version")
    entries = document.get("chapters")
    if (version is not None and not isinstance(version, str)) or not isinstance(entries, list):
        return []
    return entries


def _chapter(entry: dict[str, object], base_url: str | None) -> Chapter | None:
    if entry.get("toc") is False:
        return None
    start = _seconds(entry.get("startTime"))
    title = entry.get("title")
    if start is None or not isinstance(title, str):
        return None
    title = clean_text(title, TITLE_LIMIT)
    if not title:
        return None
    return Chapter(
        start, title, _link(entry.get("url"), base_url), _link(entry.get("img"), base_url)
    )


def _seconds(value: object) -> float | None:
    """A start in seconds: a JSON number, or a string such as "93.5" or "01:02:03"."""
    seconds: float | None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # compared as an int: float() of a 400-digit one overflows
        seconds = float(value) if 0 <= value <= MAX_START else None
    elif isinstance(value, float):
        seconds = value if math.isfinite(value) else None
    elif isinstance(value, str) and len(value) <= SHORT_LIMIT:
        seconds = parse_timestamp(value)
    else:
        return None
    if seconds is None or not 0 <= seconds <= MAX_START:
        return None
    return round(seconds, 3)


def _link(value: object, base_url: str | None) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > URL_LIMIT:
        return None
    return clean_url(value, base_url)
