"""An episode's chapters as the Podcasting 2.0 JSON chapters file (version 1.2.0).

The site publishes it beside the episode page (urls.chapters), and the feeds point to it.
Keys come in a fixed order and whole seconds are written as integers, so the text is the
same on every build.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from json.encoder import encode_basestring

from devcasts.records import Chapter

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
