"""Transcripts pasted into show notes: found strictly, cut out, shown folded and published.

The notes copy the shapes real feeds use ("Name [00:00:00]:", "[00:00:01] Full Name:",
"NAME: ..."), written for invented shows.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import build_catalog
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.archive.files import load_archive, save_archive
from devcasts.archive.state import ArchiveState, PodcastArchive
from devcasts.ingest.inline_transcript import MIN_TURNS, cut_transcript, find_turn
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.ingest.sanitize import html_to_text, notes_to_html
from devcasts.model import Config, FeedSource
from devcasts.publish.feeds import feed_documents
from devcasts.records import Catalog, Episode, Podcast, TranscriptTurn
from devcasts.site import urls
from devcasts.site.content_pages import load_content_pages
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter

PODCAST = "{https://podcastindex.org/namespace/1.0}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
NOW = datetime(2026, 7, 2, tzinfo=UTC)
LINES = (
    "thanks for having me, it is good to be back on the show after so long",
    "so tell us what you have been building since we last talked about it",
    "mostly a compiler for a tiny language that runs on old calculators",
    "that sounds wonderful and slightly unhinged, why calculators of all things",
    "because the keyboards are great and nobody else is doing it right now",
    "fair enough, let us start with the parser then and work our way down",
    "the parser was the easy part, the register allocator took three months",
    "we will put the repository in the notes for everyone who wants to look",
)


def _turns(shape: str, count: int = 8) -> str:
    speakers = ("Mira", "Jonas Feld")
    parts = []
    for index in range(count):
        name, stamp = speakers[index % 2], f"00:{index:02d}:{index * 7 % 60:02d}"
        line = LINES[index % len(LINES)]
        if shape == "name-stamp":
            parts.append(f"<p>{name} [{stamp}]: {line}</p>")
        elif shape == "stamp-name":
            parts.append(f"<p>[{stamp}] {name}: {line}</p>")
        else:
            parts.append(f"<p>{name.split()[0].upper()}: {line}</p>")
    return "".join(parts)


LEAD = "<p>Mira talks to Jonas about compilers for calculators.</p><ul><li>Links</li></ul>"


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["name-stamp", "stamp-name", "upper"])
def test_each_turn_shape_is_cut_out_and_the_lead_kept(shape: str) -> None:
    notes, turns = cut_transcript(notes_to_html(LEAD + "<h3>Transcript</h3>" + _turns(shape), None))
    assert (
        notes
        == "<p>Mira talks to Jonas about compilers for calculators.</p><ul><li>Links</li></ul>"
    )
    assert len(turns) == 8
    assert turns[0].text == LINES[0]
    assert {turn.speaker for turn in turns} in ({"Mira", "Jonas Feld"}, {"MIRA", "JONAS"})
    if shape != "upper":
        assert [turn.start for turn in turns[:3]] == [0.0, 67.0, 134.0]
    else:
        assert all(turn.start is None for turn in turns)


def test_the_turn_shapes() -> None:
    assert find_turn("Alessandro [00:01:02]: hello there") is not None
    assert find_turn("(1:02) Ana Lima: hello there") is not None
    assert find_turn("RÉMY: Ceci est le début") is not None
    assert find_turn("Links: https://example.org") is None
    assert find_turn("Host: Ada") is None  # a note label, not a speaker
    assert find_turn("(07:48) sourcectl: monitoring") is None  # lowercase label


def test_paragraphs_run_on_with_their_turn_and_what_follows_the_transcript_stays() -> None:
    body = _turns("name-stamp").replace(
        f"{LINES[1]}</p>", f"{LINES[1]}</p><p>and a second paragraph of that same answer</p>"
    )
    tail = "<h3>Links</h3>" + "".join(f"<p>link {n}</p>" for n in range(6))
    notes, turns = cut_transcript(notes_to_html(LEAD + body + tail, None))
    assert turns[1].text.endswith("and a second paragraph of that same answer")
    assert "Links" in notes and "link 5" in notes
    assert "register allocator" not in notes


def test_two_host_lines_are_not_a_transcript() -> None:
    notes = notes_to_html(
        "<p>Host: Ada Example</p><p>Host: Bo Example</p><p>Guest: Cy</p><p>We talk.</p>", None
    )
    assert cut_transcript(notes) == (notes, ())


def test_too_few_turns_are_not_a_transcript() -> None:
    notes = notes_to_html(LEAD + _turns("name-stamp", MIN_TURNS - 1), None)
    assert cut_transcript(notes) == (notes, ())


def test_chapters_with_label_prefixes_are_not_a_transcript() -> None:
    chapters = "".join(
        f"<p>({n:02d}:00) {label}: {title}</p>"
        for n, (label, title) in enumerate(
            [("SOLID", "the S"), ("SOLID", "the O"), ("DORA Metrik", "Lead Time"),
             ("SOLID", "the L"), ("DORA Metrik", "MTTR"), ("SOLID", "the I"),
             ("DORA Metrik", "Deploys"), ("SOLID", "the D")]
        )
    )  # fmt: skip
    notes = notes_to_html(LEAD + chapters, None)
    assert cut_transcript(notes) == (notes, ())


def test_a_link_list_with_source_labels_is_not_a_transcript() -> None:
    links = "".join(
        f"<p>{label}: {topic}</p>"
        for label, topic in [("WP", "Synthesizer"), ("WP", "Moog"), ("IMDB", "Tron")] * 4
    )
    notes = notes_to_html(LEAD + links, None)
    assert cut_transcript(notes) == (notes, ())


def test_one_speaker_alone_is_not_a_transcript() -> None:
    monologue = "".join(f"<p>NARRATOR: {line}</p>" for line in LINES)
    notes = notes_to_html(LEAD + monologue, None)
    assert cut_transcript(notes) == (notes, ())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=12))
def test_notes_without_turns_are_left_alone_and_a_cut_is_final(paragraphs: list[str]) -> None:
    notes = notes_to_html("\n\n".join(paragraphs), None)
    kept, turns = cut_transcript(notes)
    if not turns:
        assert kept == notes
    assert cut_transcript(kept) == (kept, ())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40).filter(lambda s: ":" not in s), max_size=5))
def test_the_lead_before_a_transcript_is_kept_word_for_word(lead: list[str]) -> None:
    lead_html = notes_to_html("\n\n".join(lead), None)
    kept, turns = cut_transcript(notes_to_html(lead_html + _turns("stamp-name"), None))
    assert len(turns) == 8
    assert html_to_text(kept) == html_to_text(lead_html)


# --- normalize ------------------------------------------------------------------------------

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Tiny Compilers</title><link>https://tiny.example/</link>
<item><title>Calculators</title><guid>tc-1</guid>
<pubDate>Mon, 02 Jun 2025 10:00:00 +0000</pubDate>
<description>Mira talks to Jonas about compilers for calculators.</description>
<content:encoded><![CDATA[{notes}]]></content:encoded>
<enclosure url="https://cdn.tiny.example/1.mp3" type="audio/mpeg" length="1"/>
</item></channel></rss>"""


