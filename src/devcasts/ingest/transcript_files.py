"""Transcript files that episodes link to (podcast:transcript), read into timed turns.

Four formats are read: WebVTT (voice tags `<v Ada>` name the speaker; cue settings, NOTE,
STYLE and REGION blocks are skipped), SubRip (comma decimals), the Podcasting 2.0 JSON
transcript (`{"segments": [{"startTime", "endTime", "speaker", "body"}]}`) and HTML or plain
text (a speaker's line "Ada:", a time alone on its line, or a turn in one of the shapes pasted
into notes, as ingest/inline_transcript.py reads them).

Everything in a file is hostile: a body is read up to MAX_BODY_BYTES, cues past MAX_CUES are
left out, malformed cues are skipped, and the text is plain text (tags stripped, entities
decoded, control characters removed) that pages escape. Captions come a line at a time: the
cues of one speaker are joined into turns of about TURN_CHARS characters, each with the time
it starts at, so the page reads as paragraphs and each paragraph seeks the player.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from devcasts.ingest.chapters import parse_timestamp
from devcasts.ingest.inline_transcript import find_turn
from devcasts.ingest.sanitize import clean_text, html_to_text
from devcasts.records import TranscriptTurn
from devcasts.util.transcript_types import transcript_format

__all__ = ["MAX_TEXT_CHARS", "MAX_TURNS", "turns_from_file"]

MAX_BODY_BYTES = 2 * 1024 * 1024  # as the fetcher's cap: a longer body is cut, not read whole
MAX_CUES = 20_000  # a three-hour show captioned a line at a time has about 4,000
MAX_TURNS = 3_000
MAX_TEXT_CHARS = 200_000  # every turn's text together: a three-hour show says about 180,000
MAX_CUE_CHARS = 2_000
SPEAKER_CHARS = 60
TURN_CHARS = 600  # one speaker's cues are joined up to about this many characters
MAX_SECONDS = 100 * 3600.0

# "00:01:02.500 --> 00:01:05.000 align:start" (VTT) or "00:01:02,500 --> 00:01:05,000" (SRT)
_TIMING = re.compile(r"^\s*(\d{1,3}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?)\s*-->\s*(\S+)")
_CUE_TAG = re.compile(r"<[^<>]{0,200}>")  # <v Ada>, <c.yellow>, <i>, <00:00:01.000>
_INLINE_LABEL = re.compile(r"<(/?)(cite|time)\b", re.IGNORECASE)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>")
_STAMP_LINE = re.compile(r"[\[(]?(\d{1,3}(?::\d{2}){1,2}(?:[.,]\d{1,3})?)[\])]?")
_SPEAKER_LINE = re.compile(r"([^\W\d_][\w.'’ -]{0,40}?)\s*:")
# "Ada: text" at the start of a caption cue; a name only when it recurs in the file.
_CUE_SPEAKER = re.compile(r"([^\W\d_][\w.'’-]*(?: [^\W\d_][\w.'’-]*){0,2}):\s+(\S.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Cue:
    start: float | None
    speaker: str
    text: str


def turns_from_file(body: bytes, mime: str = "", url: str = "") -> tuple[TranscriptTurn, ...]:
    """The timed turns of a transcript file, in the order spoken; () when nothing is usable.
    The body's own shape wins over a type that does not fit it (a VTT file served as text)."""
    text = _decode(body[:MAX_BODY_BYTES])
    kind = _sniffed(text) or transcript_format(mime, url) or "text"
    if kind == "json":
        cues: Iterable[_Cue] = _json_cues(text)
    elif kind in ("vtt", "srt"):
        cues = _caption_cues(text)
    else:  # paragraphs already: each is a turn of its own
        cues = _text_cues(_html_lines(text) if kind == "html" else text)
        return _turns(list(_bounded(cues)), join=False)
    return _turns(_named_speakers(list(_bounded(cues))), join=True)


def _decode(body: bytes) -> str:
    if body.startswith(b"\xff\xfe") or body.startswith(b"\xfe\xff"):
        return body.decode("utf-16", errors="replace")
    return body.decode("utf-8-sig", errors="replace")


def _sniffed(text: str) -> str | None:
    start = text.lstrip()[:200]
    if start.startswith("WEBVTT"):
        return "vtt"
    if start.startswith("{"):
        return "json"
    if re.match(r"\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d+\s*-->", start):
        return "srt"
    if start[:1] == "<":
        return "html"
    return None


def _bounded(cues: Iterable[_Cue]) -> Iterator[_Cue]:
    for count, cue in enumerate(cues):
        if count >= MAX_CUES:
            return
        yield cue


# --- VTT and SRT ------------------------------------------------------------------------------


def _caption_cues(text: str) -> Iterator[_Cue]:
    """Each block with a timing line; the lines after it are the cue's text. Header, NOTE,
    STYLE and REGION blocks hold no timing line (no "-->"), so they are skipped with the
    malformed cues."""
    for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = block.strip("\n").split("\n")
        timing = next((n for n, line in enumerate(lines[:3]) if "-->" in line), None)
        if timing is None:
            continue
        match = _TIMING.match(lines[timing])
        start = parse_timestamp(match.group(1)) if match else None
        if start is None or start > MAX_SECONDS:
            continue  # a malformed cue: its text has no place in time
        raw = " ".join(lines[timing + 1 :])[: MAX_CUE_CHARS * 4]
        voice = _VOICE.search(raw)
        speaker = clean_text(voice.group(1), SPEAKER_CHARS) if voice else ""
        cue_text = _cue_text(_CUE_TAG.sub(_tag_gap, raw))
        if cue_text:
            yield _Cue(start, speaker, cue_text)


