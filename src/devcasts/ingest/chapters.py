"""Chapters: from Podlove Simple Chapters and from timestamps in show notes.

The site writes them out as JSON (site/chapters.py).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from typing import NamedTuple

from devcasts.ingest.sanitize import clean_text, clean_url, html_to_text
from devcasts.records import Chapter, RawChapter
from devcasts.util.timestamps import CLOCK_AFTER, CLOCK_BEFORE, DATE, STAMP

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
#
# Feeds write chapter lists in a handful of shapes (docs/editorial.md, "Chapters"):
# one chapter a line with the stamp first ("(02:49) Intro", "02:49 - Intro", "* [00:05:25] Intro")
# or last ("Intro (02:49)", "Intro - 02:49"), a stamp alone on its line under its title, and
# the same lists run together in one paragraph ("(0:00) Intro(1:01) Sponsor(1:39) ..."), which
# are first cut back into lines.

_STAMP = STAMP
# "(02:49) Intro", "02:49 - Intro", "[1:02:03] Wrap-up", "- 12:34 Topic", "(00:00-02:49) Intro"
_CHAPTER_LINE = re.compile(
    r"^\s*(?:[-*•·–—>]\s*)?"  # list bullet
    r"(?P<open>[(\[{]?)\s*"
    rf"(?P<stamp>{_STAMP})"
    rf"(?:\s*[-–—]\s*{_STAMP})?"  # the end of a range
    r"\s*(?P<close>[)\]}]?)"
    r"(?P<rest>(?:\s*[-–—:|.]\s+|\s+|$).*)$"
)
# "Intro (02:49)", "Intro - 02:49", "X.25 00:10:48", "Intro [02:49]."
_TITLE_FIRST_LINE = re.compile(
    r"^(?P<rest>.*?[^\s\d:.,])\s*(?:[-–—|:]\s*)?"
    rf"(?P<open>[(\[{{]?)(?P<stamp>{_STAMP})(?P<close>[)\]}}]?)[\s.,;]*$"
)
_STAMP_ALONE = re.compile(rf"^\s*[(\[{{]?(?P<stamp>{_STAMP})[)\]}}]?\s*$")
# A stamp in brackets anywhere in a line, with the bullet that may stand before it.
_BRACKETED_STAMP = re.compile(rf"(?:[-*•]\s*)?[(\[](?:{_STAMP})(?:\s*[-–—]\s*{_STAMP})?[)\]]")
_BARE_STAMP = re.compile(rf"(?<![\w:.,/])(?:{_STAMP})(?![\w:]|[.,]\d)")
_ANY_STAMP = re.compile(r"\d:\d\d")  # a quick no for the many notes without chapters
_URL = re.compile(r"https?://[^\s<>\"]+")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_TITLE_EDGES = " \t-–—:|·•*,;"

# A stamp titled this way is the episode's length, not a chapter ("Dauer: 3:07:20").
_LENGTH_WORDS = frozenset(
    {"dauer", "duration", "length", "laufzeit", "länge", "runtime", "spielzeit", "total"}
)
# A chapter list starts near the beginning; later first stamps are times in prose.
FIRST_CHAPTER_LIMIT_SECONDS = 20 * 60
MAX_CHAPTERS = 500
AGENDA_FIRST_SECONDS = 6 * 60


class _Stamp(NamedTuple):  # a tuple: made for every chapter line, so cheap to build
    parts: tuple[int, ...]
    fraction: float
    title: str
    url: str | None
    turn: bool = False  # "[00:00:01]: ..." or "Alessio [00:00:00]:": a transcript's speaker turn

    def seconds(self, hours_minutes: bool) -> float:
        if len(self.parts) == 2 and hours_minutes:
            return self.parts[0] * 3600 + self.parts[1] * 60 + self.fraction
        total = 0
        for part in self.parts:
            total = total * 60 + part
        return total + self.fraction


def chapters_from_text(text: str, duration: int | None) -> tuple[Chapter, ...]:
    """Chapters from timestamps in show notes, in every shape above.

    Needs at least two stamps that rise (the longest rising sequence of them counts, so a
    duplicated or mistyped stamp costs only itself), the first within the first twenty
    minutes, and not a timestamped transcript (speaker turns). Two-part stamps are MM:SS,
    unless read that way they would all fall in the first quarter of the episode while read as
    HH:MM they fit its duration ("00:45", "01:30", "02:15" in a three-hour episode). Chapters
    past the feed's duration are kept: durations are often wrong.
    """
    if _ANY_STAMP.search(text) is None:
        return ()
    stamps = _stamps_from_lines(_chapter_lines(text))
    if len(stamps) < 2 or _is_transcript(stamps):
        return ()
    hours_minutes = _reads_as_hours_minutes(stamps, duration)
    chapters = [Chapter(_rounded(s.seconds(hours_minutes)), s.title, s.url) for s in stamps]
    rising = _longest_rising(_first_per_start(chapters))
    if len(rising) < 2 or rising[0].start > FIRST_CHAPTER_LIMIT_SECONDS:
        return ()
    if not hours_minutes and _an_agenda(stamps, rising):
        return ()
    return tuple(rising)


def _an_agenda(stamps: Sequence[_Stamp], chapters: Sequence[Chapter]) -> bool:
    """Times of day ("9:00 Doors", "9:30 Keynote") read as MM:SS: two-part stamps on the
    quarter hour, the first well into the "episode"."""
    if any(len(s.parts) == 3 for s in stamps) or chapters[0].start < AGENDA_FIRST_SECONDS:
        return False
    return all(chapter.start % 15 == 0 for chapter in chapters)


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


def _chapter_lines(text: str) -> list[str]:
    """The text's lines, with chapter lists run together in one line cut back into lines."""
    lines: list[str] = []
    for line in text.splitlines():
        lines.extend(_split_inline_list(line) if _ANY_STAMP.search(line) else (line,))
    return lines


