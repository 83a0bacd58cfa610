"""Deeply nested show notes: bounded depth, linear time, and ordinary notes left alone."""

from __future__ import annotations

import re
import time

import pytest

from devcasts.ingest.sanitize import MAX_DEPTH, bound_nesting, notes_to_html, sanitize_html

COUNT = 20_000
# The worst shapes found: each took seconds (or built a gigabyte) before the depth bound.
HOSTILE = {
    "nested div": "<div>" * COUNT,
    "nested b/i": "<b><i>" * (COUNT // 2) + "x",
    "nested lists": "<ul><li>" * (COUNT // 2) + "x",
    "nested blockquote": "<blockquote>x" * COUNT,
    "div and b": "<div><b>x" * (COUNT // 2),
    "links and em": "".join(f"<em title={i}><a href=/x{i}>y" for i in range(COUNT // 2)),
    "bold left open per paragraph": "".join(f"<p><b title={i}>x</p>" for i in range(COUNT)),
    "unclosed tags": "<div " * COUNT + ">x",
    "nested tables": "<table><tr><td>x" * (COUNT // 3),
    "closed again": "<div>" * COUNT + "x" + "</div>" * COUNT,
}
_TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")


def depth(sanitized: str) -> int:
    """How deep the elements of sanitized (well-formed) HTML nest."""
    current = deepest = 0
    for match in _TAG.finditer(sanitized):
        if match.group(2) in ("br", "img"):
            continue
        current += -1 if match.group(1) else 1
        deepest = max(deepest, current)
    return deepest


@pytest.mark.parametrize("notes", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_nesting_is_fast_bounded_and_keeps_the_text(notes: str) -> None:
    started = time.process_time()
    published = notes_to_html(notes, "https://example.org/")
    seconds = time.process_time() - started
    assert seconds < 2.0  # was 4 s to 80 s for these shapes; about 0.1 s now
    assert depth(published) <= MAX_DEPTH
    assert len(published) < 10 * len(notes)  # no browser-style re-opening per paragraph
    if "x" in notes:
        assert "x" in published


def test_deep_nesting_flattens_beyond_the_bound() -> None:
    published = sanitize_html("<b>" * 100 + "deep" + "</b>" * 100)
    assert published == "<b>" * MAX_DEPTH + "deep" + "</b>" * MAX_DEPTH


def test_removed_elements_too_deep_go_with_their_content() -> None:
    notes = "<div>" * 100 + "<svg><text>drawn</text></svg>shown" + "</div>" * 100
    assert sanitize_html(notes) == "shown"


def test_script_content_is_not_read_as_tags() -> None:
    notes = "<script>" + "<div>" * 100 + "</script>" + "<b>x</b>"
    assert bound_nesting(notes) == notes


def test_comments_are_not_read_as_tags() -> None:
    notes = "<!--" + "<div>" * 100 + "--><p>x</p>"
    assert bound_nesting(notes) == notes


@pytest.mark.parametrize(
    "notes",
    [
        "<p>x" * 200,  # paragraphs left open close each other
        "<ul>" + "<li>item" * 200 + "</ul>",
        "<dl>" + "<dt>a<dd>b" * 100 + "</dl>",
        "<table>" + "<tr><td>a<td>b" * 100 + "</table>",
        "<p><b>x</p>" * 200,  # a browser re-opens at most three identical ones
        "<a href='https://e.org/1'>x" * 200,  # a new link ends the last
        "<h2>a<h3>b" * 100,
        "<p>" + "a<br>b<img src=https://e.org/i.png>" * 100 + "</p>",
        "<div>" * 64 + "x" + "</div>" * 64,
    ],
)
def test_ordinary_markup_is_left_alone(notes: str) -> None:
    assert bound_nesting(notes) == notes


def test_the_bound_is_linear() -> None:
    """Ten times the nesting costs about ten times the time (quadratic would be a hundred)."""

    def seconds(count: int) -> float:
        started = time.process_time()
        for _ in range(3):
            sanitize_html("<div><b>" * count)
        return time.process_time() - started

    small, large = seconds(2_000), seconds(20_000)
    assert large < 30 * max(small, 0.01)
