"""Sanitized show notes read as blocks: the lines a reader sees, with where each one starts.

Summaries look at which lines are links or credits; the transcript finder cuts the notes at a
line. Both work on the output of sanitize.notes_to_html, where links never nest and every tag
is well formed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from devcasts.ingest.sanitize import LINE_BREAKING_TAG, html_to_text

__all__ = ["Block", "blocks"]

_LINK_TEXT = re.compile(r"<a\b[^<>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_BARE_URL = re.compile(r"\S*(?:https?://|www\.)\S+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Block:
    """One line of the notes: its plain text and the HTML offsets around it."""

    text: str
    start: int  # where the break before it starts: cutting here leaves this line out
    end: int  # where the break after it starts
    link_only: bool  # the line is (almost) all link text, or a bare URL
    link_chars: int = 0  # how much of the text is link text


def blocks(notes_html: str) -> Iterator[Block]:
    """The non-empty lines of sanitized notes, in order (lazily: callers often stop early)."""
    position = 0
    cut = 0
    for tag in LINE_BREAKING_TAG.finditer(notes_html):
        block = _block(notes_html, cut, position, tag.start())
        if block is not None:
            yield block
        cut = tag.start()
        position = tag.end()
    block = _block(notes_html, cut, position, len(notes_html))
    if block is not None:
        yield block


def _block(notes_html: str, cut: int, start: int, end: int) -> Block | None:
    fragment = notes_html[start:end]
    text = " ".join(_plain(fragment).split())
    if not text:
        return None
    linked = 0
    if "<a" in fragment or "<A" in fragment:
        linked = sum(
            len(" ".join(_plain(m.group(1)).split())) for m in _LINK_TEXT.finditer(fragment)
        )
    link_only = linked >= 0.8 * len(text) or _BARE_URL.match(text) is not None
    return Block(text=text, start=cut, end=end, link_only=link_only, link_chars=linked)


def _plain(fragment: str) -> str:
    """Text with neither markup nor entities is its own plain text (most lines of notes)."""
    return html_to_text(fragment) if "<" in fragment or "&" in fragment else fragment
