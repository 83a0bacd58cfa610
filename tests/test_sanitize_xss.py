"""Hostile show notes and URLs through notes_to_html, clean_text and clean_url.

The project's own set (tests/data/xss) always runs; the corpus's 223 payloads from a browser
sanitizer's test suite run as well when the corpus is there.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import CORPUS

from devcasts.ingest.sanitize import (
    ALLOWED_TAGS,
    clean_text,
    clean_url,
    notes_to_html,
    sanitize_html,
)

XSS_DATA = Path(__file__).parent / "data" / "xss"
CORPUS_PAYLOADS = CORPUS / "xss" / "dompurify-expect.json"

KEPT_TAGS = ALLOWED_TAGS - {"h1", "h5", "h6"}
KEPT_ATTRIBUTES = {
    "a": {"href", "rel"},
    "img": {"src", "alt", "width", "height", "loading", "decoding", "referrerpolicy"},
}
# The only values these may have: numbers, or our own privacy settings.
FIXED_VALUES = {
    "width": re.compile(r"[0-9]+"),
    "height": re.compile(r"[0-9]+"),
    "loading": re.compile("lazy"),
    "decoding": re.compile("async"),
    "referrerpolicy": re.compile("no-referrer"),
}
PLAIN_ATTRIBUTES = {"title", "lang"}  # nh3 keeps these on every element: text, never code
FORBIDDEN = ("svg", "math", "iframe", "style", "form", "script", "object", "embed", "noscript")
# In plain text, anything that still reads as markup with a handler or a dangerous URL.
TEXT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
TEXT_BAD_URL = re.compile(
    r"<[a-z][^>]*(?:href|src|action|data|from|to|values)\s*=\s*[\"']?\s*(?:javascript|data|vbscript):",
    re.IGNORECASE,
)
HTTP_URL = re.compile(r"^https?://[^\s/?#]+")
BASES = [None, "https://show.example/episodes/1"]

Named = list[tuple[str, str]]  # (what the payload tries, the payload)


def own_notes() -> Named:
    entries = yaml.safe_load((XSS_DATA / "notes.yaml").read_text("utf-8"))["notes"]
    return [(entry["name"], entry["html"]) for entry in entries]


def own_urls() -> Named:
    entries = yaml.safe_load((XSS_DATA / "urls.yaml").read_text("utf-8"))["urls"]
    return [(entry["name"], entry["url"]) for entry in entries]


def corpus_notes() -> Named:
    entries = json.loads(CORPUS_PAYLOADS.read_text("utf-8"))
    return [(f"corpus-{n}", entry["payload"]) for n, entry in enumerate(entries)]


# Every test over show notes runs on both sets; the corpus's only where the corpus is.
NOTE_SETS = [
    pytest.param(own_notes, id="own"),
    pytest.param(corpus_notes, id="corpus", marks=pytest.mark.corpus),
]
NoteSet = Callable[[], Named]


class MarkupAudit(HTMLParser):
    """Collects every element and attribute as a browser-like parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in KEPT_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler {name}")
            elif name not in KEPT_ATTRIBUTES.get(tag, set()) | PLAIN_ATTRIBUTES:
                self.problems.append(f"attribute {name}")
            if name in ("href", "src") and not re.match(r"^(https?://|mailto:)", value or ""):
                self.problems.append(f"url {name}={value!r}")
            if name == "src" and not (value or "").startswith("https://"):
                self.problems.append(f"image src {value!r}")
            if name in FIXED_VALUES and not FIXED_VALUES[name].fullmatch(value or ""):
                self.problems.append(f"value {name}={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag not in KEPT_TAGS:
            self.problems.append(f"end tag {tag}")


def audit(markup: str) -> list[str]:
    parser = MarkupAudit()
    parser.feed(markup)
    parser.close()
    lowered = markup.lower()
    parser.problems += [f"raw <{name}" for name in FORBIDDEN if f"<{name}" in lowered]
    return parser.problems


def test_the_own_set_has_sixty_distinct_named_shapes_or_more() -> None:
    notes, urls = own_notes(), own_urls()
    assert len(notes) >= 60 and len(urls) >= 20
    for entries in (notes, urls):
        names = [name for name, _ in entries]
        assert len(set(names)) == len(names)
        assert len({payload for _, payload in entries}) == len(entries)
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in names)


@pytest.mark.corpus
def test_the_corpus_has_223_payloads() -> None:
    assert len(corpus_notes()) == 223


@pytest.mark.parametrize("payloads", NOTE_SETS)
@pytest.mark.parametrize("base_url", BASES)
def test_notes_html_has_no_active_content(payloads: NoteSet, base_url: str | None) -> None:
    failures = {}
    for name, payload in payloads():
        if problems := audit(notes_to_html(payload, base_url)):
            failures[name] = problems
    assert failures == {}


@pytest.mark.parametrize("payloads", NOTE_SETS)
def test_sanitized_payloads_are_stable(payloads: NoteSet) -> None:
    for name, payload in payloads():
        once = sanitize_html(payload, "https://show.example/")
        assert sanitize_html(once, "https://show.example/") == once, name


@pytest.mark.parametrize("payloads", NOTE_SETS)
def test_clean_text_leaves_no_markup_that_could_run(payloads: NoteSet) -> None:
    failures = []
    for name, payload in payloads():
        text = clean_text(payload)
        if (
            "<script" in text.lower()
            or TEXT_HANDLER.search(text)
            or TEXT_BAD_URL.search(text)
            or any(f"<{tag}" in text.lower() for tag in FORBIDDEN)
        ):
            failures.append((name, text[:200]))
    assert failures == []


@pytest.mark.parametrize("base_url", BASES)
def test_hostile_urls_come_out_as_http_or_not_at_all(base_url: str | None) -> None:
    failures = {}
    for name, url in own_urls():
        cleaned = clean_url(url, base_url)
        if cleaned is not None and not HTTP_URL.match(cleaned):
            failures[name] = cleaned
    assert failures == {}


@pytest.mark.parametrize("base_url", BASES)
def test_hostile_urls_in_links_and_images_are_dropped_or_made_http(base_url: str | None) -> None:
    failures = {}
    for name, url in own_urls():
        quoted = html.escape(url)
        markup = f'<p><a href="{quoted}">link</a><img src="{quoted}" alt="x"></p>'
        if problems := audit(notes_to_html(markup, base_url)):
            failures[name] = problems
    assert failures == {}


def test_audit_flags_active_content() -> None:
    markup = '<p onclick="x()" style="x"><a href="javascript:alert(1)">x</a></p><svg></svg>'
    assert audit(markup) == [
        "handler onclick",
        "attribute style",
        "url href='javascript:alert(1)'",
        "tag svg",
        "end tag svg",
        "raw <svg",
    ]
