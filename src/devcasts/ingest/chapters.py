"""Chapters: from Podlove Simple Chapters and from timestamps in show notes.

The site writes them out as JSON (site/chapters.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from devcasts.ingest.sanitize import clean_text, clean_url, html_to_text
from devcasts.records import Chapter, RawChapter

TITLE_LIMIT = 200
# A chapter list shorter than an episode by this much still "fits" it: feeds round durations.
DURATION_SLACK_SECONDS = 30

_TIMESTAMP = re.compile(r"^(\d+)(?::(\d{1,2}))?(?::(\d{1,2}))?(?:[.,](\d+))?$")


def parse_timestamp(value: str) -> float | None:
    """Seconds from "1:02:03", "02:49", "1:02:03.500", "93.5" or "00:01:02.5"; None if invalid.

    A two-part stamp is read as MM:SS (chapters_from_text settles HH:MM from the duration).
    Minutes and seconds after the first part must be below 60.
    """
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    first, second, third, fraction = match.groups()
    parts = [int(first)] + [int(p) for p in (second, third) if p is not None]
    if any(part >= 60 for part in parts[1:]) or len(first) > 9:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    if fraction:
        return seconds + float("0." + fraction[:6])
    return float(seconds)


# --- chapters written in show notes ---------------------------------------------------------

# "(02:49) Intro", "02:49 - Intro", "[1:02:03] Wrap-up", "- 12:34 Topic", "12:34 – Topic",
# "(00:00-02:49) Intro"
_CHAPTER_LINE = re.compile(
    r"^\s*(?:[-*•·–—>]\s*)?"  # list bullet
    r"(?P<open>[(\[{]?)\s*"
    r"(?P<stamp>\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)"
    r"(?:\s*[-–—]\s*\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)?"  # the end of a range
    r"\s*(?P<close>[)\]}]?)"
    r"(?P<rest>(?:\s*[-–—:|.]\s+|\s+|$).*)$"
)
_ANY_STAMP = re.compile(r"\d:\d\d")  # a quick no for the many notes without chapters
_URL = re.compile(r"https?://[^\s<>\"]+")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_TITLE_EDGES = " \t-–—:|·•,;"


class _Stamp(NamedTuple):  # a tuple: made for every chapter line, so cheap to build
    parts: tuple[int, ...]
    fraction: float
    title: str
    url: str | None

    def seconds(self, hours_minutes: bool) -> float:
        if len(self.parts) == 2 and hours_minutes:
            return self.parts[0] * 3600 + self.parts[1] * 60 + self.fraction
        total = 0
        for part in self.parts:
            total = total * 60 + part
        return total + self.fraction


def chapters_from_text(text: str, duration: int | None) -> tuple[Chapter, ...]:
    """Chapters from lines of show notes that start with a timestamp.

    Needs at least two stamps in increasing order (the longest increasing run of them counts),
    and not a timestamped transcript (speaker turns). Two-part stamps are MM:SS, unless read
    that way they would all fall in the first quarter of the episode while read as HH:MM they
    fit its duration ("00:45", "01:30", "02:15" in a three-hour episode). Chapters that start
    after the end of the episode are dropped.
    """
    if _ANY_STAMP.search(text) is None:
        return ()
    # Every stamp has a colon: most lines of prose are passed over without the regex.
    stamps = [s for line in text.splitlines() if ":" in line and (s := _stamp_from_line(line))]
    if len(stamps) < 2 or _is_transcript(stamps):
        return ()
    hours_minutes = _reads_as_hours_minutes(stamps, duration)
    chapters = [Chapter(_rounded(s.seconds(hours_minutes)), s.title, s.url) for s in stamps]
    if duration:
        chapters = [c for c in chapters if c.start < duration]
    run = _longest_increasing_run(chapters)
    return tuple(run) if len(run) >= 2 else ()


# A link in sanitized HTML (nh3 writes href first and escapes "<" and ">" inside attributes).
_HTML_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def chapters_from_html(notes_html: str, duration: int | None) -> tuple[Chapter, ...]:
    """chapters_from_text on sanitized show notes, keeping each chapter line's link as its url."""
    if _ANY_STAMP.search(notes_html) is None:
        return ()
    return chapters_from_text(html_to_text(_HTML_LINK.sub(_markdown_link, notes_html)), duration)