def _split_inline_list(line: str) -> list[str]:
    """ "(0:00) Intro (1:01) Sponsor" -> two lines; "Intro (0:26) Pricing (4:18)" too, the
    stamp then closing each line. Stamps in brackets are cut on from two in a line, bare ones
    from three when the line starts with one (after a heading such as "Timestamps:")."""
    marks = list(_BRACKETED_STAMP.finditer(line))
    if len(marks) < 2:
        marks = list(_BARE_STAMP.finditer(line))
        if len(marks) < 3 or not _starts_a_list(line[: marks[0].start()]):
            return [line]
    tail = line[marks[-1].end() :]
    if tail.strip(" .,;") == "" and line[: marks[0].start()].strip():  # the stamp closes each
        cuts = [m.end() for m in marks[:-1]]
    else:
        cuts = [m.start() for m in marks]
    pieces = [line[a:b] for a, b in zip([0, *cuts], [*cuts, len(line)], strict=True)]
    if cuts == [m.start() for m in marks]:  # the last chapter runs on into the notes after it
        pieces[-1] = _LIST_ENDS.split(pieces[-1], maxsplit=1)[0]
    return [piece for piece in pieces if piece.strip()]


# Where the last chapter of a run-together list ends: a sentence's end or a link.
_LIST_ENDS = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ])|\s+(?=https?://)")


def _starts_a_list(before: str) -> bool:
    """Text before the first bare stamp of a run-together list: nothing, or a heading."""
    return before.strip() == "" or before.rstrip().endswith(":")


def _stamps_from_lines(lines: Sequence[str]) -> list[_Stamp]:
    stamps: list[_Stamp] = []
    titles_above = _titles_stand_above(lines)
    for index, line in enumerate(lines):
        if len(stamps) >= MAX_CHAPTERS:
            break
        if _ANY_STAMP.search(line) is None:  # most lines of prose are passed over here
            continue
        if (alone := _STAMP_ALONE.match(line)) is not None:
            neighbor = index - 1 if titles_above else index + 1
            title_line = lines[neighbor] if 0 <= neighbor < len(lines) else ""
            stamp = _stamp_titled(alone.group("stamp"), title_line)
        else:
            stamp = _stamp_from_line(line)
        if stamp is not None:
            stamps.append(stamp)
    return stamps


def _titles_stand_above(lines: Sequence[str]) -> bool:
    """Stamps alone on their line take the title above them, unless the first one stands
    under a heading ("Chapters:") or first: then their titles are below."""
    for index, line in enumerate(lines):
        if len(line) < _STAMP_ALONE_LONGEST and _STAMP_ALONE.match(line):
            return index > 0 and not lines[index - 1].rstrip().endswith(":")
    return True


_STAMP_ALONE_LONGEST = 40


def _stamp_titled(stamp: str, title_line: str) -> _Stamp | None:
    """A stamp alone on its line, titled by the line beside it (when that is no stamp)."""
    if _STAMP_ALONE.match(title_line) or _CHAPTER_LINE.match(title_line):
        return None
    if CLOCK_BEFORE.search(title_line) or DATE.search(title_line):
        return None
    return _make_stamp(stamp, title_line)


def _stamp_from_line(line: str) -> _Stamp | None:
    match = _CHAPTER_LINE.match(line)
    if match is not None:
        opening, stamp, closing, rest = match.group("open", "stamp", "close", "rest")
        if _brackets_unbalanced(opening, closing) or CLOCK_AFTER.match(rest):
            return None
        turn = rest.startswith(":") and bool(closing)
        return _make_stamp(stamp, rest, turn)
    match = _TITLE_FIRST_LINE.match(line)
    if match is not None:
        opening, stamp, closing, rest = match.group("open", "stamp", "close", "rest")
        if _brackets_unbalanced(opening, closing) or CLOCK_BEFORE.search(rest) or DATE.search(rest):
            return None
        return _make_stamp(stamp, rest)
    return None


def _make_stamp(stamp: str, rest: str, turn: bool = False) -> _Stamp | None:
    clock, _, fraction = stamp.replace(",", ".").partition(".")
    parts = tuple(map(int, clock.split(":")))
    if max(parts[1:]) >= 60:  # a stamp has two or three parts
        return None
    title, url = _title_and_url(rest)
    if not title or title.casefold() in _LENGTH_WORDS:
        return None
    return _Stamp(parts, float("0." + fraction) if fraction else 0.0, title, url, turn)


def _is_transcript(stamps: Sequence[_Stamp]) -> bool:
    """Timestamped speaker turns are a transcript, not chapters: stamps followed by a colon
    ("Alessio [00:00:00]: ..."), or a few speakers' labels ("[00:13] BEN: ...") on half the
    lines, changing from line to line. One label repeated ("SOLID: ...") is a topic, not a
    speaker."""
    turns = sum(1 for s in stamps if s.turn)
    if turns >= 3 and turns * 3 >= len(stamps):
        return True
    labels = [m.group(1) for s in stamps if (m := _SPEAKER_LABEL.match(s.title))]
    if len(labels) < 3 or len(labels) * 2 < len(stamps) or len(set(labels)) * 2 > len(labels):
        return False  # few labels, or each a topic of its own ("Team one: ...", "Team two: ...")
    changes = sum(1 for a, b in itertools.pairwise(labels) if a != b)
    return changes >= 2 and changes * 3 >= len(labels)


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
    title = _TRAILING_DOTS.sub("", clean_text(rest, TITLE_LIMIT)).strip(_TITLE_EDGES)
    return title, url


_TRAILING_DOTS = re.compile(r"(?:\s*(?:\.\.\.|…)|(?<=\w\w)\.)\s*$")  # "Intro ...", "Intro."


def _reads_as_hours_minutes(stamps: Sequence[_Stamp], duration: int | None) -> bool:
    """True when the two-part stamps only make sense as HH:MM for this duration: as MM:SS
    they would leave three quarters of the episode without a chapter."""
    if not duration or any(len(s.parts) == 3 for s in stamps):
        return False
    limit = duration + DURATION_SLACK_SECONDS
    latest_as_minutes = max(s.seconds(hours_minutes=False) for s in stamps)
    latest_as_hours = max(s.seconds(hours_minutes=True) for s in stamps)
    return latest_as_minutes * 4 < duration and latest_as_hours <= limit


def _first_per_start(chapters: Sequence[Chapter]) -> list[Chapter]:
    """A stamp written twice ("(07:14) Topic", "(07:14) Sponsor") keeps its first title."""
    first: dict[float, Chapter] = {}
    for chapter in chapters:
        first.setdefault(chapter.start, chapter)
    return [chapter for chapter in chapters if first[chapter.start] is chapter]


def _longest_rising(chapters: Sequence[Chapter]) -> list[Chapter]:
    """The longest sequence of chapters with rising starts, in their order (patience sorting):
    a stray or mistyped stamp is left out and the chapters around it stay."""
    tails: list[int] = []  # tails[k]: the chapter ending the best rising sequence of length k+1
    tail_starts: list[float] = []
    previous: list[int | None] = []
    for index, chapter in enumerate(chapters):
        length = bisect.bisect_left(tail_starts, chapter.start)
        previous.append(tails[length - 1] if length else None)
        if length == len(tails):
            tails.append(index)
            tail_starts.append(chapter.start)
        else:
            tails[length] = index
            tail_starts[length] = chapter.start
    sequence: list[Chapter] = []
    cursor = tails[-1] if tails else None
    while cursor is not None:
        sequence.append(chapters[cursor])
        cursor = previous[cursor]
    return sequence[::-1]


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
