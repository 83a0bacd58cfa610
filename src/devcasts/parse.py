"""Bytes -> ParsedFeed. The only module that imports feedparser."""

from __future__ import annotations

from collections.abc import Mapping

from .model import ParsedFeed


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a feed document. Raises model.NotAFeedError for anything that is not a feed."""
    raise NotImplementedError
