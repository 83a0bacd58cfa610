"""Show notes of the real-world feed corpus through sanitize, chapters and topics."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from conftest import CORPUS

from devcasts.ingest.chapters import chapters_from_html
from devcasts.ingest.sanitize import (
    html_to_text,
    notes_summary,
    notes_to_html,
    sanitize_html,
)
from devcasts.ingest.topics import TopicMatcher
from devcasts.model import Topic

FEEDS = CORPUS / "feeds"
LABELED = Path(__file__).parent / "data" / "topics_labeled.yaml"
ITEMS_PER_FEED = 25
NOTES = re.compile(
    r"<(content:encoded|description|itunes:summary|summary|content)\b[^>]*>(.*?)</\1>", re.DOTALL
)
CDATA = re.compile(r"^\s*<!\[CDATA\[(.*)\]\]>\s*$", re.DOTALL)

pytestmark = pytest.mark.corpus


def feed_files() -> list[Path]:
    if not FEEDS.is_dir():
        return []
    return sorted(p for p in FEEDS.iterdir() if p.suffix in (".xml", ".rss", ".atom"))


def notes_of(path: Path) -> list[str]:
    """Show-notes fields as a feed reader would hand them over (CDATA opened, XML unescaped)."""
    text = path.read_bytes().decode("utf-8", "replace")
    found = []
    for match in NOTES.finditer(text):
        body = match.group(2)
        cdata = CDATA.match(body)
        found.append(cdata.group(1) if cdata else html.unescape(body))
        if len(found) >= ITEMS_PER_FEED:
            break
    return found


def matcher() -> TopicMatcher:
    topics = yaml.safe_load(LABELED.read_text("utf-8"))["topics"]
    return TopicMatcher([Topic(t["slug"], t["name"], tuple(t["patterns"])) for t in topics])


@pytest.mark.parametrize("path", feed_files(), ids=lambda p: p.name)
def test_corpus_notes(path: Path) -> None:
    topics = matcher()
    base = "https://show.example/episodes/"
    for raw in notes_of(path):
        notes = notes_to_html(raw, base)
        assert sanitize_html(notes, base) == notes
        assert "<script" not in notes.lower() and "javascript:" not in notes.lower()
        text = html_to_text(notes)
        assert len(notes_summary(text)) <= 300
        starts = [c.start for c in chapters_from_html(notes, None)]
        assert starts == sorted(set(starts))
        topics.match(text)


def test_the_corpus_has_notes_enough() -> None:
    assert sum(len(notes_of(p)) for p in feed_files()) > 500