def normalized_episode() -> Episode:
    body = FEED.format(notes=LEAD + "<p>Full transcript:</p>" + _turns("name-stamp"))
    source = FeedSource(url="https://tiny.example/rss", slug="tiny-compilers")
    parsed = parse_feed(body.encode(), {}, source.url)
    return normalize_feed(source, parsed, (), NOW, source.url).episodes[0]


def test_normalize_cuts_the_transcript_and_search_keeps_its_words() -> None:
    episode = normalized_episode()
    assert len(episode.transcript_turns) == 8
    assert "register allocator" not in episode.notes_html
    assert "Full transcript" not in episode.notes_html
    assert "register allocator" in episode.text
    assert episode.summary == "Mira talks to Jonas about compilers for calculators. Links"
    assert episode.chapters == ()  # turn times are not chapters


def test_the_turns_are_archived_and_read_back(tmp_path: Path) -> None:
    episode = dataclasses.replace(normalized_episode(), slug="calculators")
    podcast = Podcast(slug="tiny-compilers", title="Tiny Compilers", feed_url="https://t.example")
    record = PodcastArchive(podcast=podcast, episodes=(episode,))
    save_archive(tmp_path, ArchiveState((record,)))
    back = load_archive(tmp_path).podcasts[0].episodes[0]
    assert back.transcript_turns == episode.transcript_turns


# --- the page, the transcript file, our feeds ------------------------------------------------

TURNS = (
    TranscriptTurn("Mira", "Welcome <back> & hello", 0.0),
    TranscriptTurn("Jonas Feld", "Thanks, glad to be here", 65.5),
    TranscriptTurn("Mira", "No time given here", None),
)


