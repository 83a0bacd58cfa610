"""A second, namespace-aware pass for the elements feedparser collapses or loses.

feedparser keeps only the last of repeated `podcast:person` / `podcast:transcript` elements and
reduces itunes:explicit to a boolean. This pass streams the document through expat with DTDs and
entity declarations refused, and collects every Podcasting 2.0 person, transcript and chapters
link, every Podlove Simple Chapter, podcast:guid and the raw itunes:explicit. A document that is
not well-formed is skipped silently: feedparser's reading stands.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from typing import Any
from xml.parsers import expat

from devcasts.ingest.limits import (
    MAX_PEOPLE,
    MAX_TRANSCRIPTS,
    SHORT_LIMIT,
    TITLE_LIMIT,
    URL_LIMIT,
    clip,
)
from devcasts.records import ParsedFeed, ParsedItem, RawChapter, RawPerson, RawTranscript

MAX_CHAPTERS = 500
_PODCAST_MARK = "podcastindex"  # https://podcastindex.org/namespace/1.0 and its variants
_PSC_MARK = "podlove.org/simple-chapters"
_ITUNES_MARK = "itunes.com/dtds/podcast-1.0.dtd"
_ITEM_NAMES = ("item", "entry")
_XML_DECLARATION = re.compile(r"\A<\?xml[^>]*\?>")


class _RefusedMarkupError(Exception):
    """A DTD or entity declaration: refused, the pass is abandoned."""


@dataclass(slots=True)
class ItemExtras:
    guid: str = ""
    title: str = ""
    people: list[RawPerson] = field(default_factory=list)
    transcripts: list[RawTranscript] = field(default_factory=list)
    chapters_url: str = ""
    chapters_type: str = ""
    psc_chapters: list[RawChapter] = field(default_factory=list)
    explicit: str = ""


@dataclass(slots=True)
class FeedExtras:
    podcast_guid: str = ""
    people: list[RawPerson] = field(default_factory=list)
    explicit: str = ""
    items: list[ItemExtras] = field(default_factory=list)


def read_extras(body: bytes, encoding: str) -> FeedExtras | None:
    """Collect the extras of a document, or None when it is not well-formed or has none."""
    text = _decode(body, encoding)
    lowered = text.lower()
    if not any(mark in lowered for mark in (_PODCAST_MARK, _PSC_MARK, _ITUNES_MARK)):
        return None
    collector = _Collector()
    try:
        collector.run(text.encode("utf-8", "replace"))
    except (expat.ExpatError, _RefusedMarkupError, ValueError, RecursionError):
        return None
    return collector.extras


def apply_extras(feed: ParsedFeed, extras: FeedExtras | None) -> ParsedFeed:
    """The feed with the second pass's findings in place of feedparser's collapsed ones."""
    if extras is None:
        return feed
    matched = _match_items(feed.items, extras.items)
    return replace(
        feed,
        podcast_guid=extras.podcast_guid or feed.podcast_guid,
        people=tuple(extras.people) or feed.people,
        explicit=extras.explicit or feed.explicit,
        items=tuple(
            _merge_item(item, extra) for item, extra in zip(feed.items, matched, strict=True)
        ),
    )


def _decode(body: bytes, encoding: str) -> str:
    """Text without BOM, leading blank lines or XML declaration: expat then reads it as UTF-8."""
    try:
        text = body.decode(encoding, "replace")
    except LookupError:
        text = body.decode("utf-8", "replace")
    text = text.lstrip("\ufeff \t\r\n")
    return _XML_DECLARATION.sub("", text, count=1)


def _match_items(items: tuple[ParsedItem, ...], extras: list[ItemExtras]) -> list[ItemExtras]:
    """Pair feedparser's items with the pass's items by guid, else title, else position."""
    by_guid: dict[str, deque[ItemExtras]] = defaultdict(deque)
    by_title: dict[str, deque[ItemExtras]] = defaultdict(deque)
    for extra in extras:
        by_guid[extra.guid.strip()].append(extra)
        by_title[_title_key(extra.title)].append(extra)
    used: set[int] = set()
    same_count = len(items) == len(extras)
    matched: list[ItemExtras] = []
    for index, item in enumerate(items):
        found = _first_unused(by_guid.get(item.guid.strip()) if item.guid.strip() else None, used)
        found = found or _first_unused(by_title.get(_title_key(item.title)), used)
        if found is None and same_count and id(extras[index]) not in used:
            found = extras[index]
        if found is not None:
            used.add(id(found))
        matched.append(found or ItemExtras())
    return matched


def _first_unused(queue: deque[ItemExtras] | None, used: set[int]) -> ItemExtras | None:
    while queue:
        candidate = queue.popleft()
        if id(candidate) not in used:
            return candidate
    return None


def _title_key(title: str) -> str:
    return " ".join(title.split())


def _merge_item(item: ParsedItem, extra: ItemExtras) -> ParsedItem:
    merged: dict[str, Any] = {
        "guid": extra.guid or item.guid,  # as written: feedparser may have resolved it as a URL
        "people": tuple(extra.people) or item.people,
        "transcripts": tuple(extra.transcripts) or item.transcripts,
        "psc_chapters": tuple(extra.psc_chapters) or item.psc_chapters,
        "chapters_url": extra.chapters_url or item.chapters_url,
        "chapters_type": extra.chapters_type or item.chapters_type,
        # feedparser reads "false" or "no" as nothing (""): the raw word is a real change.
        "explicit": extra.explicit or item.explicit,
    }
    changes = {name: value for name, value in merged.items() if value != getattr(item, name)}
    # Most items gain nothing: no copy of the whole item for no change.
    return replace(item, **changes) if changes else item


class _Collector:
    """expat handlers: track the current item and capture the text of a few elements."""

    def __init__(self) -> None:
        self.extras = FeedExtras()
        self.depth = 0
        self.item: ItemExtras | None = None
        self.item_depth = 0
        self.capture: tuple[int, str, dict[str, str]] | None = None  # depth, what, attributes
        self.buffer: list[str] = []

    def run(self, data: bytes) -> None:
        parser = expat.ParserCreate("utf-8", " ")
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.Parse(data, True)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        uri, _, local = name.rpartition(" ")
        uri = uri.lower()
        if self.item is None and local in _ITEM_NAMES and not _is_extension(uri):
            self.item = ItemExtras()
            self.item_depth = self.depth
            self.extras.items.append(self.item)
        elif _PODCAST_MARK in uri:
            self._podcast_element(local, attrs)
        elif _PSC_MARK in uri and local == "chapter":
            self._psc_chapter(attrs)
        elif _ITUNES_MARK in uri and local == "explicit":
            self._begin_capture("explicit", attrs)
        elif local in ("guid", "id", "title") and self._is_item_child(uri):
            self._begin_capture(local, attrs)

    def end(self, name: str) -> None:
        if self.capture is not None and self.capture[0] == self.depth:
            self._finish_capture()
        if self.item is not None and self.depth == self.item_depth:
            self.item = None
        self.depth -= 1

    def characters(self, data: str) -> None:
        if self.capture is not None and sum(map(len, self.buffer)) < TITLE_LIMIT:
            self.buffer.append(data)

    def _is_item_child(self, uri: str) -> bool:
        return self.item is not None and self.depth == self.item_depth + 1 and _is_core(uri)

    def _podcast_element(self, local: str, attrs: dict[str, str]) -> None:
        if local in ("person", "guid"):
            self._begin_capture(local, attrs)
        elif local == "transcript" and self.item is not None and attrs.get("url"):
            if len(self.item.transcripts) < MAX_TRANSCRIPTS:
                self.item.transcripts.append(_transcript(attrs))
        elif local == "chapters" and self.item is not None and not self.item.chapters_url:
            self.item.chapters_url = clip(attrs.get("url"), URL_LIMIT).strip()
            self.item.chapters_type = clip(attrs.get("type"), SHORT_LIMIT).strip()

    def _psc_chapter(self, attrs: dict[str, str]) -> None:
        if self.item is not None and len(self.item.psc_chapters) < MAX_CHAPTERS:
            self.item.psc_chapters.append(
                RawChapter(
                    start=clip(attrs.get("start"), SHORT_LIMIT).strip(),
                    title=clip(attrs.get("title"), TITLE_LIMIT),
                    href=clip(attrs.get("href"), URL_LIMIT).strip(),
                )
            )

    def _begin_capture(self, what: str, attrs: dict[str, str]) -> None:
        self.capture = (self.depth, what, attrs)
        self.buffer = []

    def _finish_capture(self) -> None:
        assert self.capture is not None
        _, what, attrs = self.capture
        text = "".join(self.buffer).strip()[:TITLE_LIMIT]
        self.capture = None
        self.buffer = []
        target = self.item
        if what == "person" and text:
            people = target.people if target is not None else self.extras.people
            if len(people) < MAX_PEOPLE:
                people.append(_person(text, attrs))
        elif what == "explicit":
            if target is not None:
                target.explicit = text[:SHORT_LIMIT]
            else:
                self.extras.explicit = text[:SHORT_LIMIT]
        elif what == "guid" and target is None:
            self.extras.podcast_guid = text
        elif target is not None and what in ("guid", "id"):
            target.guid = text
        elif target is not None and what == "title":
            target.title = text


def _is_core(uri: str) -> bool:
    """RSS 2.0 (no namespace), RSS 1.0 or Atom: where an item's own guid and title live."""
    return not uri or "w3.org/2005/atom" in uri or "purl.org/rss/1.0" in uri


def _is_extension(uri: str) -> bool:
    return any(mark in uri for mark in (_PODCAST_MARK, _PSC_MARK, _ITUNES_MARK))


def _person(name: str, attrs: dict[str, str]) -> RawPerson:
    return RawPerson(
        name=name,
        role=clip(attrs.get("role"), SHORT_LIMIT).strip(),
        group=clip(attrs.get("group"), SHORT_LIMIT).strip(),
        href=clip(attrs.get("href"), URL_LIMIT).strip(),
        img=clip(attrs.get("img"), URL_LIMIT).strip(),
    )


def _transcript(attrs: dict[str, str]) -> RawTranscript:
    return RawTranscript(
        url=clip(attrs.get("url"), URL_LIMIT).strip(),
        type=clip(attrs.get("type"), SHORT_LIMIT).strip(),
        language=clip(attrs.get("language"), SHORT_LIMIT).strip(),
        rel=clip(attrs.get("rel"), SHORT_LIMIT).strip(),
    )


def _refuse(*_args: object) -> None:
    raise _RefusedMarkupError
