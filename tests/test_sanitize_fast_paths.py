"""The sanitizer's shortcuts give what the long way gives, and the shared Cleaner keeps each
call's base URL to that call."""

from __future__ import annotations

import html
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from devcasts.ingest import sanitize
from devcasts.ingest.sanitize import clean_text, html_to_text, sanitize_html, summarize

_SPACE_CHARS = " \t\n\r\f\v\x1c\x85\u00a0\u1680\u2000\u2007\u200a\u200b\u2028\u202f\u3000"
spaced_text = st.text(alphabet=st.sampled_from(_SPACE_CHARS + "ab<&;Ωſ\u0301"), max_size=40)
url_chars = st.sampled_from("abcAZ09.-_~:/?#[]@!$&'()*+,;=% \t\u00e9\u3002\uff0e")


ascii_spaced_text = st.text(alphabet=st.sampled_from(" \t\n\r\f\v\x1c\x1fab<&"), max_size=20)


@given(spaced_text | ascii_spaced_text)
@example("a\vb")
@example("a\fb")
@example("a\tb")
@example("a  b")
def test_collapse_spaces_is_the_regex(text: str) -> None:
    assert sanitize._collapse_spaces(text) == sanitize._SPACES.sub(" ", text)


OTHER_SPACES = "\t\f\v\u00a0\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))


@pytest.mark.parametrize("space", list(OTHER_SPACES), ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("context", ["a{}b", "\u00e9{}b", "a {}b"])
def test_every_space_becomes_one_plain_space(space: str, context: str) -> None:
    text = context.format(space)
    assert sanitize._collapse_spaces(text) == sanitize._SPACES.sub(" ", text)
    assert " " in sanitize._collapse_spaces(text)
    assert space not in sanitize._collapse_spaces(text)


def clean_text_the_long_way(value: str, limit: int) -> str:
    """clean_text as it was written before its shortcuts."""
    text = value
    for _ in range(4):
        previous = text
        text = sanitize._FIELD_TAG.sub(
            sanitize._tag_separator, sanitize._drop_invisible(html.unescape(text))
        )
        if text == previous:
            break
    text = sanitize._REMOVED_CHARS.sub("", text)
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text)).strip()
    return text if len(text) <= limit else sanitize._cut_at_word(text, limit)


@given(
    spaced_text | ascii_spaced_text | st.text(max_size=60), st.integers(min_value=2, max_value=30)
)
def test_clean_text_is_the_long_way(text: str, limit: int) -> None:
    assert clean_text(text, limit) == clean_text_the_long_way(text, limit)


@given(spaced_text | ascii_spaced_text | st.text(max_size=60))
def test_summary_collapses_whitespace_as_the_regex_did(text: str) -> None:
    assert summarize(text, 1000) == re.sub(r"\s+", " ", text).strip()


@given(st.text(url_chars, max_size=30), st.sampled_from(["http", "https"]))
def test_a_plain_host_is_one_urlsplit_finds(rest: str, scheme: str) -> None:
    url = f"{scheme}://{rest}"
    if sanitize._PLAIN_HOST.match(url):
        assert sanitize._has_parsed_host(url)


@pytest.mark.parametrize(
    ("url", "has_host"),
    [
        ("https://example.org/a?b#c", True),
        ("https://example.org", True),
        ("https://ex-ample.org:8080/", True),  # a port: the long way
        ("https://user@example.org/", True),
        ("https://[::1]/", True),
        ("https://[::1/", False),
        ("https://example.org:99999/", False),
        ("https:///path", False),
        ("https:example.org", False),
    ],
)
def test_has_host(url: str, has_host: bool) -> None:
    assert sanitize._has_host(url) is has_host
    assert sanitize._has_parsed_host(url) is has_host


def test_each_call_resolves_against_its_own_base() -> None:
    html = '<a href="ep/1">one</a><img src="cover.png">'
    first = sanitize_html(html, "https://a.example/show/")
    second = sanitize_html(html, "https://b.example/feed/")
    assert 'href="https://a.example/show/ep/1"' in first
    assert 'href="https://b.example/feed/ep/1"' in second
    assert 'src="https://b.example/feed/cover.png"' in second
    assert "ep/1" not in sanitize_html(html, None)  # no base: the relative link is dropped


def test_the_base_is_forgotten_after_a_call() -> None:
    sanitize_html('<a href="x">x</a>', "https://a.example/")
    assert sanitize._LINK_BASE.get() is None
    assert sanitize_html('<a href="x">x</a>') == "x"


def test_threads_sanitizing_at_once_keep_their_bases_apart() -> None:
    html = "".join(f'<p><a href="page{i}">link {i}</a></p>' for i in range(200))

    def sanitized(host: int) -> tuple[int, str]:
        return host, sanitize_html(html, f"https://host{host}.example/")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(sanitized, range(32)))
    for host, result in results:
        assert result.count(f"https://host{host}.example/page") == 200


def test_html_to_text_collapses_unusual_spaces() -> None:
    assert html_to_text("<p>a \u00a0\u2003 b\tc  d</p>") == "a b c d"
    assert html_to_text("a\u00a0b") == "a b"


root_paths = st.text(alphabet=st.sampled_from("/ab.;?#=&%\\\t é"), max_size=16).map(
    lambda tail: "/" + tail
)


@given(root_paths, st.sampled_from(["https://show.example/", "http://Show.example:8080/a/b?x=1"]))
@example("/a;", "https://show.example/")
@example("/a?", "https://show.example/")
@example("/./a", "https://show.example/")
def test_root_relative_links_resolve_as_urljoin_resolves_them(path: str, base: str) -> None:
    """Links from the root skip urljoin when it would copy them as they are."""
    expected = sanitize.clean_url(
        urljoin(
            base,
            sanitize._URL_STRIPPED_INSIDE.sub("", path)
            .strip(sanitize._URL_EDGE_JUNK)
            .replace(" ", "%20"),
        )
    )
    assert sanitize.clean_url(path, base) == expected
