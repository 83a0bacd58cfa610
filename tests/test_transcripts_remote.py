"""Transcript files that feeds link to (podcast:transcript): which one an episode prefers,
fetched from a real HTTP server on 127.0.0.1, kept in the archive, shown folded on the
episode page within the site's budget, and found by both searches."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_chapters_remote import Route, _Handler, _Server, served_file, server
from test_chapters_remote import run_build as build_linked

from devcasts.archive.files import load_archive
from devcasts.archive.linked_chapters import RECENT
from devcasts.archive.linked_transcripts import preferred_transcript, wanted
from devcasts.archive.state import ArchiveState, PodcastArchive
from devcasts.catalog.linked_transcripts import (
    transcript_bytes,
    with_linked_transcript,
    within_budget,
)
from devcasts.model import Config
from devcasts.pipeline import BuildReport
from devcasts.records import Catalog, Episode, Podcast, Transcript, TranscriptTurn
from devcasts.search.searcher import SearchRequest, search
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter

__all__ = ["server"]  # the fixture: the file server of test_chapters_remote

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# --- which transcript, which files, which budget --------------------------------------------

VTT_EN = Transcript("https://cdn.example.net/7.vtt", "text/vtt", "en")
SRT_DE = Transcript("https://cdn.example.net/7.de.srt", "application/x-subrip", "de")
HTML_EN = Transcript("https://cdn.example.net/7.html", "text/html", "en-US")
CAPTIONS = Transcript("https://cdn.example.net/7.srt", "application/srt", None, "captions")
PDF = Transcript("https://cdn.example.net/7.pdf", "application/pdf", "en")


def episode(n: int, transcripts: tuple[Transcript, ...] = (VTT_EN,), **fields: object) -> Episode:
    values: dict[str, object] = {"first_seen": T0 - timedelta(days=n), "language": "en", **fields}
    return Episode(
        id=f"id{n}", podcast="show", guid=f"g{n}", title=f"Episode {n}",
        published=T0 - timedelta(days=n), transcripts=transcripts, **values,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_preferred_transcript() -> None:
    pick = preferred_transcript
    assert pick(episode(1, (SRT_DE, HTML_EN, VTT_EN)), "en") == VTT_EN  # language, then format
    assert pick(episode(1, (SRT_DE, HTML_EN)), "en") == HTML_EN
    assert pick(episode(1, (SRT_DE, HTML_EN), language="de"), "de") == SRT_DE
    assert pick(episode(1, (CAPTIONS, VTT_EN)), "en") == VTT_EN  # a transcript over captions
    assert pick(episode(1, (SRT_DE, CAPTIONS)), "en") == CAPTIONS  # no language: the episode's
    assert pick(episode(1, (SRT_DE,)), "en") == SRT_DE  # another language beats none
    assert pick(episode(1, (PDF,)), "en") is None  # a format the site does not read


def test_which_files_a_build_wants() -> None:
    read = (TranscriptTurn("Ada", "Hello", 0.0),)
    old = T0 - RECENT - timedelta(days=1)
    episodes = (
        episode(1),  # never read: wanted
        episode(2, linked_transcript=read, linked_transcript_url=VTT_EN.url),  # young: daily
        episode(3, linked_transcript=read, linked_transcript_url=VTT_EN.url, first_seen=old),
        episode(4, (HTML_EN, VTT_EN), linked_transcript=read, linked_transcript_url=HTML_EN.url,
                first_seen=old),  # a better transcript appeared: wanted
        episode(5, ()),
        episode(6, (PDF,)),
    )  # fmt: skip
    archive = ArchiveState((PodcastArchive(Podcast("show", "Show", "f.xml"), episodes),))
    files = wanted(archive, T0, "en")
    assert [(f.url, f.refresh_after, f.type) for f in files] == [
        (VTT_EN.url, timedelta(days=1), "text/vtt"),
        (VTT_EN.url, timedelta(days=1), "text/vtt"),
        (VTT_EN.url, timedelta(days=7), "text/vtt"),
    ]
    assert wanted(archive, T0, "en", {"another-show"}) == []


def test_turns_from_a_file_the_feed_no_longer_links_are_not_shown() -> None:
    read = (TranscriptTurn("Ada", "Hello", 0.0),)
    kept = episode(1, linked_transcript=read, linked_transcript_url=VTT_EN.url)
    assert with_linked_transcript(kept) == kept
    dropped = with_linked_transcript(episode(1, (HTML_EN,), linked_transcript=read,
                                             linked_transcript_url=VTT_EN.url))  # fmt: skip
    assert dropped.linked_transcript == () and dropped.linked_transcript_url is None


def test_the_budget_shows_the_newest_in_full() -> None:
    turns = (TranscriptTurn("Ada", "x" * 97, 0.0),)  # 100 bytes
    episodes = [
        episode(n, linked_transcript=turns, linked_transcript_url=VTT_EN.url) for n in range(6)
    ]
    episodes[2] = episode(2)  # no transcript read: costs nothing
    shown = within_budget(episodes, budget=350)
    assert [bool(e.linked_transcript) for e in shown] == [True, True, False, True, False, False]
    assert sum(map(transcript_bytes, shown)) == 300
    assert [e.id for e in shown] == [e.id for e in episodes]


# --- a server on 127.0.0.1 ------------------------------------------------------------------


def served(body: bytes, mime: str, etag: str = '"t1"') -> Route:
    return served_file(body, mime, etag)


# Files in the shapes hosting services serve: WebVTT with voices and cue settings, SubRip
# captions with comma decimals, a Podcasting 2.0 JSON transcript, an HTML transcript.
VTT = b"""WEBVTT