# --- JSON -------------------------------------------------------------------------------------


def _json_cues(text: str) -> Iterator[_Cue]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return
    segments = document.get("segments") if isinstance(document, dict) else None
    if not isinstance(segments, list):
        return
    for segment in segments[:MAX_CUES]:
        if not isinstance(segment, dict):
            continue
        start = _seconds(segment.get("startTime"))
        body = segment.get("body")
        speaker = segment.get("speaker")
        cue_text = (
            clean_text(body[: MAX_CUE_CHARS * 4], MAX_CUE_CHARS) if isinstance(body, str) else ""
        )
        if start is None or not cue_text:
            continue
        name = clean_text(speaker, SPEAKER_CHARS) if isinstance(speaker, str) else ""
        yield _Cue(start, name, cue_text)


def _tag_gap(tag: re.Match[str]) -> str:
    """Formatting tags hold words ("<i>build</i>s"); karaoke times sit between them."""
    return " " if tag.group()[1:2].isdigit() else ""


def _cue_text(raw: str) -> str:
    return clean_text(raw[: MAX_CUE_CHARS * 4], MAX_CUE_CHARS)


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (parsed := parse_timestamp(value[:32])) is not None:
        seconds = parsed
    else:
        return None
    return seconds if 0 <= seconds <= MAX_SECONDS else None  # NaN fails both


# --- HTML and plain text ------------------------------------------------------------------


def _text_cues(text: str) -> Iterator[_Cue]:
    """Lines of text: "Ada:" alone names the speaker of what follows, a time alone dates the
    next line, and a line shaped like a pasted turn ("[00:01:02] Ada: ...") is one."""
    speaker, start = "", None
    for line in text.replace("\r", "\n").split("\n")[: MAX_CUES * 4]:
        line = clean_text(line, MAX_CUE_CHARS * 2, markup=False)
        if not line:
            continue
        if (stamp := _STAMP_LINE.fullmatch(line)) is not None:
            start = parse_timestamp(stamp.group(1).replace(",", "."))
            continue
        if (label := _SPEAKER_LINE.fullmatch(line)) is not None:
            speaker = clean_text(label.group(1), SPEAKER_CHARS)
            continue
        if (turn := find_turn(line)) is not None and turn.text.strip():
            speaker = clean_text(turn.speaker, SPEAKER_CHARS)
            start = turn.start if turn.start is not None else start
            line = clean_text(turn.text, MAX_CUE_CHARS, markup=False)
        yield _Cue(start if start is None or start <= MAX_SECONDS else None, speaker, line)
        start = None


def _html_lines(html_text: str) -> str:
    """The text of an HTML transcript, with each speaker (`<cite>`) and time (`<time>`) on a
    line of its own, as the Podcasting 2.0 HTML shape writes them inline."""
    return html_to_text(_INLINE_LABEL.sub(r"<br><\1\2", html_text[:MAX_BODY_BYTES]))


# --- cues into turns ----------------------------------------------------------------------


def _named_speakers(cues: list[_Cue]) -> list[_Cue]:
    """Captions that name their speakers in the text ("ADA: so...") give them as speakers, when
    a name recurs: a single "Note: ..." is text."""
    if any(cue.speaker for cue in cues):
        return cues
    found = [_name_first(cue.text) for cue in cues]
    counts: dict[str, int] = {}
    for match in found:
        if match is not None:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    if max(counts.values(), default=0) < 2:
        return cues
    names = set(counts)
    named: list[_Cue] = []
    speaker = ""
    for cue, match in zip(cues, found, strict=True):
        if match is not None and match.group(1) in names:
            speaker = match.group(1)
            cue = _Cue(cue.start, speaker, match.group(2))
        named.append(_Cue(cue.start, speaker, cue.text))
    return named


def _name_first(text: str) -> re.Match[str] | None:
    """ "Ada Lovelace: ..." opens with a name: capitalized words ("This week: ..." does not)."""
    match = _CUE_SPEAKER.fullmatch(text)
    if match is None or not all(word[:1].isupper() for word in match.group(1).split()):
        return None
    return match


def _turns(cues: list[_Cue], join: bool) -> tuple[TranscriptTurn, ...]:
    """The cues as turns; with `join`, one speaker's consecutive cues are joined into turns of
    about TURN_CHARS characters."""
    turns: list[TranscriptTurn] = []
    total = 0
    parts: list[str] = []
    current: _Cue | None = None
    for cue in cues:
        same_speaker = current is not None and cue.speaker == current.speaker
        if (
            join
            and same_speaker
            and sum(map(len, parts)) + len(parts) + len(cue.text) <= TURN_CHARS
        ):
            parts.append(cue.text)
            continue
        if current is not None:
            turns.append(_turn(current, parts))
            total += len(turns[-1].text)
        if len(turns) >= MAX_TURNS or total >= MAX_TEXT_CHARS:
            return tuple(turns)
        current, parts = cue, [cue.text]
    if current is not None and len(turns) < MAX_TURNS and total < MAX_TEXT_CHARS:
        turns.append(_turn(current, parts))
    return tuple(turns)


def _turn(first: _Cue, parts: list[str]) -> TranscriptTurn:
    text = " ".join(parts)
    return TranscriptTurn(speaker=first.speaker, text=text, start=first.start)