def catalog_with_transcript() -> tuple[Catalog, Episode]:
    catalog = build_catalog()
    first = dataclasses.replace(
        catalog.episodes[0],
        notes_html="<p>The notes before the transcript.</p>",
        transcript_turns=TURNS,
    )
    return dataclasses.replace(catalog, episodes=(first, *catalog.episodes[1:])), first


def test_the_page_folds_the_transcript_with_seek_links_and_writes_the_file(
    tmp_path: Path, sample_config: Config
) -> None:
    catalog, episode = catalog_with_transcript()
    writer = SiteWriter(tmp_path / "site")
    render_site(catalog, sample_config, writer, load_content_pages(sample_config.content_dir, ""))
    writer.finish()
    page = (tmp_path / "site" / urls.episode(episode) / "index.html").read_text()
    fold = page[
        page.index('<details class="transcript">') : page.index(
            "</details>", page.index('<details class="transcript">')
        )
    ]
    assert f'href="{episode.enclosure.url}#t=65"' in fold  # type: ignore[union-attr]
    assert 'data-start="65.5"' in fold
    assert "Welcome &lt;back&gt; &amp; hello" in fold
    assert "transcript.html" in fold
    document = (tmp_path / "site" / urls.transcript(episode)).read_text()
    assert "<cite>Jonas Feld:</cite>" in document and "<time>1:05</time>" in document
    assert "Welcome &lt;back&gt; &amp; hello" in document


def test_our_feeds_point_at_the_transcript_and_keep_it_out_of_the_notes() -> None:
    catalog, episode = catalog_with_transcript()
    documents = dict(feed_documents(catalog))
    root = ET.fromstring(documents[urls.feed()])
    item = next(i for i in root.iter("item") if i.findtext("guid", "").endswith(episode.id))
    transcripts = [t.attrib for t in item.iter(f"{PODCAST}transcript")]
    expected = urls.absolute(catalog.site.base_url, urls.transcript(episode))
    assert {"url": expected, "type": "text/html"} in transcripts
    assert "The notes before the transcript." in item.findtext("description", "")
    for text in (item.findtext("description", ""), item.findtext(f"{CONTENT}encoded", "")):
        assert "glad to be here" not in text
    feed = json.loads(documents[urls.json_feed()])
    entry = next(e for e in feed["items"] if "The notes before" in e.get("content_html", ""))
    assert "glad to be here" not in entry["content_html"]


# --- the quick first look ---------------------------------------------------------------------

_NAMES = st.sampled_from(
    ["Ada", "Ada Lovelace", "RÉMY", "Jean-Luc Picard", "O'Brien", "Li Wei Zhang"]
)
_STAMPS = st.sampled_from(["00:00:00", "1:02", "12:30", "01:02:03.5"])
_TAGS = st.sampled_from(["", "b", "strong", "em", "i", "span"])


def _wrapped(text: str, tag: str) -> str:
    return f"<{tag}>{text}</{tag}>" if tag else text


@given(_NAMES, _STAMPS, _TAGS, _TAGS, st.sampled_from(["name-stamp", "stamp-name", "name"]))
def test_the_first_look_never_misses_a_line_find_turn_accepts(
    name: str, stamp: str, name_tag: str, stamp_tag: str, shape: str
) -> None:
    """cut_transcript skips notes with fewer than MIN_TURNS lines where a turn may start:
    every line that find_turn reads as a turn, inline markup and all, must be such a line."""
    from devcasts.ingest.inline_transcript import _TURN_LINE

    spoken = "we moved the whole build to a new runner last week"
    line = {
        "name-stamp": f"{_wrapped(name, name_tag)} {_wrapped('[' + stamp + ']', stamp_tag)}: {spoken}",
        "stamp-name": f"{_wrapped('[' + stamp + ']', stamp_tag)} {_wrapped(name + ':', name_tag)} {spoken}",
        "name": f"{_wrapped(name + ':', name_tag)} {spoken}",
    }[shape]
    html = notes_to_html(f"<p>Lead paragraph.</p><p>{line}</p>", None)
    text = html_to_text(html)
    if find_turn(" ".join(text.split()[2:])) is not None:
        assert len(_TURN_LINE.findall(text)) >= 1, text
