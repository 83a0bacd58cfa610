"""Small text helpers shared by several stages (pure functions)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NON_SLUG = re.compile(r"[^a-z0-9]+")
# Notes longer than this (in plain-text characters) are a pasted transcript or the like: the
# page folds them and the summary leaves them out. Show notes stay well under it (in 4,782
# real episodes: median 361, 99.9th percentile 5,919, longest 9,336); a one-hour transcript
# is around 50,000 characters.
LONG_NOTES_CHARS = 12_000


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII, lower-case, hyphen-separated; never empty (falls back to a short hash)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug.strip("-") or "x-" + short_hash(text, 8)


def short_hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def is_long_notes(text: str) -> bool:
    """True when plain-text notes are too long to show unfolded (see LONG_NOTES_CHARS)."""
    return len(text) > LONG_NOTES_CHARS
