"""The browser sanitizer's XSS payloads through notes_to_html and clean_text."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from devcasts.ingest.sanitize import ALLOWED_TAGS, clean_text, notes_to_html, sanitize_html

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
PAYLOADS_FILE = CORPUS / "xss" / "dompurify-expect.json"

pytestmark = pytest.mark.corpus

KEPT_TAGS = ALLOWED_TAGS - {"h1", "h5", "h6"}
FORBIDDEN = ("svg", "math", "iframe", "style", "form", "script", "object", "embed", "noscript")
BAD_SCHEME = re.compile(r"^\s*(?:javascript|data|vbscript):", re.IGNORECASE)
# In plain text, anything that still reads as markup with a handler or a dangerous URL.
TEXT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
TEXT_BAD_URL = re.compile(
    r"<[a-z][^>]*(?:href|src|action|data|from|to|values)\s*=\s*[\"']?\s*(?:javascript|data|vbscript):",
    re.IGNORECASE,
)


def load_payloads() -> list[str]:
    if not PAYLOADS_FILE.is_file():
        pytest.skip("corpus absent")
    return [entry["payload"] for entry in json.loads(PAYLOADS_FILE.read_text("utf-8"))]


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
            if name in ("href", "src") and not re.match(r"^(https?://|mailto:)", value or ""):
                self.problems.append(f"url {name}={value!r}")
            if name == "src" and not (value or "").startswith(("http://", "https://")):
                self.problems.append(f"image src {value!r}")

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


def test_there_are_223_payloads() -> None:
    assert len(load_payloads()) == 223


@pytest.mark.parametrize("base_url", [None, "https://show.example/episodes/1"])
def test_notes_html_has_no_active_content(base_url: str | None) -> None:
    failures = {}
    for payload in load_payloads():
        problems = audit(notes_to_html(payload, base_url))
        if problems:
            failures[payload[:80]] = problems
    assert failures == {}


def test_sanitized_payloads_are_stable() -> None:
    for payload in load_payloads():
        once = sanitize_html(payload, "https://show.example/")
        assert sanitize_html(once, "https://show.example/") == once


def test_clean_text_leaves_no_markup_that_could_run() -> None:
    failures = []
    for payload in load_payloads():
        text = clean_text(payload)
        if (
            "<script" in text.lower()
            or TEXT_HANDLER.search(text)
            or TEXT_BAD_URL.search(text)
            or any(f"<{name}" in text.lower() for name in FORBIDDEN)
        ):
            failures.append((payload[:80], text[:200]))
    assert failures == []


def test_audit_flags_active_content() -> None:
    assert audit('<p onclick="x()"><a href="javascript:alert(1)">x</a></p><svg></svg>') == [
        "handler onclick",
        "url href='javascript:alert(1)'",
        "tag svg",
        "end tag svg",
        "raw <svg",
    ]
