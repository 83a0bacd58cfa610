"""Length bounds for untrusted feed fields (a 65 KB description is real; a 100 MB title is not)."""

from __future__ import annotations

TITLE_LIMIT = 1024  # titles, guids, names, authors
NOTES_LIMIT = 256 * 1024  # show notes (HTML or text), per field
URL_LIMIT = 4096  # any URL
SHORT_LIMIT = 128  # dates, durations, numbers, codes, MIME types
MAX_ITEMS = 10_000  # items read from one document
MAX_ENCLOSURES = 16  # per item
MAX_CATEGORIES = 32  # per item or channel
MAX_PEOPLE = 64  # per item or channel
MAX_TRANSCRIPTS = 16  # per item


def clip(value: object, limit: int) -> str:
    """The value as a string of at most `limit` characters; "" for anything that is not text."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)[:limit]
    return ""
