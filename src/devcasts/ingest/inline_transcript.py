"""Transcripts pasted into show notes, cut out into a transcript of their own.

A transcript is a run of speaker turns: "Ada [00:01:02]: ...", "[00:01:02] Ada Lovelace: ...",
"(1:02) Ada: ..." or "ADA: ...". Detection is strict, because chapter lists and link lists
look alike ("12:30 SOLID: the S", "WP: Synthesizer", "Ada Lovelace: https://..."): at least
MIN_TURNS turns in a row, by two speakers or more who each speak more than once, none of them
holding most of the turns, who take turns at least every other line, say on average at least
MIN_MEAN_CHARS characters, and seldom a link. The notes keep what comes before the transcript
(and after it, when something follows); a "Transcript" heading right before it goes with it.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from devcasts.ingest.blocks import Block, blocks
from devcasts.ingest.chapters import parse_timestamp
from devcasts.ingest.sanitize import html_to_text, sanitize_html
from devcasts.records import TranscriptTurn

__all__ = ["MIN_TURNS", "cut_transcript", "find_turn"]

MIN_TURNS = 6
MIN_CHANGES = 3  # times the speaker changes from one turn to the next
MIN_MEAN_CHARS = 40  # chapter titles after a label are short; spoken turns are not
MAX_SPEAKERS = 12
MAX_SHARE = 0.75  # of the turns, the most one speaker may have
MAX_GAP = 4  # paragraphs a turn may run on for before the run counts as ended
MAX_TURN_CHARS = 20_000

_STAMP = r"(\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)"
_WORD = r"[^\W\d_][\w.'’-]*"
_NAME = rf"({_WORD}(?: {_WORD}){{0,2}})"
_NAME_THEN_STAMP = re.compile(rf"{_NAME}\s*[\[(]{_STAMP}[\])]\s*:?\s*(.*)", re.DOTALL)
_STAMP_THEN_NAME = re.compile(rf"[\[(]?{_STAMP}[\])]?\s*[-–—]?\s*{_NAME}\s*:\s*(.*)", re.DOTALL)
_NAME_ONLY = re.compile(rf"{_NAME}:\s+(\S.*)", re.DOTALL)
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_HEADING = re.compile(r"(?:full |episode |complete )?transcript(?:ion)?\s*:?", re.IGNORECASE)
# Labels that introduce lines of notes rather than a speaker.
_NOT_SPEAKERS = frozenset(
    {"links", "link", "notes", "show notes", "guest", "guests", "host", "hosts", "sponsor",
     "sponsors", "note", "update", "bonus", "chapters", "timestamps", "topics", "music",
     "source", "sources", "via", "email", "web", "website", "twitter", "mastodon", "see",
     "ps", "p.s", "tl;dr", "tldr", "q", "a", "feedback", "edit", "edited", "credits"}
)  # fmt: skip


# A line of the notes' plain text (html_to_text: one line per block, as blocks() reads them)
# that may open a turn, in any of find_turn's shapes, without its finer checks: notes with
# fewer such lines than MIN_TURNS hold no transcript, and most notes are ruled out by this one
# scan of their text.
_TURN_LINE = re.compile(
    rf"^(?:[\[(]?{_STAMP}[\])]?\s*[-–—]?\s*{_NAME}\s*:"  # [0:01] Ada:
    rf"|{_NAME}\s*(?:[\[(]\d|:\s))",  # Ada [0:01]: / Ada: ...
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class _Turn:
    speaker: str
    start: float | None
    text: str
    linked: bool = False  # the turn's line is mostly link text: a labelled link, not speech


def find_turn(line: str) -> _Turn | None:
    """The speaker turn a line of notes opens, if it opens one."""
    for pattern, stamp_group, name_group in (
        (_NAME_THEN_STAMP, 2, 1),
        (_STAMP_THEN_NAME, 1, 2),
        (_NAME_ONLY, 0, 1),
    ):
        match = pattern.fullmatch(line)
        if match is None:
            continue
        speaker = match.group(name_group)
        if not _is_speaker(speaker, stamped=stamp_group > 0):
            continue
        start = parse_timestamp(match.group(stamp_group)) if stamp_group else None
        return _Turn(speaker=speaker, start=start, text=match.group(match.lastindex or 0))
    return None


def _is_speaker(name: str, stamped: bool) -> bool:
    """A name: capitalized words ("Ada Lovelace", "RÉMY"); unstamped labels are held to one or
    two words, and common note labels ("Links:", "Guest:") never count."""
    words = name.split()
    if name.casefold().rstrip(".") in _NOT_SPEAKERS or not all(w[:1].isupper() for w in words):
        return False
    return stamped or len(words) <= 2


def cut_transcript(
    notes_html: str, text: str | None = None
) -> tuple[str, tuple[TranscriptTurn, ...]]:
    """The notes without their pasted transcript, and its turns; unchanged notes and () when
    the notes hold none. `text` is html_to_text(notes_html), when the caller has it."""
    if ":" not in notes_html:
        return notes_html, ()
    plain = html_to_text(notes_html) if text is None else text
    if len(_TURN_LINE.findall(plain)) < MIN_TURNS:
        return notes_html, ()
    lines = list(blocks(notes_html))
    run = _best_run(lines)
    if run is None:
        return notes_html, ()
    first, last, turns = run
    if first > 0 and _HEADING.fullmatch(lines[first - 1].text):
        first -= 1
    head = notes_html[: lines[first].start]
    tail = notes_html[lines[last + 1].start :] if last + 1 < len(lines) else ""
    kept = sanitize_html(head + tail).strip() if (head + tail).strip() else ""
    return kept, turns


def _best_run(lines: Sequence[Block]) -> tuple[int, int, tuple[TranscriptTurn, ...]] | None:
    """The first run of turns that passes the checks: (first line, last line, turns)."""
    index = 0
    while index < len(lines):
        opening = find_turn(lines[index].text)
        if opening is None:
            index += 1
            continue
        last, turns = _run_from(lines, index)
        if _is_transcript(turns):
            return index, last, tuple(_finished(turn) for turn in turns)
        index = last + 1
    return None


def _run_from(lines: Sequence[Block], first: int) -> tuple[int, list[_Turn]]:
    """Turns from line `first` on, each with the untagged paragraphs that follow it. Paragraphs
    after the last turn stay with it only when the run goes on to the end of the notes."""
    turns: list[_Turn] = []
    parts: list[str] = []
    kept_parts = 0  # of the last turn's parts, those known to be its own
    last_turn = first
    for index in range(first, len(lines)):
        turn = find_turn(lines[index].text)
        if turn is not None:
            if lines[index].link_chars * 2 >= len(lines[index].text):
                turn = dataclasses.replace(turn, linked=True)
            if turns:
                turns[-1] = _with_text(turns[-1], parts)
            turns.append(turn)
            parts = [turn.text] if turn.text else []
            kept_parts = len(parts)
            last_turn = index
        elif index - last_turn > MAX_GAP:
            turns[-1] = _with_text(turns[-1], parts[:kept_parts])
            return last_turn, turns
        else:
            parts.append(lines[index].text)
    turns[-1] = _with_text(turns[-1], parts)
    return len(lines) - 1, turns


def _with_text(turn: _Turn, parts: list[str]) -> _Turn:
    return dataclasses.replace(turn, text=" ".join(parts))


def _is_transcript(turns: Sequence[_Turn]) -> bool:
    """Speakers who take turns and talk: not a list of labelled links or topics."""
    if len(turns) < MIN_TURNS:
        return False
    counts = Counter(turn.speaker.casefold() for turn in turns)
    changes = sum(1 for a, b in itertools.pairwise(turns) if a.speaker != b.speaker)
    mean = sum(len(turn.text) for turn in turns) / len(turns)
    with_links = sum(1 for turn in turns if turn.linked or _URL.search(turn.text))
    return (
        2 <= len(counts) <= MAX_SPEAKERS
        and len(turns) >= 2 * len(counts)  # each speaker speaks again
        and max(counts.values()) <= MAX_SHARE * len(turns)
        and changes >= max(MIN_CHANGES, len(turns) // 2)  # turns alternate
        and mean >= MIN_MEAN_CHARS
        and with_links <= len(turns) // 5
    )


def _finished(turn: _Turn) -> TranscriptTurn:
    text = turn.text if len(turn.text) <= MAX_TURN_CHARS else turn.text[:MAX_TURN_CHARS] + "…"
    return TranscriptTurn(speaker=turn.speaker, text=text, start=turn.start)
