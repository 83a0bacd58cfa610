"""Chapters from show notes over the real feeds of the corpus, joined back to their items.

Every item whose notes hold a chapter list (three or more stamps in one of the shapes of
docs/editorial.md, "Chapters") must give chapters; notes with only times in prose must give
none; where a feed also sends Podlove chapters, the list read from the notes must agree with
them. The figures are those of the corpus when this was written (docs/editorial.md).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

import pytest
from conftest import corpus_feeds

from devcasts.ingest.chapters import chapters_from_html, chapters_from_psc
from devcasts.ingest.sanitize import html_to_text
from devcasts.records import Chapter
from devcasts.site.chapters import seek_links

pytestmark = pytest.mark.corpus


_S = r"\d{1,3}:\d\d(?::\d\d)?"
_STAMP_FIRST = re.compile(rf"^\s*(?:[-*•]\s*)?[(\[]?{_S}[)\]]?\s+\S")
_STAMP_ALONE = re.compile(rf"^\s*[(\[]?{_S}[)\]]?\s*$")
_STAMP_LAST = re.compile(rf"\S\s*(?:[-–—]\s*)?[(\[]?{_S}[)\]]?[\s.,;]*$")
_BRACKETED = re.compile(rf"[(\[]{_S}[)\]]")
_ANY = re.compile(_S)


@dataclass(frozen=True)
class Item:
    feed: str
    title: str
    notes_html: str
    source_text: str  # the item's own notes as text, before our sanitizer
    duration: int | None
    chapters: tuple[Chapter, ...]  # what the build keeps (Podlove first, then the notes)
    psc: tuple[Chapter, ...]


@cache
def corpus_items() -> tuple[Item, ...]:
    items: list[Item] = []
    for corpus_feed in corpus_feeds():
        path = corpus_feed.path
        raw_by_title = {raw.title.strip(): raw for raw in corpus_feed.parsed.items}
        for episode in corpus_feed.feed.episodes:
            raw = raw_by_title.get(episode.title.strip())
            if raw is None:  # titles the normalizer rewrote: joined by their notes' stamps
                continue
            items.append(
                Item(
                    feed=path.name,
                    title=episode.title,
                    notes_html=episode.notes_html,
                    source_text=html_to_text(raw.content or raw.description),
                    duration=episode.duration,
                    chapters=episode.chapters,
                    psc=chapters_from_psc(raw.psc_chapters),
                )
            )
    return tuple(items)


def list_shape(text: str) -> str | None:
    """The shape of the chapter list in an item's own notes, or None when it has none."""
    lines = text.splitlines()
    if any(len(_BRACKETED.findall(line)) >= 3 for line in lines):
        return "run together"
    counts = {
        "stamp first": sum(1 for line in lines if _STAMP_FIRST.match(line)),
        "stamp alone": sum(1 for line in lines if _STAMP_ALONE.match(line)),
        "stamp last": sum(1 for line in lines if _STAMP_LAST.search(line)),
    }
    shape, count = max(counts.items(), key=lambda kv: kv[1])
    return shape if count >= 3 else None


def from_notes(item: Item) -> tuple[Chapter, ...]:
    return chapters_from_html(item.notes_html, item.duration)


def test_every_chapter_list_in_notes_gives_chapters() -> None:
    listed = [item for item in corpus_items() if list_shape(item.source_text)]
    missed = [(item.feed, item.title) for item in listed if not from_notes(item)]
    shapes = Counter(list_shape(item.source_text) for item in listed)
    assert missed == []
    assert len(listed) >= 385
    assert shapes["run together"] >= 1
    assert shapes["stamp first"] >= 380


def test_times_in_prose_give_no_chapters() -> None:
    prose = [
        item
        for item in corpus_items()
        if _ANY.search(item.source_text) and not list_shape(item.source_text)
    ]
    assert len(prose) >= 150  # meetup times, "Last Modified ... 14:51:36", one-off stamps
    assert [(item.feed, item.title) for item in prose if from_notes(item)] == []


def test_notes_chapters_agree_with_the_feeds_podlove_chapters() -> None:
    both = [item for item in corpus_items() if item.psc and from_notes(item)]
    assert len(both) >= 4
    starts = [chapter.start for item in both for chapter in from_notes(item)]
    near = [
        start
        for item in both
        for start in (chapter.start for chapter in from_notes(item))
        if any(abs(start - psc.start) <= 3 for psc in item.psc)
    ]
    assert len(near) >= 0.75 * len(starts)


def test_lists_with_a_duplicated_or_stray_stamp_keep_the_chapters_around_it() -> None:
    for item in corpus_items():
        stamps = re.findall(r"^\((\d\d:\d\d:\d\d)\)", item.source_text, re.MULTILINE)
        if len(stamps) >= 3:
            assert len(from_notes(item)) >= len(stamps) - 2, (item.feed, item.title)


def test_the_run_together_list_gives_every_chapter() -> None:
    [item] = [i for i in corpus_items() if list_shape(i.source_text) == "run together"]
    assert len(from_notes(item)) == len(_BRACKETED.findall(item.source_text))


_SEEK_LINK = re.compile(r'<a class="seek" href="#t=\d+">([^<]*)</a>')


def test_seek_links_stay_off_times_in_prose() -> None:
    """Outside chapter lists, only stamps that point into the episode are linked: a list of
    one ("(00:00:00) Topic") or a stamp in brackets in a sentence ("... im Podcast (7:00)")."""
    linked = Counter()
    for item in corpus_items():
        if list_shape(item.source_text):
            continue
        for match in _SEEK_LINK.finditer(seek_links(item.notes_html)):
            before = html_to_text(match.string[: match.start()])[-1:]
            linked["bracketed" if before in "([" else "bare"] += 1
    assert linked == Counter({"bracketed": 42})


def test_every_chapter_list_in_notes_gets_seek_links() -> None:
    for item in corpus_items():
        if list_shape(item.source_text) and item.chapters:
            assert len(_SEEK_LINK.findall(seek_links(item.notes_html, item.chapters))) >= 2
