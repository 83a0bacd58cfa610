"""Timestamps in show notes: what one looks like, and when it is a time of day instead.

Chapters read from notes (ingest/chapters.py) and the seek links the episode page puts on
the stamps left in notes (site/chapters.py) follow the same rules.
"""

from __future__ import annotations

import re

# "2:49", "02:49", "1:02:03", "00:01:02.5"
STAMP = r"\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"

# Times of day, not chapters: "4:00 PM", "19:30 Uhr", "10:00 a.m. Eastern".
CLOCK_AFTER = re.compile(
    r"^\s*(?:[ap]\.?\s?m\b\.?|uhr\b|h\b|hrs\b|o'clock|(?:utc|gmt|cest?|[ecmp][sd]?t)\b"
    r"|eastern\b|pacific\b|central\b|mesz?\b)",
    re.IGNORECASE,
)
# ... and times announced in prose: "recorded at 10:30", "doors 18:30", "Sat, Mar 4, 2023, 4:00".
CLOCK_BEFORE = re.compile(
    r"(?:\b(?:at|um|ab|bis|von|from|to|until|till|by|around|approx\.?|approximately|ca\.?|gegen"
    r"|doors|open|opens|starts?|begins?|since|seit|modified|updated|on|am|vor|nach)"
    r"|\d{4},?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}\.)\s*$",
    re.IGNORECASE,
)
# A time after a date is an event's ("9 October: a reading (16:30)", "Sat, Mar 4, 4:00").
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januar|februar|märz|mai|juni|juli"
    r"|oktober|dezember)[a-z]*\.?"
)
DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTH}(?:\s|$|:|,)|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    r"|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,\s",
    re.IGNORECASE,
)


def is_time_of_day(before: str, after: str) -> bool:
    """True when the text around a stamp makes it a clock time or an event's time: "at 10:30",
    "4:00 PM", "Sat, Mar 4, 2023, 4:00", "9 October: a reading (16:30)"."""
    return bool(CLOCK_AFTER.match(after) or CLOCK_BEFORE.search(before) or DATE.search(before))
