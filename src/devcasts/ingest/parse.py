"""Bytes -> ParsedFeed. The only module that imports feedparser.

feedparser gets bytes and the response headers, never a URL or a path (it would fetch or read
them itself), with its own sanitizer and URI resolution off: normalize does both. Its untyped
dicts are converted into model.ParsedFeed at once; every string is length-bounded here.

Repeated Podcasting 2.0 and Podlove elements, which feedparser collapses, come from a second,
namespace-aware pass (podcast_ns). JSON Feed documents are read by jsonfeed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

import feedparser

from devcasts.ingest import jsonfeed, podcast_ns
from devcasts.ingest.limits import (
    MAX_CATEGORIES,
    MAX_ENCLOSURES,
    MAX_ITEMS,
    NOTES_LIMIT,
    SHORT_LIMIT,
    TITLE_LIMIT,
    URL_LIMIT,
    clip,
)
from devcasts.records import (
    NotAFeedError,
    ParsedFeed,
    ParsedItem,
    RawChapter,
    RawEnclosure,
    RawTranscript,
)

_CODECS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_MEDIA_PREFIXES = ("audio/", "video/")


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a feed document. Raises model.NotAFeedError for anything that is not a feed."""
    if not body.strip(b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"):  # whitespace, NULs and BOMs
        raise NotAFeedError("empty document")
    lower_headers = {name.lower(): value for name, value in headers.items()}
    if jsonfeed.looks_like_json_feed(body):
        return _require_feed(jsonfeed.parse_json_feed(body), body)
    if _looks_binary(body):
        raise NotAFeedError("binary data, not a feed")
    body = strip_doctype(body)
    # No base URL for feedparser: it would rewrite guids into links ("42" -> "https://host/42"),
    # and relative links are resolved in normalize anyway.
    lower_headers.pop("content-location", None)
    # Without a Content-Type (local files) feedparser flags every document as ill-formed.
    lower_headers.setdefault("content-type", "application/xml")
    result = feedparser.parse(
        body, response_headers=lower_headers, sanitize_html=False, resolve_relative_uris=False
    )
    parsed = _convert(result)
    extras = podcast_ns.read_extras(body, str(result.get("encoding") or "utf-8"))
    return _require_feed(podcast_ns.apply_extras(parsed, extras), body)


def strip_doctype(body: bytes) -> bytes:
    """Remove a DOCTYPE declaration with its internal subset, in any of the common encodings.

    feedparser's loose parser expands entities declared there: one large entity repeated makes a
    gigabyte string. Without the DOCTYPE, such references stay undefined and harmless.
    """
    # UTF-16 and UTF-32 write "<!" with NUL bytes: without any, only UTF-8 needs a look (the
    # others would each scan the whole document for a root element they cannot find).
    for codec in _CODECS if b"\x00" in body else _CODECS[:1]:
        root = _element_start(codec).search(body)
        prolog_end = root.start() if root else len(body)  # a DOCTYPE only counts before it
        match = _doctype_start(codec).search(body, 0, prolog_end)
        if match:
            end = _doctype_end(body, match.end(), codec)
            return body[: match.start()] + body[end:]
    return body


@cache
def _doctype_start(codec: str) -> re.Pattern[bytes]:
    pattern = b"".join(re.escape(char.encode(codec)) for char in "<!")
    for char in "DOCTYPE":
        pattern += b"(?:" + char.encode(codec) + b"|" + char.lower().encode(codec) + b")"
    return re.compile(pattern)


@cache
def _element_start(codec: str) -> re.Pattern[bytes]:
    """ "<" and a letter, with the NUL padding of the codec."""
    letter = "A".encode(codec).replace(b"A", b"[A-Za-z]")
    return re.compile(re.escape("<".encode(codec)) + letter)


def _doctype_end(body: bytes, start: int, codec: str) -> int:
    """Index just past the DOCTYPE: after "]" ... ">" when there is a subset, else after ">"."""
    close = body.find(">".encode(codec), start)
    bracket = body.find("[".encode(codec), start)
    if bracket == -1 or (close != -1 and close < bracket):
        return len(body) if close == -1 else close + len(">".encode(codec))
    closing = "]".encode(codec)
    subset_end = body.find(closing, bracket)
    while subset_end != -1:
        after = body.find(">".encode(codec), subset_end)
        if after == -1:
            break
        if not body[subset_end + len(closing) : after].strip(b"\x00 \t\r\n"):
            return after + len(">".encode(codec))
        subset_end = body.find(closing, subset_end + 1)
    return len(body)


_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"ID3")


_CONTROL_BYTES = bytes([*range(1, 9), 11, 12, *range(14, 32)])