NOTE machine transcript, corrected by hand

1
00:00:00.000 --> 00:00:04.000 align:start position:0%
<v Ines Duarte>Welcome to Queue Theory, where we talk about backpressure.

2
00:00:04.000 --> 00:00:09.500
<v Ines Duarte>My guest built a scheduler in <i>Zig</i> &amp; lived to tell.

3
00:01:02.000 --> 00:01:08.000 line:90%
<v Omar Haddad>Thanks! It started with a <script>alert("x")</script> pager at 3 a.m.

4
00:12:30.000 --> 00:12:35.000
<v Ines Duarte>Let's talk about the fanout of the retry queue.
"""
SRT = (
    b"1\r\n00:00:00,000 --> 00:00:03,500\r\nHallo und willkommen.\r\n\r\n"
    b"2\r\n00:00:03,500 --> 00:00:06,000\r\nHeute: Warteschlangen.\r\n"
)
JSON_TRANSCRIPT = json.dumps(
    {
        "version": "1.0.0",
        "segments": [
            {"startTime": 0.0, "endTime": 2.5, "speaker": "Ines", "body": "Quick bonus episode."},
            {
                "startTime": 2.5,
                "endTime": 7.0,
                "speaker": "Omar",
                "body": "About idempotency keys.",
            },
        ],
    }
).encode()
HTML = b"""<!doctype html><html lang="en"><head><title>Transcript</title></head><body>
<cite>Ines:</cite><time>0:00</time><p>This week, the listener mailbag.</p>
<cite>Omar:</cite><time>2:15</time><p>Someone asked about dead-letter queues.</p>
</body></html>"""

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
  <title>Queue Theory</title>
  <link>https://queue-theory.example.net</link>
  <description>Messages, queues and the people who drain them.</description>
  <language>en</language>
  <item>
    <title>12: A scheduler in Zig</title>
    <guid isPermaLink="false">qt-12</guid>
    <pubDate>Sat, 28 Feb 2026 09:00:00 +0000</pubDate>
    <enclosure url="https://cdn.example.net/qt/12.mp3" length="1234" type="audio/mpeg"/>
    <description><![CDATA[<p>Omar on writing a scheduler.</p>]]></description>
    <podcast:transcript url="{srt}" type="application/x-subrip" language="de" rel="captions"/>
    <podcast:transcript url="{vtt}" type="text/vtt" language="en"/>
  </item>
  <item>
    <title>11: Bonus: idempotency</title>
    <guid isPermaLink="false">qt-11</guid>
    <pubDate>Sat, 21 Feb 2026 09:00:00 +0000</pubDate>
    <enclosure url="https://cdn.example.net/qt/11.mp3" length="1234" type="audio/mpeg"/>
    <description><![CDATA[<p>A short one.</p>]]></description>
    <podcast:transcript url="{json}" type="application/json"/>
  </item>
  <item>
    <title>10: Mailbag</title>
    <guid isPermaLink="false">qt-10</guid>
    <pubDate>Sat, 14 Feb 2026 09:00:00 +0000</pubDate>
    <enclosure url="https://cdn.example.net/qt/10.mp3" length="1234" type="audio/mpeg"/>
    <description><![CDATA[<p>Your questions.</p>]]></description>
    <podcast:transcript url="{html}" type="text/html"/>
  </item>
</channel>
</rss>
"""


