"""Show notes, links, summaries and plain-text fields."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from devcasts.ingest.sanitize import (
    ELLIPSIS,
    LINK_REL,
    clean_text,
    clean_url,
    html_to_text,
    notes_summary,
    notes_to_html,
    sanitize_html,
    summarize,
)
from devcasts.util.text import LONG_NOTES_CHARS, is_long_notes

DATA = Path(__file__).parent / "data" / "sanitize"
REL = f'rel="{LINK_REL}"'
PRIVATE = ' loading="lazy" decoding="async" referrerpolicy="no-referrer"'  # on every image


# --- clean_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://example.com/a", None, "https://example.com/a"),
        ("  https://example.com/a\n", None, "https://example.com/a"),
        ("HTTPS://Example.com/A", None, "https://Example.com/A"),
        ("https://ex.com/p?utm_source=rss&utm_medium=feed", None, "https://ex.com/p"),
        ("https://ex.com/p?b=2&utm_campaign=x&a=1#t=30", None, "https://ex.com/p?b=2&a=1#t=30"),
        ("https://ex.com/p?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&igshid=5", None, "https://ex.com/p"),
        ("https://ex.com/p?_hsenc=a&_hsmi=b&msclkid=c&dclid=d&yclid=e", None, "https://ex.com/p"),
        ("https://ex.com/p?UTM_Source=x&ref_src=twsrc", None, "https://ex.com/p"),
        ("https://ex.com/p?z=1&&y=2", None, "https://ex.com/p?z=1&y=2"),
        ("https://ex.com/p?ref=home", None, "https://ex.com/p"),
        ("https://ex.com/dp/B0?ref_=nav&th=1", None, "https://ex.com/dp/B0?th=1"),
        ("https://ex.com/p?smid=tw-share&page=2", None, "https://ex.com/p?page=2"),
        ("https://ex.com/p?referrer=1&refresh=0", None, "https://ex.com/p?referrer=1&refresh=0"),
        ("https://ex.com/p?utmost=1", None, "https://ex.com/p?utmost=1"),
        ("/episodes/12", "https://show.example/feed.xml", "https://show.example/episodes/12"),
        ("notes.html", "https://show.example/ep/", "https://show.example/ep/notes.html"),
        ("//cdn.example/i.png", None, "https://cdn.example/i.png"),
        ("//cdn.example/i.png", "http://show.example/", "http://cdn.example/i.png"),
        ("/episodes/12", None, None),
        ("javascript:alert(1)", None, None),
        ("java\nscript:alert(1)", "https://show.example/", None),
        ("\u00a0javascript:alert(1)", "https://show.example/", None),
        ("data:text/html,hi", None, None),
        ("vbscript:msgbox", None, None),
        ("mailto:host@example.com", None, None),
        ("ftp://example.com/file", None, None),
        ("http:example.com", None, None),
        ("https://", None, None),
        ("https://[::1", None, None),
        ("https://ex.com:99999/", None, None),
        ("https://ex.com/a b", None, "https://ex.com/a%20b"),
        ("https://ex.com/\x00x", None, None),
        ("", None, None),
    ],
)
def test_clean_url(url: str, base: str | None, expected: str | None) -> None:
    assert clean_url(url, base) == expected


def test_clean_url_keeps_other_parameters_byte_for_byte() -> None:
    url = "https://ex.com/search?q=a%2Bb&Z=%7e&utm_term=x&sort=desc&q=again"
    assert clean_url(url) == "https://ex.com/search?q=a%2Bb&Z=%7e&sort=desc&q=again"


urls = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, path, query: f"{scheme}://{host}/{path}?{query}",
        st.sampled_from(["http", "https", "HTTP", "javascript", "data", "ftp", ""]),
        st.from_regex(r"[a-z0-9.-]{0,12}", fullmatch=True),
        st.text(max_size=20),
        st.lists(
            st.sampled_from(["utm_source=x", "a=1", "fbclid=z", "b", "", "gclid", "q=%20"]),
            max_size=5,
        ).map("&".join),
    ),
)
bases = st.one_of(st.none(), st.sampled_from(["https://show.example/ep/", "http://a.b/c?d=1"]))


@given(urls, bases)
@example("HTTP://\xa0?", None)  # a host of white space only, once the empty query is gone
@example("HTTP://0\xa0?", None)  # white space left at the end once the empty query is gone
def test_clean_url_is_idempotent_and_only_web(url: str, base: str | None) -> None:
    cleaned = clean_url(url, base)
    if cleaned is None:
        return
    assert cleaned.startswith(("http://", "https://"))
    query = cleaned.split("#")[0].partition("?")[2]
    names = [unquote(pair.split("=")[0]).strip().lower() for pair in query.split("&")]
    assert not any(name.startswith("utm_") for name in names)  # "0utm_" is not tracking
    assert clean_url(cleaned) == cleaned
    assert clean_url(cleaned, base) == cleaned


# --- sanitize_html --------------------------------------------------------------------------


def test_sanitize_keeps_the_show_notes_allowlist() -> None:
    html = (
        "<h2>Links</h2><p>A <strong>bold</strong> <em>claim</em>, <b>b</b> <i>i</i> "
        "<code>x</code></p><ul><li>one</li></ul><ol><li>two</li></ol>"
        "<blockquote>quote</blockquote><pre>pre</pre><h3>h3</h3><h4>h4</h4><br>"
    )
    assert sanitize_html(html) == html


def test_sanitize_removes_dangerous_elements_with_their_content() -> None:
    html = (
        "<p>keep</p><script>alert(1)</script><style>p{}</style><svg><text>s</text></svg>"
        "<math><mi>m</mi></math><form><label>f</label></form><noscript>n</noscript>"
        "<textarea>t</textarea><iframe src='https://x.example'>i</iframe>"
        "<object>o</object><embed src='https://x.example/e'>"
    )
    assert sanitize_html(html) == "<p>keep</p>"


def test_sanitize_links() -> None:
    html = (
        '<a href="/ep/1?utm_source=feed&amp;t=1" target="_blank" onclick="x()">ep</a>'
        '<a href="javascript:alert(1)">js</a><a href="mailto:hi@show.example">mail</a>'
        '<a href="ftp://files.example/x">ftp</a>'
    )
    assert sanitize_html(html, "https://show.example/") == (
        f'<a href="https://show.example/ep/1?t=1" {REL}>ep</a>js'
        f'<a href="mailto:hi@show.example" {REL}>mail</a>ftp'
    )


def test_sanitize_drops_unresolvable_relative_links() -> None:
    assert sanitize_html('<a href="/ep/1">ep</a>') == "ep"
    assert sanitize_html('<a title="t" href="#x">see <b>this</b></a>') == "see <b>this</b>"


def test_sanitize_images_need_a_web_source() -> None:
    html = (
        '<img src="cover.png" alt="Cover" width="160" onerror="x()">'
        '<img src="data:image/png;base64,AAAA" alt="pixel"><img src="mailto:a@b.c">'
    )
    assert sanitize_html(html, "https://cdn.example/show/") == (
        f'<img src="https://cdn.example/show/cover.png" alt="Cover" width="160"{PRIVATE}>'
    )


def test_sanitize_demotes_headings() -> None:
    assert sanitize_html("<h1>Big</h1><h5>small</h5><h6>tiny</h6>") == (
        "<h2>Big</h2><h4>small</h4><h4>tiny</h4>"
    )


def test_sanitize_drops_newlines_that_open_a_pre_block() -> None:
    assert sanitize_html("<pre>\n\n  indented\n</pre>") == "<pre>  indented\n</pre>"


def test_sanitize_is_stable_when_a_dropped_link_leaves_nested_headings() -> None:
    html = "<h1><a href='/no-base'><h1>inner</h1></a></h1>"
    once = sanitize_html(html)
    assert once == "<h2></h2><h2>inner</h2>"
    assert sanitize_html(once) == once


def test_sanitize_strips_attributes_and_comments() -> None:
    html = '<p class="x" style="color:red" id="y">text<!-- hidden --></p>'
    assert sanitize_html(html) == "<p>text</p>"


html_fragments = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [
                "<p>", "</p>", "<h1>", "</h1>", "<h6>", "<a href='/x?utm_source=1'>", "</a>",
                "<img src='y.png' alt='a>b'>", "<script>", "</script>", "<svg>", "<b>", "</i>",
                "<!--", "-->", "&amp;", "&lt;", "<br/>", "<ul><li>", "<pre>", "\n\n", "<a href=",
                "<img src=data:x>", "<style>", "<pre>\n", "<math>", "<h5 class=x>", "<a href='mailto:x@y.z'>",
            ]
        ),
    ),
    max_size=12,
).map("".join)  # fmt: skip


@given(html_fragments, bases)
@settings(max_examples=150)
# A pre's text that starts with newlines (an image dropped before them, a list turned into
# lines, blank lines as written) read back without the first one.
@example("<PRE><P><img src='y.png' alt='a>b'>", None)
@example("<PRE><UL><LI><img src='y.png' alt='a>b'>", None)
@example("<pre>\n\nfoo</pre>", None)
def test_sanitize_output_sanitizes_to_itself(html: str, base: str | None) -> None:
    once = sanitize_html(html, base)
    assert sanitize_html(once, base) == once
    assert sanitize_html(once) == once
    assert "<script" not in once and "<h1" not in once and "<h6" not in once


show_notes_fragments = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            [
                "<pre>", "</pre>", "<code>", "</code>", "<h1>", "</h1>", "<h3>", "</h3>", "<p>",
                "</p>", "<ul><li>", "</li></ul>", "<blockquote>", "<img src='https://i.example/a.png'>",
                "<img alt='Cover' src='https://i.example/b.png'>", "<a href='mailto:ada@example.org'>",
                "<a href='mailto:Ada Lovelace <ada@example.org>'>", "<a href='mailto:write to us'>",
                "<a href='mailto:ada@example.org?subject=Hi%20there'>", "</a>", "\n",
            ]
        ),
    ),
    max_size=12,
).map("".join)  # fmt: skip


@given(show_notes_fragments)
@example("<H2><a href='mailto:a@example.org'><H2><a href='mailto:a@example.org?subject=Hi'>")
@settings(max_examples=200)
def test_show_notes_markup_is_valid_html(html: str) -> None:
    """Images carry alt, mail links carry one address or more, <pre> holds no block."""
    once = sanitize_html(html)
    assert sanitize_html(once) == once
    images = re.findall(r"<img\b[^>]*>", once)
    assert all(re.search(r'\salt="', re.sub(r'="[^"]*"', '=""', tag)) for tag in images)
    for href in re.findall(r'href="mailto:([^"]*)"', once):
        assert "@" in href and " " not in href and "<" not in href and "&lt;" not in href
    for block in re.findall(r"<pre>(.*?)</pre>", once, re.DOTALL):
        assert not re.search(r"<(?:h[1-6]|p|ul|ol|li|blockquote)>", block)
    assert "<h1" not in once


def test_attribute_values_that_look_like_attributes_fool_nothing() -> None:
    assert sanitize_html('<img src="https://i.example/a.png" title="x alt=y">') == (
        f'<img src="https://i.example/a.png" alt="" title="x alt=y"{PRIVATE}>'
    )
    assert sanitize_html('<p>a<img title="a src=b">z</p>') == "<p>az</p>"
    assert sanitize_html('<p><a title="see href=x">text</a></p>') == "<p>text</p>"


def test_an_image_without_alt_gets_an_empty_one() -> None:
    assert sanitize_html('<img src="https://i.example/a.png">') == (
        f'<img src="https://i.example/a.png" alt=""{PRIVATE}>'
    )
    kept = f'<img src="https://i.example/a.png" alt="Our cover"{PRIVATE}>'
    assert sanitize_html(kept) == kept


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("mailto:ada@example.org", True),
        ("MAILTO:ada@example.org,grace@example.net", True),
        ("mailto:ada@example.org?subject=Hi%20there", True),
        ("mailto:ada lovelace@example.org", False),
        ("mailto:Ada Lovelace <ada@example.org>", False),
        ("mailto:Ada%20L%20%3Cada@example.org%3E", False),
        ("mailto:send us a note", False),
        ("mailto:", False),
        ("mailto:ada@localhost", False),
        ("mailto:ada@example.org?subject=two words", False),
    ],
)
def test_mail_links_with_invalid_addresses_become_text(href: str, kept: bool) -> None:
    html = sanitize_html(f'<p>Write <a href="{href}">to us</a>.</p>')
    if kept:
        assert f'href="mailto:{href.split(":", 1)[1]}"' in html
    else:
        assert html == "<p>Write to us.</p>"


def test_headings_and_blocks_inside_pre_become_lines_of_text() -> None:
    html = "<pre><h2>Setup</h2>pip install show\n<p>run it</p></pre>"
    assert sanitize_html(html) == "<pre>Setup\npip install show\nrun it\n</pre>"
    code = "<pre><code><h1>main.py</h1>print(1)</code></pre>"
    assert sanitize_html(code) == "<pre><code>main.py\nprint(1)</code></pre>"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<pre>Show notes:<h3>Links</h3>more</pre>", "<pre>Show notes:\nLinks\nmore</pre>"),
        ("<pre>intro<p>para</p></pre>", "<pre>intro\npara\n</pre>"),
        ("<pre><b>intro</b><p>para</p></pre>", "<pre><b>intro</b>\npara\n</pre>"),
        # already on a line of its own: no blank line is added
        ("<pre>intro\n<p>para</p></pre>", "<pre>intro\npara\n</pre>"),
        ("<pre>intro\n  <p>para</p></pre>", "<pre>intro\n  para\n</pre>"),
        ("<pre><p>one</p><p>two</p></pre>", "<pre>one\ntwo\n</pre>"),
        ("<pre> <code><h3>main.py</h3></code></pre>", "<pre> <code>main.py\n</code></pre>"),
    ],
)
def test_text_before_a_block_inside_pre_stays_on_its_own_line(html: str, expected: str) -> None:
    assert sanitize_html(html) == expected
    assert sanitize_html(expected) == expected


def test_a_top_level_heading_in_notes_is_demoted() -> None:
    assert sanitize_html("<h1>Episode 12</h1><p>x</p>") == "<h2>Episode 12</h2><p>x</p>"


# --- notes_to_html --------------------------------------------------------------------------


def test_plain_text_notes_become_paragraphs_with_links() -> None:
    raw = (
        "We talk about deploys.\nMore at https://show.example/ep?utm_source=x&id=4.\n\n"
        "Second paragraph (see https://en.wikipedia.org/wiki/Heroku_(platform)) & more < less"
    )
    assert notes_to_html(raw, None) == (
        "<p>We talk about deploys.<br>More at "
        f'<a href="https://show.example/ep?id=4" {REL}>https://show.example/ep?utm_source=x&amp;id=4</a>.'
        "</p><p>Second paragraph (see "
        f'<a href="https://en.wikipedia.org/wiki/Heroku_(platform)" {REL}>'
        "https://en.wikipedia.org/wiki/Heroku_(platform)</a>) &amp; more &lt; less</p>"
    )


def test_plain_text_with_angle_brackets_stays_text() -> None:
    assert notes_to_html("Vec<String> and Option<T>", None) == (
        "<p>Vec&lt;String&gt; and Option&lt;T&gt;</p>"
    )


def test_plain_text_entities_are_decoded_once() -> None:
    assert notes_to_html("Q&amp;A with R&D", None) == "<p>Q&amp;A with R&amp;D</p>"


def test_inline_html_with_line_breaks_gets_paragraphs() -> None:
    raw = 'Guest: <a href="https://guest.example">Ada</a>\nSponsor: www.sponsor.example\n\nThanks!'
    assert notes_to_html(raw, None) == (
        f'<p>Guest: <a href="https://guest.example" {REL}>Ada</a><br>Sponsor: '
        f'<a href="https://www.sponsor.example" {REL}>www.sponsor.example</a></p><p>Thanks!</p>'
    )


def test_block_html_keeps_its_structure_and_links_bare_urls() -> None:
    raw = (
        "<p>Links:</p>\n<ul>\n<li>https://docs.example/a</li>\n"
        "<li><a href='https://b.example'>https://b.example</a></li>\n</ul>\n<pre>https://c.example</pre>"
    )
    assert notes_to_html(raw, None) == (
        "<p>Links:</p>\n<ul>\n"
        f'<li><a href="https://docs.example/a" {REL}>https://docs.example/a</a></li>\n'
        f'<li><a href="https://b.example" {REL}>https://b.example</a></li>\n</ul>\n'
        "<pre>https://c.example</pre>"
    )


def test_notes_relative_links_resolve_against_the_episode() -> None:
    html = notes_to_html('<p><a href="../transcript">Transcript</a></p>', "https://s.example/ep/7/")
    assert html == f'<p><a href="https://s.example/ep/transcript" {REL}>Transcript</a></p>'


def test_empty_notes() -> None:
    assert notes_to_html("  \n ", None) == ""


@given(html_fragments, bases)
@settings(max_examples=200)
def test_notes_output_is_sanitized(raw: str, base: str | None) -> None:
    html = notes_to_html(raw, base)
    assert sanitize_html(html, base) == html


NOTES = DATA / "notes"
BASE = "https://show.example/episodes/42/"


@pytest.mark.parametrize("source", sorted(NOTES.glob("*.in.*")), ids=lambda p: p.name)
def test_notes_match_their_expected_output(source: Path) -> None:
    expected = (NOTES / (source.name.split(".in.")[0] + ".out.html")).read_text("utf-8")
    html = notes_to_html(source.read_text("utf-8"), BASE)
    assert html == expected.rstrip("\n")
    assert sanitize_html(html, BASE) == html


def test_table_cells_stay_apart() -> None:
    html = "<table><tr><td>Guest</td><td>Ada</td></tr><tr><th>Host</th><td>Tom</td></tr></table>"
    assert html_to_text(notes_to_html(html, None)) == "Guest Ada\nHost Tom"


def test_blank_lines_left_by_removed_elements_collapse_outside_pre() -> None:
    html = "<p>a</p>\n<script>x</script>\n\n<p>b</p><pre>1\n\n\n2</pre>"
    assert notes_to_html(html, None) == "<p>a</p>\n<p>b</p><pre>1\n\n\n2</pre>"


# --- html_to_text ---------------------------------------------------------------------------


def test_html_to_text_breaks_blocks_and_decodes_entities() -> None:
    html = (
        "<h2>Show   notes</h2><p>Tom &amp; Jerry&nbsp;&#8212; live</p><ul><li>one</li>"
        "<li>two<br>three</li></ul><script>hidden()</script><style>p{}</style>"
        "<!-- note -->tail &lt;b&gt;"
    )
    assert html_to_text(html) == "Show notes\nTom & Jerry — live\none\ntwo\nthree\ntail <b>"


def test_html_to_text_of_plain_text_tidies_whitespace() -> None:
    assert html_to_text("  a   b \n\n\n c ") == "a b\nc"


def test_html_to_text_is_fast() -> None:
    notes = (DATA / "long_notes.html").read_text("utf-8")
    sample = notes[:1500]
    started = time.process_time()  # CPU time: other processes on a busy machine do not count
    for _ in range(2000):
        html_to_text(sample)
    per_call = (time.process_time() - started) / 2000
    assert per_call < 0.001  # about 0.025 ms


# --- summarize ------------------------------------------------------------------------------


def test_summary_of_short_text_is_the_text_on_one_line() -> None:
    assert summarize("  Hello\n world.  ") == "Hello world."


def test_summary_cuts_after_a_sentence_near_the_end() -> None:
    text = "First sentence is here. " + "Second one runs on for a while. " * 3 + "Last words."
    assert summarize(text, 100) == (
        "First sentence is here. Second one runs on for a while. Second one runs on for a while."
    )


def test_summary_cuts_at_a_word_with_an_ellipsis() -> None:
    text = "word " * 40
    assert summarize(text, 32) == "word word word word word word" + ELLIPSIS


def test_summary_never_cuts_a_long_word_short_of_the_limit() -> None:
    assert summarize("a " + "x" * 50, 20) == "a " + "x" * 17 + ELLIPSIS


@given(st.text(max_size=600), st.integers(min_value=1, max_value=400))
def test_summary_is_bounded_one_line_and_from_the_text(text: str, limit: int) -> None:
    summary = summarize(text, limit)
    assert len(summary) <= limit
    assert "\n" not in summary
    flat = " ".join(text.split())
    body = summary.removesuffix(ELLIPSIS).rstrip()
    assert flat.startswith(body)


# --- long notes -----------------------------------------------------------------------------


def test_long_notes_threshold() -> None:
    assert not is_long_notes("x" * LONG_NOTES_CHARS)
    assert is_long_notes("x" * (LONG_NOTES_CHARS + 1))


def test_a_pasted_transcript_is_long() -> None:
    text = html_to_text((DATA / "long_notes.html").read_text("utf-8"))
    assert is_long_notes(text)


def test_summary_of_long_notes_is_their_lead() -> None:
    text = html_to_text((DATA / "long_notes.html").read_text("utf-8"))
    assert notes_summary(text) == (
        "Episode 88: Leaving the old platform "
        "Mara and Teo look back at a year of moving small services around."
    )


def test_summary_of_long_notes_stops_at_repeated_speaker_labels() -> None:
    turns = "\n".join(f"Ada: turn {n} " + "talk " * 40 for n in range(100))
    text = "Links: https://show.example\nGuest: Ada\n" + turns
    assert is_long_notes(text)
    assert notes_summary(text) == "Links: https://show.example Guest: Ada"


def test_summary_of_a_bare_transcript_is_empty() -> None:
    text = "Transcript\n" + "Ada: words words words.\n" * 1000
    assert notes_summary(text) == ""


def test_summary_of_short_notes_is_the_plain_summary() -> None:
    assert notes_summary("Ada: hello. " * 3, 20) == summarize("Ada: hello. " * 3, 20)


def test_summary_leaves_out_chapter_lines() -> None:
    text = "Two teams compare hosts.\nChapters:\n00:00 Intro\n(12:30) Costs\nThanks for listening!"
    assert notes_summary(text) == "Two teams compare hosts. Thanks for listening!"


def test_summary_of_chapter_lines_only_keeps_them() -> None:
    assert notes_summary("00:00 Intro\n12:30 Costs") == "00:00 Intro 12:30 Costs"


# --- hostile input stays linear -------------------------------------------------------------

HOSTILE = [
    "<script>" * 5000, "<style>a" * 5000, "<!--" * 10000, "<a b" * 10000, "<a href=" * 10000,
    "&amp;" * 20000, "http://x" * 10000, "<p>" * 10000, "<scrip" * 10000, "<a " + "b " * 20000,
    "&amp;lt;script&amp;gt;" * 3000, "<b>x" * 10000, "((((" * 10000, "1:00 " * 10000,
]  # fmt: skip


@pytest.mark.parametrize("payload", HOSTILE, ids=lambda p: repr(p[:8]))
def test_hostile_input_is_handled_quickly(payload: str) -> None:
    started = time.process_time()  # CPU time: other processes on a busy machine do not count
    html_to_text(payload)
    clean_text(payload)
    summarize(payload)
    html_to_text(notes_to_html(payload, "https://show.example/"))
    assert time.process_time() - started < 1.5  # 0.05 s at most; quadratic work takes minutes


# --- clean_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Episode   12:\tDeploys  ", "Episode 12: Deploys"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("&lt;b&gt;Bold&lt;/b&gt; move", "Bold move"),
        ("<b>Bold</b> <i>move</i>", "Bold move"),
        ("H<b>e</b>llo", "Hello"),
        ("Line<br>break", "Line break"),
        ("Vec<String> in Rust", "Vec<String> in Rust"),
        ("I <3 deploys", "I <3 deploys"),
        ("<script>alert(1)</script>Title", "Title"),
        ("Bell\x07 and \x1b[31mred", "Bell and [31mred"),
        ("evil\u202eexe.mp3", "evilexe.mp3"),
        ("caf\u0065\u0301", "caf\u00e9"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ('<img src=x onerror="alert(1)">Safe', "Safe"),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_clean_text_is_bounded_at_a_word() -> None:
    assert clean_text("alpha beta gamma delta", 14) == "alpha beta" + ELLIPSIS


@given(st.text(max_size=300), st.integers(min_value=1, max_value=200))
def test_clean_text_is_bounded_single_line_and_stable(raw: str, limit: int) -> None:
    text = clean_text(raw, limit)
    assert len(text) <= limit
    assert "\n" not in text and "\x00" not in text
    text.encode("utf-8")  # no lone surrogates
    if not text.endswith(ELLIPSIS):
        assert clean_text(text, limit) == text or "&" in text