def _markdown_link(match: re.Match[str]) -> str:
    href, text = match.group(1), match.group(2)
    return href if text == href else f"[{text}]({href})"


def _stamp_from_line(line: str) -> _Stamp | None:
    match = _CHAPTER_LINE.match(line)
    if match is None:
        return None
    opening, stamp, closing, rest = match.group("open", "stamp", "close", "rest")
    if _brackets_unbalanced(opening, closing):
        return None
    clock, _, fraction = stamp.replace(",", ".").partition(".")
    parts = tuple(map(int, clock.split(":")))
    if max(parts[1:]) >= 60:  # a stamp has two or three parts
        return None
    title, url = _title_and_url(rest)
    if not title:
        return None
    return _Stamp(parts, float("0." + fraction) if fraction else 0.0, title, url)


def _is_transcript(stamps: Sequence[_Stamp]) -> bool:
    """Timestamped speaker turns ("[00:13] BEN: ...") are a transcript, not chapters: the same
    speaker label starts at least three lines and a third of them."""
    labels = Counter(m.group(1) for s in stamps if (m := _SPEAKER_LABEL.match(s.title)))
    if not labels:
        return False
    most_common = labels.most_common(1)[0][1]
    return most_common >= 3 and most_common * 3 >= len(stamps)


_SPEAKER_LABEL = re.compile(r"([^:]{1,40}):\s")


def _brackets_unbalanced(opening: str, closing: str) -> bool:
    return _CLOSING_BRACKET.get(opening, "") != closing


_CLOSING_BRACKET = {"(": ")", "[": "]", "{": "}"}


def _title_and_url(rest: str) -> tuple[str, str | None]:
    """The chapter title without its link; the first http(s) link becomes the chapter's url."""
    url: str | None = None
    markdown = _MARKDOWN_LINK.search(rest)
    if markdown:
        url = clean_url(markdown.group(2))
        rest = rest[: markdown.start()] + markdown.group(1) + rest[markdown.end() :]
    bare = _URL.search(rest)
    if bare:
        url = url or clean_url(bare.group(0).rstrip(".,;:!?)"))
        without_url = (rest[: bare.start()] + rest[bare.end() :]).strip(_TITLE_EDGES)
        rest = without_url or bare.group(0)
    title = clean_text(rest, TITLE_LIMIT).strip(_TITLE_EDGES)
    return title, url


def _reads_as_hours_minutes(stamps: Sequence[_Stamp], duration: int | None) -> bool:
    """True when the two-part stamps only make sense as HH:MM for this duration: as MM:SS
    they would leave three quarters of the episode without a chapter."""
    if not duration or any(len(s.parts) == 3 for s in stamps):
        return False
    limit = duration + DURATION_SLACK_SECONDS
    latest_as_minutes = max(s.seconds(hours_minutes=False) for s in stamps)
    latest_as_hours = max(s.seconds(hours_minutes=True) for s in stamps)
    return latest_as_minutes * 4 < duration and latest_as_hours <= limit


def _longest_increasing_run(chapters: Sequence[Chapter]) -> list[Chapter]:
    """The longest run of consecutive chapters with rising starts (the first, on a tie)."""
    best_start = best_length = run_start = 0
    for index, chapter in enumerate(chapters):
        if index > run_start and chapter.start <= chapters[index - 1].start:
            run_start = index
        if index + 1 - run_start > best_length:
            best_start, best_length = run_start, index + 1 - run_start
    return list(chapters[best_start : best_start + best_length])


def _rounded(seconds: float) -> float:
    return round(seconds, 3)


# --- Podlove Simple Chapters ----------------------------------------------------------------


def chapters_from_psc(raw: Sequence[RawChapter], base: str | None = None) -> tuple[Chapter, ...]:
    """Chapters from psc:chapter elements: invalid starts dropped, titles and links cleaned
    (relative links resolved against `base`), sorted by start, one chapter per start time."""
    chapters: dict[float, Chapter] = {}
    for item in raw:
        start = parse_timestamp(item.start)
        if start is None:
            continue
        start = _rounded(start)
        title = clean_text(item.title, TITLE_LIMIT)
        url = clean_url(item.href, base) if item.href else None
        chapters.setdefault(start, Chapter(start, title, url))
    return tuple(chapters[start] for start in sorted(chapters))