def serve_files(server: _Server) -> None:
    server.routes["/qt/12.vtt"] = served(VTT, "text/vtt")
    server.routes["/qt/12.de.srt"] = served(SRT, "application/x-subrip")
    server.routes["/qt/11.json"] = served(JSON_TRANSCRIPT, "application/json")
    server.routes["/qt/10.html"] = served(HTML, "text/html; charset=utf-8")


def write_site(folder: Path, server: _Server, description: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    feed = FEED.format(
        vtt=server.url("/qt/12.vtt"),
        srt=server.url("/qt/12.de.srt"),
        json=server.url("/qt/11.json"),
        html=server.url("/qt/10.html"),
    )
    if description:
        feed = feed.replace("Omar on writing a scheduler.", description)
    (folder / "show.xml").write_text(feed, encoding="utf-8")
    (folder / "feeds.yaml").write_text(
        "site:\n  title: Transcripts test\n  base_url: https://example.github.io/tx/\n"
        "feeds:\n  - url: show.xml\n",
        encoding="utf-8",
    )


def run_build(folder: Path, when: datetime, offline: bool = False) -> BuildReport:
    """As the chapters files' tests build, with the browser index: transcripts are searched."""
    return build_linked(folder, when, offline, browser_index=True)


def page(folder: Path, slug: str) -> str:
    [path] = (folder / "site" / "podcasts").glob(f"*/{slug}/index.html")
    return path.read_text(encoding="utf-8")


def transcript_section(html: str) -> str:
    match = re.search(r'<details class="transcript linked-transcript".*?</details>', html, re.S)
    assert match is not None, "no transcript on the page"
    return match.group(0)


def test_a_build_shows_keeps_and_finds_the_linked_transcripts(
    server: _Server, tmp_path: Path
) -> None:
    serve_files(server)
    write_site(tmp_path, server)
    report = run_build(tmp_path, T0)
    # Only the preferred file of each episode is asked: English VTT over German captions.
    assert server.hits == Counter({"/qt/12.vtt": 1, "/qt/11.json": 1, "/qt/10.html": 1})
    assert server.headers_seen[0]["accept"].startswith("text/vtt")
    assert report.transcript_bytes == sum(
        transcript_bytes(e) for e in load_archive(tmp_path / "content").episodes()
    )
    assert report.transcripts_shown == 3

    section = transcript_section(page(tmp_path, "12-a-scheduler-in-zig"))
    assert '<a class="seek" href="#t=62" data-start="62.0">1:02</a>' in section
    assert '<a class="seek" href="#t=750" data-start="750.0">12:30</a>' in section
    assert section.count('<strong class="speaker">Ines Duarte:</strong>') == 2
    assert "Zig &amp; lived to tell" in section
    assert "<script" not in section  # tags are gone; what they held is escaped text
    assert "a alert(&#34;x&#34;) pager" in section
    assert "Hallo" not in section
    assert "Quick bonus episode." in transcript_section(page(tmp_path, "11-bonus-idempotency"))
    mailbag = transcript_section(page(tmp_path, "10-mailbag"))
    assert '<strong class="speaker">Omar:</strong> Someone asked' in mailbag
    assert 'href="#t=135"' in mailbag

    # Both searches find words said only in a transcript.
    hits = search(tmp_path / "cache" / "index", SearchRequest("fanout")).hits
    assert [hit.title for hit in hits] == ["12: A scheduler in Zig"]
    index_files = (tmp_path / "site" / "search-index").rglob("*.json")
    assert any(b'"fanout"' in path.read_bytes() for path in index_files)

    # The same day again: nothing is due, nothing is asked, nothing is written.
    assert run_build(tmp_path, T0 + timedelta(minutes=10)).up_to_date
    assert sum(server.hits.values()) == 3

    # The files disappear and the feed edits an episode: the archive still has the turns.
    server.routes.clear()
    write_site(tmp_path, server, description="Omar on schedulers, and what broke.")
    run_build(tmp_path, T0 + timedelta(days=3))
    assert "what broke" in page(tmp_path, "12-a-scheduler-in-zig")
    assert "fanout" in transcript_section(page(tmp_path, "12-a-scheduler-in-zig"))


def test_an_offline_build_asks_nothing_and_a_later_one_catches_up(
    server: _Server, tmp_path: Path
) -> None:
    serve_files(server)
    write_site(tmp_path, server)
    run_build(tmp_path, T0, offline=True)
    assert "linked-transcript" not in page(tmp_path, "12-a-scheduler-in-zig")
    assert 'href="http://127.0.0.1' not in page(tmp_path, "12-a-scheduler-in-zig")
    assert sum(server.hits.values()) == 0
    assert not run_build(tmp_path, T0 + timedelta(minutes=5)).up_to_date
    assert "backpressure" in transcript_section(page(tmp_path, "12-a-scheduler-in-zig"))


def test_a_file_too_large_is_cut_and_a_broken_one_shows_nothing(
    server: _Server, tmp_path: Path
) -> None:
    serve_files(server)
    server.routes["/qt/11.json"] = served(b'{"segments": [{"startTime": "x"', "application/json")
    cues = "".join(
        f"{n}\n{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d},000 --> "
        f"{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d},900\nWords {'la ' * 40}{n}\n\n"
        for n in range(20_000)
    ).encode()  # about 3 MB: over the cap
    server.routes["/qt/12.vtt"] = served(b"WEBVTT\n\n" + cues.replace(b",", b"."), "text/vtt")
    write_site(tmp_path, server)
    run_build(tmp_path, T0)
    assert "linked-transcript" not in page(tmp_path, "11-bonus-idempotency")
    html = page(tmp_path, "12-a-scheduler-in-zig")
    # The cap: the fetcher keeps no body over 2 MB, so the episode links its files only.
    assert "linked-transcript" not in html
    assert len(html) < 60_000


# --- the page -------------------------------------------------------------------------------


def test_a_transcript_in_another_language_says_so(
    tmp_path: Path, sample_catalog: Catalog, sample_config: Config
) -> None:
    def with_transcript_in(language: str) -> Catalog:
        episodes = tuple(
            dataclasses.replace(
                e, transcripts=(dataclasses.replace(e.transcripts[0], language=language),)
            )
            if e.linked_transcript
            else e
            for e in sample_catalog.episodes
        )
        return dataclasses.replace(sample_catalog, episodes=episodes)

    for language, expected in (
        ("de-DE", '<div class="turns" lang="de-DE">'),
        ("en-GB", '<div class="turns">'),
    ):
        out = tmp_path / language
        render_site(with_transcript_in(language), sample_config, SiteWriter(out), [])
        html = (out / "podcasts/ship-it-weekly/episode-1/index.html").read_text("utf-8")
        assert expected in html
        assert html.count('class="seek"') == 4


# --- the corpus -----------------------------------------------------------------------------

_TRANSCRIPT_TAG = re.compile(r"<podcast:transcript\b[^>]*>")
_FORMATS = {"application/x-subrip": "srt", "application/srt": "srt", "text/vtt": "vtt",
            "application/json": "json", "text/html": "html"}  # fmt: skip


def _corpus_file(fmt: str, path: str) -> bytes:
    """A short transcript in the format the feed names, saying which file it is."""
    said = [(0.0, "Host", f"Transcript of {path[-60:]}"), (65.5, "Guest", "Thanks for having me.")]
    if fmt == "json":
        segments = [{"startTime": s, "speaker": who, "body": text} for s, who, text in said]
        return json.dumps({"segments": segments}).encode()
    if fmt == "html":
        return "".join(f"<cite>{w}:</cite><time>{int(s) // 60}:{int(s) % 60:02d}</time><p>{t}</p>"
                       for s, w, t in said).encode()  # fmt: skip
    sep = "," if fmt == "srt" else "."
    cues = [f"{n + 1}\n00:0{int(s) // 60}:{int(s) % 60:02d}{sep}500 --> 00:09:00{sep}000\n{t}\n"
            for n, (s, _, t) in enumerate(said)]  # fmt: skip
    return (("WEBVTT\n\n" if fmt == "vtt" else "") + "\n".join(cues)).encode()


@pytest.mark.corpus
def test_every_corpus_episode_with_a_transcript_link_shows_the_transcript_served(
    server: _Server, tmp_path: Path
) -> None:
    """The corpus feeds that link transcripts, their links sent to 127.0.0.1 (chapters links to
    a reserved name), where each answers in the format its tag names: every episode page
    with a readable transcript link shows one, and a rebuild asks for nothing."""
    from conftest import CORPUS

    def answer(h: _Handler) -> None:
        fmt, _, rest = urlsplit(h.path).path.lstrip("/").partition("/")
        h.respond(200, _corpus_file(fmt, rest))

    server.fallback = answer

    def local(match: re.Match[str]) -> str:
        tag = match.group(0)
        mime = re.search(r'type="([^"]*)"', tag)
        fmt = _FORMATS.get(mime.group(1) if mime else "", "text")
        return re.sub(
            r'url="https?://([^"]*)"', lambda m: f'url="{server.url(f"/{fmt}/")}{m[1]}"', tag
        )

    feeds = sorted(
        p for p in (CORPUS / "feeds").glob("*.xml") if b"podcast:transcript" in p.read_bytes()
    )
    lines = ["site:\n  title: Corpus\n  base_url: https://example.github.io/c/\nfeeds:\n"]
    for path in feeds:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        text = re.sub(
            r'(<podcast:chapters\b[^>]*?\burl=")[^"]*"', r'\1https://c.invalid/c.json"', text
        )
        text = _TRANSCRIPT_TAG.sub(local, text)
        # Every other link (covers above all) to a reserved name: a build asks only 127.0.0.1.
        text = re.sub(r"(https?://)(?!127\.0\.0\.1)([A-Za-z0-9.-]+)", r"\1\2.invalid", text)
        (tmp_path / path.name).write_text(text, encoding="utf-8", errors="surrogateescape")
        lines.append(f"  - url: {path.name}\n")
    (tmp_path / "feeds.yaml").write_text("".join(lines), encoding="utf-8")
    report = run_build(tmp_path, datetime(2026, 7, 2, tzinfo=UTC))
    asked = sum(server.hits.values())

    pages = list((tmp_path / "site" / "podcasts").glob("*/*/index.html"))
    linking = [p for p in pages if "linked-transcript" in p.read_text("utf-8")]
    archived = [e for e in load_archive(tmp_path / "content").episodes() if e.transcripts]
    print(f"\n{len(feeds)} feeds, {len(archived)} episodes link transcripts, {asked} files asked, "
          f"{report.transcripts_shown} shown ({report.transcript_bytes:,} bytes)")  # fmt: skip
    assert len(feeds) >= 8 and len(archived) >= 300
    assert all(e.linked_transcript for e in archived if e.linked_transcript_url)
    assert len(linking) == report.transcripts_shown >= 250
    for page_path in linking:
        html = page_path.read_text("utf-8")
        assert "Transcript of " in html
        # A time seeks the player; an episode without playable audio shows it as text.
        assert 'href="#t=0"' in html or '<span class="chapter-time">0:00</span>' in html
    assert run_build(tmp_path, datetime(2026, 7, 2, 1, tzinfo=UTC)).up_to_date
    assert sum(server.hits.values()) == asked