def _looks_binary(body: bytes) -> bool:
    """A known binary format, or many NUL bytes not laid out like UTF-16 or UTF-32 text."""
    head = body[:512]
    if head.startswith(_BINARY_MAGIC):
        return True
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False  # a byte order mark: text
    controls = sum(head.count(byte) for byte in _CONTROL_BYTES)
    if controls * 10 > len(head):
        return True
    if head.count(0) * 8 <= len(head):
        return False  # a stray NUL in a text document is the loose parser's business
    positions = {index % 4 for index, byte in enumerate(head) if byte}
    return len(positions) > 1 and len({position % 2 for position in positions}) > 1


def _not_a_feed_reason(body: bytes, parsed: ParsedFeed) -> str:
    if _HTML_START.match(body[:4096]):
        return "an HTML page, not a feed"
    if parsed.bozo:
        return f"not a feed ({parsed.bozo_reason or 'unreadable document'})"
    return "no channel, items or title: not a feed"


def _require_feed(parsed: ParsedFeed, body: bytes) -> ParsedFeed:
    if not parsed.items and (not parsed.title or _HTML_START.match(body[:4096])):
        raise NotAFeedError(_not_a_feed_reason(body, parsed))
    return parsed


# --- feedparser dicts -> ParsedFeed ---------------------------------------------------------


def _convert(result: Any) -> ParsedFeed:
    # Plain dicts: FeedParserDict's key aliases warn (and pytest makes warnings errors).
    channel = dict(result.get("feed", {}))
    all_entries = result.get("entries", [])
    entries = [dict(entry) for entry in all_entries[:MAX_ITEMS]]
    bozo_exception = result.get("bozo_exception")
    return ParsedFeed(
        title=clip(channel.get("title"), TITLE_LIMIT),
        link=clip(channel.get("link"), URL_LIMIT),
        description=clip(
            channel.get("summary") or channel.get("subtitle") or channel.get("itunes_summary"),
            NOTES_LIMIT,
        ),
        language=clip(channel.get("language"), SHORT_LIMIT),
        image=clip(_image_href(channel), URL_LIMIT),
        author=clip(_author_name(channel), TITLE_LIMIT),
        owner_email=clip(_dict(channel.get("publisher_detail")).get("email"), TITLE_LIMIT),
        categories=_categories(channel),
        explicit=_explicit_text(channel.get("itunes_explicit")),
        generator=clip(channel.get("generator"), TITLE_LIMIT),
        items=tuple(_convert_entry(entry) for entry in entries if isinstance(entry, dict)),
        items_left_out=max(0, len(all_entries) - MAX_ITEMS),
        bozo=bool(result.get("bozo")),
        bozo_reason=clip(str(bozo_exception) if bozo_exception else "", TITLE_LIMIT),
    )


def _convert_entry(entry: Mapping[str, Any]) -> ParsedItem:
    published = entry.get("published") or entry.get("updated")
    published_parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return ParsedItem(
        guid=clip(entry.get("id"), TITLE_LIMIT),
        title=clip(entry.get("title"), TITLE_LIMIT),
        link=clip(_entry_link(entry), URL_LIMIT),
        published=clip(published, SHORT_LIMIT),
        published_parsed=_struct_time_to_utc(published_parsed),
        description=clip(entry.get("summary"), NOTES_LIMIT),
        content=clip(_content_value(entry), NOTES_LIMIT),
        enclosures=_enclosures(entry),
        duration=clip(entry.get("itunes_duration"), SHORT_LIMIT),
        episode=clip(entry.get("itunes_episode"), SHORT_LIMIT),
        season=clip(entry.get("itunes_season"), SHORT_LIMIT),
        episode_type=clip(entry.get("itunes_episodetype"), SHORT_LIMIT),
        explicit=_explicit_text(entry.get("itunes_explicit")),
        image=clip(_image_href(entry), URL_LIMIT),
        author=clip(_author_name(entry), TITLE_LIMIT),
        language=clip(entry.get("language"), SHORT_LIMIT),
        categories=_categories(entry),
        transcripts=_last_transcript(entry),
        chapters_url=clip(_dict(entry.get("podcast_chapters")).get("url"), URL_LIMIT),
        chapters_type=clip(_dict(entry.get("podcast_chapters")).get("type"), SHORT_LIMIT),
        psc_chapters=_psc_chapters(entry),
        base=clip(_notes_base(entry), URL_LIMIT),
        subtitle=clip(entry.get("subtitle"), NOTES_LIMIT),
    )


