"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1) -> ParsedFeed, bounded like parse."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
from devcasts.records import NotAFeedError, ParsedFeed, ParsedItem, RawEnclosure


def looks_like_json_feed(body: bytes) -> bool:
    """A document that opens with "{" (whatever the Content-Type claims: servers get it wrong)."""
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        document = json.loads(body.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError) as error:
        raise NotAFeedError(f"not a JSON Feed: {str(error)[:200]}") from None
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version", "")):
        raise NotAFeedError("JSON document without a JSON Feed version")
    items = document.get("items")
    items = items if isinstance(items, list) else []
    return ParsedFeed(
        title=clip(document.get("title"), TITLE_LIMIT),
        link=clip(document.get("home_page_url"), URL_LIMIT),
        description=clip(document.get("description"), NOTES_LIMIT),
        language=clip(document.get("language"), SHORT_LIMIT),
        image=clip(document.get("icon") or document.get("favicon"), URL_LIMIT),
        author=_author(document),
        items=tuple(_item(item) for item in items[:MAX_ITEMS] if isinstance(item, dict)),
        items_left_out=max(0, len(items) - MAX_ITEMS),
        plain_titles=True,
    )


def _item(item: Mapping[str, Any]) -> ParsedItem:
    return ParsedItem(
        guid=clip(item.get("id"), TITLE_LIMIT),
        title=clip(item.get("title"), TITLE_LIMIT),
        link=clip(item.get("url"), URL_LIMIT),
        published=clip(item.get("date_published") or item.get("date_modified"), SHORT_LIMIT),
        description=clip(item.get("summary") or item.get("content_text"), NOTES_LIMIT),
        content=clip(item.get("content_html") or item.get("content_text"), NOTES_LIMIT),
        enclosures=_attachments(item.get("attachments")),
        duration=_first_duration(item.get("attachments")),
        image=clip(item.get("image") or item.get("banner_image"), URL_LIMIT),
        author=_author(item),
        language=clip(item.get("language"), SHORT_LIMIT),
        categories=tuple(
            clip(tag, SHORT_LIMIT)
            for tag in _list(item.get("tags"))[:MAX_CATEGORIES]
            if isinstance(tag, str)
        ),
    )


def _attachments(value: object) -> tuple[RawEnclosure, ...]:
    return tuple(
        RawEnclosure(
            url=clip(attachment.get("url"), URL_LIMIT).strip(),
            type=clip(attachment.get("mime_type"), SHORT_LIMIT),
            length=clip(attachment.get("size_in_bytes"), SHORT_LIMIT),
        )
        for attachment in _list(value)[:MAX_ENCLOSURES]
        if isinstance(attachment, dict) and attachment.get("url")
    )


def _first_duration(value: object) -> str:
    for attachment in _list(value):
        if isinstance(attachment, dict) and attachment.get("duration_in_seconds") is not None:
            return clip(attachment["duration_in_seconds"], SHORT_LIMIT)
    return ""


def _author(node: Mapping[str, Any]) -> str:
    authors = _list(node.get("authors")) or [node.get("author")]
    first = authors[0] if authors else None
    return clip(first.get("name"), TITLE_LIMIT) if isinstance(first, dict) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
