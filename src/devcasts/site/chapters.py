"""An episode's chapters as the Podcasting 2.0 JSON chapters file (version 1.2.0), and the
timestamps left in its show notes as links that seek the player.

The site publishes the file beside the episode page (urls.chapters), and the feeds point to
it. Keys come in a fixed order and whole seconds are written as integers, so the text is the
same on every build.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from json.encoder import encode_basestring

from markupsafe import Markup

from devcasts.records import Chapter
from devcasts.util.timestamps import STAMP, is_time_of_day

CHAPTERS_VERSION = "1.2.0"


def chapters_json(chapters: Sequence[Chapter], title: str | None = None) -> dict[str, object]:
    """The JSON chapters document for these chapters, as a value."""
    document: dict[str, object] = {"version": CHAPTERS_VERSION}
    if title:
        document["title"] = title
    document["chapters"] = [_chapter_entry(chapter) for chapter in chapters]
    return document


def chapters_text(chapters: Sequence[Chapter], title: str | None = None) -> str:
    """The chapters file's text: the document, indented, keys sorted."""
    return indented_json(chapters_json(chapters, title)) + "\n"


def _chapter_entry(chapter: Chapter) -> dict[str, object]:
    entry: dict[str, object] = {"startTime": _json_number(chapter.start)}
    if chapter.title:
        entry["title"] = chapter.title
    if chapter.url:
        entry["url"] = chapter.url
    if chapter.img:
        entry["img"] = chapter.img
    return entry


def _json_number(seconds: float) -> int | float:
    if not math.isfinite(seconds):
        return 0
    rounded = round(seconds, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def indented_json(value: object, indent: str = "") -> str:
    """json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) for string keys: the
    same text in half the time. With an indent, json encodes every value in Python; here
    strings and numbers go to json's C functions and only the containers are walked."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        members = (
            f"{inner}{encode_basestring(k)}: {indented_json(value[k], inner)}"
            for k in sorted(value)
        )
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    if isinstance(value, list | tuple) and value:
        items = (inner + indented_json(item, inner) for item in value)
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value, ensure_ascii=False)  # empty containers, booleans, None, NaN


# --- timestamps left in show notes seek the player -----------------------------------------

# A stamp in brackets anywhere, one that opens a line, or one that closes a line after a dash:
# "(12:34)", "[01:02:03]", "12:34 Topic", "Topic - 12:34". A bare stamp inside a sentence
# ("doors 18:30, first talk 19:00") is a time of day more often than not.
_SEEKABLE = re.compile(
    rf"(?P<open>[(\[])(?P<bracketed>{STAMP})[)\]]"
    rf"|^(?P<lead>\s*)(?P<first>{STAMP})(?=\s|$|[-–—:|.,])"
    rf"|(?<=[-–—|]\s)(?P<last>{STAMP})(?=[\s.,;]*$)"
)
_TAG = re.compile(r"(<[^>]*>)")
_NOT_INSIDE = frozenset({"a", "code", "pre", "kbd", "samp"})  # links stay links, code stays code


def seek_links(notes_html: str, chapters: Sequence[Chapter] = ()) -> Markup:
    """Sanitized show notes with each timestamp a link that seeks the episode's player
    (`#t=SECONDS`, which the page's script handles). Times of day are left alone. A two-part
    stamp is MM:SS, unless the episode's chapters start at its HH:MM reading."""
    if _ANY_STAMP.search(notes_html) is None:  # most notes: "https:" is no stamp
        return Markup(notes_html)  # noqa: S704 -- sanitized by ingest (nh3)
    chapter_starts = {round(chapter.start) for chapter in chapters}
    budget = [MAX_SEEK_LINKS]  # links left for these notes
    pieces: list[str] = []
    inside: list[str] = []
    line = ""  # the text of the current line so far, unescaped
    for piece in _TAG.split(notes_html):
        if piece.startswith("<"):
            name = _element_name(piece)
            if name in _NOT_INSIDE:
                _track(name, piece, inside)
            elif name in _LINE_BREAKS:
                line = ""
        elif piece:
            if not inside and budget[0] > 0 and _ANY_STAMP.search(piece):
                piece = _link_stamps(piece, line, chapter_starts, budget)
            line = (line + html.unescape(piece))[-_CONTEXT:]
        pieces.append(piece)
    return Markup("".join(pieces))  # noqa: S704 -- sanitized notes, our links hold only digits


_ANY_STAMP = re.compile(r"\d:\d\d")
_CONTEXT = 80  # characters around a stamp that can make it a time of day
MAX_SEEK_LINKS = 1000  # a long transcript's stamps past these stay text: pages stay quick
_LINE_BREAKS = frozenset(
    {"br", "p", "li", "ul", "ol", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "dt", "dd"}
    | {"blockquote", "hr", "section", "table"}
)


def _element_name(tag: str) -> str:
    inner = tag.strip("</>").strip()
    return inner.split(maxsplit=1)[0].lower() if inner else ""


def _track(name: str, tag: str, inside: list[str]) -> None:
    if not tag.startswith("</"):
        if not tag.endswith("/>"):
            inside.append(name)
    elif name in inside:
        del inside[len(inside) - 1 - inside[::-1].index(name)]


def _link_stamps(text: str, line: str, chapter_starts: set[int], budget: list[int]) -> str:
    out: list[str] = []
    done = 0
    for match in _SEEKABLE.finditer(text):
        if budget[0] <= 0:
            break
        group = next(g for g in ("bracketed", "first", "last") if match.group(g))
        if group == "first" and line.strip():
            continue  # the line started before this piece of text
        start, end = match.span()
        before = (line + html.unescape(text[max(0, start - _CONTEXT) : start]))[-_CONTEXT:]
        if is_time_of_day(before, html.unescape(text[end : end + _CONTEXT])):
            continue
        seconds = _stamp_seconds(match.group(group), chapter_starts)
        if seconds is None:
            continue
        start, end = match.span(group)
        out.append(text[done:start])
        out.append(f'<a class="seek" href="#t={seconds}">')  # player.js reads the time there
        out.append(text[start:end] + "</a>")
        done = end
        budget[0] -= 1
    out.append(text[done:])
    return "".join(out)


def _stamp_seconds(stamp: str, chapter_starts: set[int]) -> int | None:
    clock = stamp.replace(",", ".").partition(".")[0]
    parts = [int(part) for part in clock.split(":")]
    if any(part >= 60 for part in parts[1:]):
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    if len(parts) == 2:
        as_hours = seconds * 60
        if seconds not in chapter_starts and as_hours in chapter_starts:
            return as_hours
    return seconds


def notes_show_chapters(linked_notes: str, chapters: Sequence[Chapter]) -> bool:
    """Whether notes that went through `seek_links` already list every chapter: its start as
    a seek link and its title in the text. Many shows write their chapters into the notes;
    the page then shows them once, there, instead of a second list of the same lines."""
    if not chapters:
        return False
    text = html.unescape(linked_notes).casefold()
    for chapter in chapters:
        if chapter.url or not chapter.title.strip():
            return False  # a link or an untitled mark the notes may not show
        if f'href="#t={round(chapter.start)}"' not in linked_notes:
            return False
        if chapter.title.casefold() not in text:
            return False
    return True