def _entry_link(entry: Mapping[str, Any]) -> str:
    """The item's link; feedparser's stand-in from a guid counts only when it is a web URL."""
    link = str(entry.get("link") or "")
    if entry.get("guidislink") and not link[:8].lower().startswith(("http://", "https://")):
        return ""
    return link


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _content_value(entry: Mapping[str, Any]) -> str:
    """content:encoded / Atom content: the longest HTML body, if any."""
    contents = entry.get("content")
    if not isinstance(contents, list):
        return ""
    values = [str(_dict(part).get("value") or "") for part in contents]
    return max(values, key=len, default="")


def _notes_base(entry: Mapping[str, Any]) -> str:
    """The xml:base in scope for the notes: feedparser records it beside each text (it resolves
    nothing itself here, as resolve_relative_uris is off)."""
    details = [_dict(part) for part in entry.get("content") or () if isinstance(part, Mapping)]
    details.append(_dict(entry.get("summary_detail")))
    return next((str(detail["base"]) for detail in details if detail.get("base")), "")


def _enclosures(entry: Mapping[str, Any]) -> tuple[RawEnclosure, ...]:
    found: list[RawEnclosure] = []
    for link in entry.get("links") or ():
        link = _dict(link)
        if link.get("rel") == "enclosure" and link.get("href"):
            found.append(_raw_enclosure(link.get("href"), link.get("type"), link.get("length")))
    if not found:
        found = _media_content(entry)
    return tuple(found[:MAX_ENCLOSURES])


def _media_content(entry: Mapping[str, Any]) -> list[RawEnclosure]:
    """Media RSS content, for items that carry their audio or video only there."""
    found: list[RawEnclosure] = []
    for media in entry.get("media_content") or ():
        media = _dict(media)
        mime = str(media.get("type") or "")
        medium = str(media.get("medium") or "")
        if media.get("url") and (mime.startswith(_MEDIA_PREFIXES) or medium in ("audio", "video")):
            found.append(_raw_enclosure(media.get("url"), mime, media.get("filesize")))
    return found


def _raw_enclosure(url: object, mime: object, length: object) -> RawEnclosure:
    return RawEnclosure(
        url=clip(url, URL_LIMIT).strip(),
        type=clip(mime, SHORT_LIMIT),
        length=clip(length, SHORT_LIMIT),
    )


def _image_href(node: Mapping[str, Any]) -> str:
    image = _dict(node.get("image"))
    href = image.get("href") or image.get("url")
    if href:
        return str(href)
    thumbnails = node.get("media_thumbnail")
    if isinstance(thumbnails, list) and thumbnails:
        return str(_dict(thumbnails[0]).get("url") or "")
    return ""


def _author_name(node: Mapping[str, Any]) -> str:
    detail = _dict(node.get("author_detail"))
    return str(detail.get("name") or node.get("author") or node.get("itunes_author") or "")


def _categories(node: Mapping[str, Any]) -> tuple[str, ...]:
    terms: list[str] = []
    for tag in node.get("tags") or ():
        term = clip(_dict(tag).get("term"), SHORT_LIMIT * 4).strip()
        if term and term not in terms:
            terms.append(term)
    return tuple(terms[:MAX_CATEGORIES])


def _explicit_text(value: object) -> str:
    """feedparser reduces itunes:explicit to True / False / None; map it back to words."""
    if value is True:
        return "yes"
    if value is False:
        return "clean"
    return clip(value, SHORT_LIMIT) if isinstance(value, str) else ""


def _psc_chapters(entry: Mapping[str, Any]) -> tuple[RawChapter, ...]:
    """feedparser's own reading of Podlove chapters, for documents the second pass cannot read."""
    chapters = _dict(entry.get("psc_chapters")).get("chapters")
    if not isinstance(chapters, list):
        return ()
    return tuple(
        RawChapter(
            start=clip(_dict(chapter).get("start"), SHORT_LIMIT),
            title=clip(_dict(chapter).get("title"), TITLE_LIMIT),
            href=clip(_dict(chapter).get("href"), URL_LIMIT),
        )
        for chapter in chapters[: podcast_ns.MAX_CHAPTERS]
    )


def _last_transcript(entry: Mapping[str, Any]) -> tuple[RawTranscript, ...]:
    """feedparser keeps only the last podcast:transcript: the fallback for documents the second
    pass cannot read. (Its podcast:person loses the name in the loose parser: not used.)"""
    transcript = _dict(entry.get("podcast_transcript"))
    url = clip(transcript.get("url"), URL_LIMIT).strip()
    mime = clip(transcript.get("type"), SHORT_LIMIT)
    return (RawTranscript(url=url, type=mime),) if url else ()


def _struct_time_to_utc(value: object) -> datetime | None:
    """feedparser's time.struct_time (already UTC) -> aware datetime, or None."""
    if not isinstance(value, tuple) or len(value) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in value[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
