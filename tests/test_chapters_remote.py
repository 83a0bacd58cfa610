"""Chapters files that feeds link to (podcast:chapters): read, validated, fetched from a real
HTTP server on 127.0.0.1, kept in the archive and shown on the episode page."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import CORPUS
from hypothesis import given
from hypothesis import strategies as st

from devcasts.archive.files import load_archive
from devcasts.archive.linked_chapters import RECENT, wanted_links
from devcasts.archive.state import ArchiveState, PodcastArchive
from devcasts.catalog.build import build_catalog
from devcasts.catalog.linked_chapters import with_linked_chapters
from devcasts.catalog.overrides import Overrides
from devcasts.config.load import load_config
from devcasts.fetch.sidecar import (
    MAX_REQUESTS,
    FileRequest,
    LinkedFiles,
    backoff,
    fetch_linked_files,
    json_object_problem,
    linked_file_options,
    url_problem,
)
from devcasts.ingest.chapters_json import MAX_CHAPTERS, chapters_from_json
from devcasts.pipeline import BuildOptions, BuildReport, build
from devcasts.records import Chapter, Episode, Podcast

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# A chapters file in the shape hosting services write them: a version, integer and fractional
# start times, links and images, an entry only for the player (toc: false), an end time.
CHAPTERS = {
    "version": "1.2.0",
    "chapters": [
        {"startTime": 0, "title": "Cold open", "img": "https://cdn.example.net/ep7/open.jpg"},
        {"startTime": 95.5, "title": "Why the build broke", "endTime": 400},
        {"startTime": 120, "title": "Sponsor art", "img": "https://cdn.example.net/ad.png",
         "toc": False},
        {"startTime": 612, "title": "Pinning toolchains", "url": "https://toolchain.example.org/pin?utm_source=pod"},
        {"startTime": 1830.25, "title": "Listener mail &amp; goodbyes"},
    ],
}  # fmt: skip
CHAPTERS_BYTES = json.dumps(CHAPTERS).encode()


# --- the chapters file ----------------------------------------------------------------------


def test_a_chapters_file_in_the_common_shape() -> None:
    chapters = chapters_from_json(CHAPTERS_BYTES, "https://host.example.net/ep7/chapters.json")
    assert chapters == (
        Chapter(0.0, "Cold open", None, "https://cdn.example.net/ep7/open.jpg"),
        Chapter(95.5, "Why the build broke"),
        Chapter(612.0, "Pinning toolchains", "https://toolchain.example.org/pin"),
        Chapter(1830.25, "Listener mail & goodbyes"),
    )


def test_order_duplicates_strings_relative_links_and_encodings() -> None:
    document = {
        "version": "1.1.0",
        "chapters": [
            {"startTime": "00:10:00", "title": "Third", "url": "/notes#ten"},
            {"startTime": 5, "title": "First"},
            {"startTime": 5, "title": "First again"},  # one chapter per start
            {"startTime": "61.5", "title": "Second"},
        ],
    }
    raw = json.dumps(document)
    for data in (raw.encode(), b"\xef\xbb\xbf" + raw.encode(), raw.encode("utf-16")):
        chapters = chapters_from_json(data, "https://show.example.net/ep/1/chapters.json")
        assert [(c.start, c.title) for c in chapters] == [
            (5.0, "First"),
            (61.5, "Second"),
            (600.0, "Third"),
        ]
        assert chapters[2].url == "https://show.example.net/notes#ten"


@pytest.mark.parametrize(
    "entry",
    [
        {"startTime": True, "title": "a boolean"},
        {"startTime": -3, "title": "before the start"},
        {"startTime": 10**400, "title": "a 400-digit start"},
        {"startTime": 8 * 24 * 3600, "title": "more than a week in"},
        {"startTime": "soon", "title": "words"},
        {"startTime": [1], "title": "a list"},
        {"startTime": 3},  # no title
        {"startTime": 3, "title": 42},
        {"startTime": 3, "title": "<b> </b>"},  # nothing left once cleaned
        {"title": "no start"},
        "not an object",
        None,
    ],
)
def test_hostile_entries_are_left_out(entry: object) -> None:
    good = {"startTime": 1, "title": "Kept"}
    data = json.dumps({"version": "1.2.0", "chapters": [entry, good]}).encode()
    assert [c.title for c in chapters_from_json(data)] == ["Kept"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><body>Not found</body></html>",
        b"[]",
        b'{"version": "1.2.0"}',
        b'{"version": 1, "chapters": [{"startTime": 1, "title": "x"}]}',
        b'{"version": "1.2.0", "chapters": {"startTime": 1, "title": "x"}}',
        b'{"chapters": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        b'{"chapters": [{"startTime": NaN, "title": "x"}, {"startTime": Infinity, "title": "y"}]}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_unusable_files_give_no_chapters(data: bytes) -> None:
    assert chapters_from_json(data) == ()


def test_titles_and_links_are_cleaned() -> None:
    long_title = "word " * 500
    document = {
        "chapters": [
            {"startTime": 1, "title": "<script>alert(1)</script>Intro\u202e\x07", "url": "javascript:alert(1)"},
            {"startTime": 2, "title": long_title, "img": "data:image/png;base64,AAAA"},
        ]
    }  # fmt: skip
    first, second = chapters_from_json(json.dumps(document).encode())
    assert "<" not in first.title and "\u202e" not in first.title and "\x07" not in first.title
    assert first.url is None and second.img is None
    assert len(second.title) <= 200


def test_counts_are_bounded() -> None:
    entries = [{"startTime": n, "title": f"Part {n}"} for n in range(MAX_CHAPTERS + 50)]
    chapters = chapters_from_json(json.dumps({"chapters": entries}).encode())
    assert len(chapters) == MAX_CHAPTERS and chapters[-1].start == MAX_CHAPTERS - 1


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_entries = st.dictionaries(
    st.sampled_from(["startTime", "title", "url", "img", "toc", "endTime"]), _json_values
)


@given(st.lists(_entries | _json_values, max_size=12), st.one_of(st.none(), _json_values))
def test_any_document_gives_sorted_clean_chapters(entries: list[object], version: object) -> None:
    data = json.dumps({"version": version, "chapters": entries}).encode()
    chapters = chapters_from_json(data, "https://show.example.net/c.json")
    starts = [c.start for c in chapters]
    assert starts == sorted(set(starts))
    for chapter in chapters:
        assert 0 <= chapter.start <= 7 * 24 * 3600 and 0 < len(chapter.title) <= 200
        for link in (chapter.url, chapter.img):
            assert link is None or link.startswith(("http://", "https://"))


@given(st.binary(max_size=300))
def test_any_bytes_are_safe(data: bytes) -> None:
    assert isinstance(chapters_from_json(data), tuple)


def test_a_first_look_at_json_bodies() -> None:
    assert json_object_problem(b'\xef\xbb\xbf\n {"chapters": []}') is None
    assert json_object_problem(b"  ") == "empty body"
    assert json_object_problem(b"<!doctype html>") == "not a JSON object"


# --- a server on 127.0.0.1 ------------------------------------------------------------------

Route = Callable[["_Handler"], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK pause
    server: _Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.hits[path] += 1
            self.server.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        route = self.server.routes.get(path) or self.server.fallback
        route(self)

    def respond(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.fallback: Route = lambda h: h.respond(404, b"no such file")
        self.hits: Counter[str] = Counter()
        self.headers_seen: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def served_file(body: bytes, content_type: str, etag: str) -> Route:
    """A file that answers 304 to a client that sends its ETag back (chapters, transcripts
    and covers are all served so)."""

    def route(h: _Handler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.respond(304, ETag=etag)
        else:
            h.respond(200, body, ETag=etag, Content_Type=content_type)

    return route


def chapters_file(body: bytes = CHAPTERS_BYTES, etag: str = '"c1"') -> Route:
    return served_file(body, "application/json+chapters", etag)


def fetch(
    urls: list[str],
    cache: Path,
    now: datetime = T0,
    refresh: timedelta | None = None,
    **options: object,
) -> LinkedFiles:
    limits: dict[str, object] = {"connect_timeout": 2, "read_timeout": 2, "deadline": 3}
    max_requests = int(options.pop("max_requests", MAX_REQUESTS))  # type: ignore[call-overload]
    settings = linked_file_options(
        cache, allow_private_network=True, check_body=json_object_problem, **(limits | options)
    )
    requests = [FileRequest(url, refresh) for url in urls]
    return fetch_linked_files(requests, settings, now, max_requests)


# --- fetching linked files ------------------------------------------------------------------


def test_fetched_once_then_kept_without_asking(server: _Server, tmp_path: Path) -> None:
    server.routes["/c.json"] = chapters_file()
    url = server.url("/c.json")
    first = fetch([url], tmp_path)
    assert first.files[url].body == CHAPTERS_BYTES and first.asked == 1
    assert first.next_due is None  # kept for good: no refresh asked for
    again = fetch([url, url], tmp_path, T0 + timedelta(days=300))
    assert again.files[url].body == CHAPTERS_BYTES and again.asked == 0
    assert server.hits["/c.json"] == 1


def test_a_refresh_is_a_conditional_get(server: _Server, tmp_path: Path) -> None:
    server.routes["/c.json"] = chapters_file()
    url = server.url("/c.json")
    day = timedelta(days=1)
    assert fetch([url], tmp_path, refresh=day).next_due == T0 + day
    assert fetch([url], tmp_path, T0 + timedelta(hours=5), refresh=day).asked == 0
    later = fetch([url], tmp_path, T0 + timedelta(days=2), refresh=day)
    assert later.asked == 1 and later.files[url].body == CHAPTERS_BYTES
    assert server.headers_seen[-1]["if-none-match"] == '"c1"'


def test_failures_back_off_and_a_bad_body_keeps_the_good_copy(
    server: _Server, tmp_path: Path
) -> None:
    url = server.url("/c.json")
    server.routes["/c.json"] = lambda h: h.respond(500, b"oops")
    failed = fetch([url], tmp_path)
    assert failed.failed == 1 and failed.files[url].body is None
    assert failed.next_due == T0 + backoff(1) == T0 + timedelta(hours=1)
    assert fetch([url], tmp_path, T0 + timedelta(minutes=30)).asked == 0
    server.routes["/c.json"] = chapters_file()
    assert fetch([url], tmp_path, T0 + timedelta(hours=2)).files[url].body == CHAPTERS_BYTES
    # An HTML page served in its place later is refused; the good copy stays.
    server.routes["/c.json"] = lambda h: h.respond(200, b"<html>moved</html>")
    worse = fetch([url], tmp_path, T0 + timedelta(days=3), refresh=timedelta(days=1))
    assert worse.failed == 1 and worse.files[url].body == CHAPTERS_BYTES
    assert worse.files[url].error == "not a JSON object"
    assert backoff(40) == timedelta(days=7)


def test_gone_is_final_and_size_is_capped(server: _Server, tmp_path: Path) -> None:
    server.routes["/gone.json"] = lambda h: h.respond(410)
    server.routes["/big.json"] = lambda h: h.respond(200, b"{" + b" " * 5000 + b"}")
    gone, big = server.url("/gone.json"), server.url("/big.json")
    result = fetch([gone, big], tmp_path, max_bytes=1000)
    assert result.files[big].error is not None and "larger than" in result.files[big].error
    assert result.next_due == T0 + timedelta(hours=1)  # the big one, tried again later
    assert fetch([gone], tmp_path, T0 + timedelta(days=30)).asked == 0
    assert server.hits["/gone.json"] == 1


def test_private_networks_are_refused_unless_allowed(server: _Server, tmp_path: Path) -> None:
    server.routes["/c.json"] = chapters_file()
    url = server.url("/c.json")
    settings = linked_file_options(tmp_path)
    refused = fetch_linked_files([FileRequest(url)], settings, T0)
    assert refused.files[url].body is None and "loopback" in (refused.files[url].error or "")
    assert server.hits["/c.json"] == 0


def test_offline_reserved_and_odd_urls_ask_nothing(server: _Server, tmp_path: Path) -> None:
    server.routes["/c.json"] = chapters_file()
    url = server.url("/c.json")
    assert fetch([url], tmp_path, offline=True).files[url].body is None
    fetch([url], tmp_path)
    assert fetch([url], tmp_path, T0 + timedelta(days=9), offline=True).files[url].body
    assert server.hits["/c.json"] == 1
    odd = ["https://media.example.com/c.json", "http://x.test/c.json", "file:///etc/passwd",
           "/etc/passwd", "javascript:alert(1)", "https://"]  # fmt: skip
    result = fetch(odd, tmp_path)
    assert result.asked == 0 and all(result.files[u].body is None for u in odd)
    assert all(url_problem(u) for u in odd) and url_problem(url) is None


def test_a_build_asks_at_most_so_many_and_a_dead_host_costs_little(
    server: _Server, tmp_path: Path
) -> None:
    server.fallback = chapters_file()
    urls = [server.url(f"/{n}.json") for n in range(5)]
    first = fetch(urls, tmp_path, max_requests=3)
    assert first.asked == 3 and first.next_due == T0  # the rest are due at once
    assert [u for u in urls if first.files[u].body] == urls[:3]
    assert fetch(urls, tmp_path, max_requests=3).asked == 2
    with socket.socket() as closed:  # a port nobody listens on: connections are refused
        closed.bind(("127.0.0.1", 0))
        dead = [f"http://127.0.0.1:{closed.getsockname()[1]}/{n}.json" for n in range(20)]
    result = fetch(dead, tmp_path / "dead")
    assert result.asked == 20 and result.failed == 20
    assert sum("not asked" in (result.files[u].error or "") for u in dead) >= 18


def test_a_host_that_never_answers_costs_two_timeouts(tmp_path: Path) -> None:
    with socket.socket() as silent:  # connections are accepted by the kernel, never answered
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        urls = [f"http://127.0.0.1:{silent.getsockname()[1]}/{n}.json" for n in range(12)]
        started = time.monotonic()
        result = fetch(urls, tmp_path, read_timeout=0.3, deadline=0.6)
        elapsed = time.monotonic() - started
    assert result.failed == 12 and all(result.files[u].body is None for u in urls)
    assert elapsed < 3  # two timeouts, then the host's other files are not asked
    assert result.next_due == T0 + timedelta(hours=1)


# --- the archive and the catalog ------------------------------------------------------------

LINK = "https://host.example.net/ep7/chapters.json"


def episode(n: int, url: str | None = LINK, **fields: object) -> Episode:
    values: dict[str, object] = {"first_seen": T0 - timedelta(days=n), **fields}
    return Episode(
        id=f"id{n}", podcast="show", guid=f"g{n}", title=f"Episode {n}",
        published=T0 - timedelta(days=n), chapters_url=url, **values,  # type: ignore[arg-type]
    )  # fmt: skip


def test_which_files_a_build_wants() -> None:
    read = (Chapter(0, "Intro"),)
    old = T0 - RECENT - timedelta(days=1)
    episodes = (
        episode(1),  # never read: wanted
        episode(2, linked_chapters=read, linked_chapters_url=LINK),  # young: refreshed daily
        episode(3, linked_chapters=read, linked_chapters_url=LINK, first_seen=old),  # done
        episode(4, "https://other.example.net/c.json", linked_chapters=read,
                linked_chapters_url=LINK, first_seen=old),  # the link changed: wanted
        episode(5, None),
    )  # fmt: skip
    archive = ArchiveState((PodcastArchive(Podcast("show", "Show", "f.xml"), episodes),))
    wanted = wanted_links(archive, T0)
    assert [url for url, _ in wanted] == [LINK, LINK, "https://other.example.net/c.json"]
    assert wanted[-1][1] == timedelta(days=7)
    assert wanted_links(archive, T0, {"another-show"}) == []


def test_the_linked_file_wins_over_the_feed_while_it_is_current() -> None:
    feed = (Chapter(0, "From the notes"),)
    read = (Chapter(0, "From the file"), Chapter(60, "More"))
    shown = with_linked_chapters(
        episode(1, chapters=feed, linked_chapters=read, linked_chapters_url=LINK)
    )
    assert shown.chapters == read
    stale = episode(1, "https://new.example.net/c.json", chapters=feed, linked_chapters=read,
                    linked_chapters_url=LINK)  # fmt: skip
    assert with_linked_chapters(stale).chapters == feed


# --- a whole build --------------------------------------------------------------------------

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0"
     xmlns:psc="http://podlove.org/simple-chapters">
<channel>
  <title>Release Train</title>
  <link>https://release-train.example.net</link>
  <description>Two engineers on shipping software.</description>
  <language>en</language>
  <item>
    <title>7: Reproducible builds</title>
    <guid isPermaLink="false">rt-0007</guid>
    <pubDate>Sat, 28 Feb 2026 09:00:00 -0800</pubDate>
    <enclosure url="https://cdn.example.net/rt/7.mp3" length="1234" type="audio/mpeg"/>
    <itunes:duration>31:40</itunes:duration>
    <description><![CDATA[<p>Why our builds differ between laptops.</p>]]></description>
    <psc:chapters version="1.2"><psc:chapter start="00:00:00" title="Hello"/></psc:chapters>
    <podcast:chapters url="{chapters}" type="application/json+chapters"/>
  </item>
  <item>
    <title>6: Flaky tests</title>
    <guid isPermaLink="false">rt-0006</guid>
    <pubDate>Sat, 21 Feb 2026 09:00:00 -0800</pubDate>
    <enclosure url="https://cdn.example.net/rt/6.mp3" length="1234" type="audio/mpeg"/>
    <description><![CDATA[<p>Quarantine, retry, or delete?</p>]]></description>
    <podcast:chapters url="{missing}" type="application/json+chapters"/>
  </item>
</channel>
</rss>
"""


def write_site(folder: Path, server: _Server, description: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    feed = FEED.format(chapters=server.url("/rt/7/chapters.json"), missing=server.url("/rt/6.json"))
    if description:
        feed = feed.replace("Why our builds differ between laptops.", description)
    (folder / "show.xml").write_text(feed, encoding="utf-8")
    (folder / "feeds.yaml").write_text(
        "site:\n  title: Chapters test\n  base_url: https://example.github.io/ch/\n"
        "feeds:\n  - url: show.xml\n",
        encoding="utf-8",
    )


def run_build(
    folder: Path, when: datetime, offline: bool = False, browser_index: bool = False
) -> BuildReport:
    """A build of `folder`'s feeds.yaml at `when`, the files it links fetched from 127.0.0.1."""
    options = BuildOptions(
        out_dir=folder / "site",
        cache_dir=folder / "cache",
        allow_private_network=True,
        offline=offline,
        progress=False,
        browser_index=browser_index,
    )
    return build(load_config(folder / "feeds.yaml"), options, now=when)


def page(folder: Path, slug: str = "7-reproducible-builds") -> str:
    [path] = (folder / "site" / "podcasts").glob(f"*/{slug}/index.html")
    return path.read_text(encoding="utf-8")


def chapter_titles(html: str) -> list[str]:
    return re.findall(r'<span class="chapter-title">([^<]*)</span>', html)


def test_a_build_shows_keeps_and_republishes_the_linked_chapters(
    server: _Server, tmp_path: Path
) -> None:
    server.routes["/rt/7/chapters.json"] = chapters_file()
    write_site(tmp_path, server)
    run_build(tmp_path, T0)
    titles = [
        "Cold open",
        "Why the build broke",
        "Pinning toolchains",
        "Listener mail &amp; goodbyes",
    ]
    assert chapter_titles(page(tmp_path)) == titles  # the file's, not the feed's "Hello"
    published = json.loads(
        next((tmp_path / "site").glob("podcasts/*/7-*/chapters.json")).read_text()
    )
    assert published["chapters"][0]["title"] == "Cold open"
    assert published["chapters"][0]["img"] == "https://cdn.example.net/ep7/open.jpg"
    archived = [e for e in load_archive(tmp_path / "content").episodes() if e.linked_chapters]
    assert [e.guid for e in archived] == ["rt-0007"]
    assert server.hits == Counter({"/rt/7/chapters.json": 1, "/rt/6.json": 1})
    assert server.headers_seen[0]["accept"].startswith("application/json+chapters")

    # The same day again: nothing is due, nothing is asked, nothing is written.
    again = run_build(tmp_path, T0 + timedelta(minutes=10))
    assert again.up_to_date and sum(server.hits.values()) == 2

    # The file disappears and the feed edits the episode: the archive still has the chapters.
    server.routes["/rt/7/chapters.json"] = lambda h: h.respond(404)
    write_site(tmp_path, server, description="Why our builds differ, and how we fixed it.")
    run_build(tmp_path, T0 + timedelta(days=3))
    assert chapter_titles(page(tmp_path)) == titles
    assert "how we fixed it" in page(tmp_path)


def test_young_episodes_are_refreshed_daily_old_ones_never(server: _Server, tmp_path: Path) -> None:
    server.routes["/rt/7/chapters.json"] = chapters_file()
    server.routes["/rt/6.json"] = chapters_file()
    write_site(tmp_path, server)
    run_build(tmp_path, T0)
    assert server.hits == Counter({"/rt/7/chapters.json": 1, "/rt/6.json": 1})
    # Two days on, nothing new in the feed: each file is asked again, conditionally (304).
    assert run_build(tmp_path, T0 + timedelta(days=2)).up_to_date
    assert server.hits == Counter({"/rt/7/chapters.json": 2, "/rt/6.json": 2})
    assert server.headers_seen[-1]["if-none-match"] == '"c1"'
    # A publisher's fix within the month is picked up.
    fixed = json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Fixed"}]})
    server.routes["/rt/7/chapters.json"] = chapters_file(fixed.encode(), etag='"c2"')
    assert not run_build(tmp_path, T0 + timedelta(days=4)).up_to_date
    assert chapter_titles(page(tmp_path)) == ["Fixed"]
    # Once the episodes are older than a month, their files are not asked again.
    asked = sum(server.hits.values())
    assert run_build(tmp_path, T0 + timedelta(days=40)).up_to_date
    assert run_build(tmp_path, T0 + timedelta(days=400)).up_to_date
    assert sum(server.hits.values()) == asked


def test_an_offline_build_asks_nothing_and_a_later_one_catches_up(
    server: _Server, tmp_path: Path
) -> None:
    server.routes["/rt/7/chapters.json"] = chapters_file()
    write_site(tmp_path, server)
    run_build(tmp_path, T0, offline=True)
    assert chapter_titles(page(tmp_path)) == ["Hello"]  # the feed's own chapters meanwhile
    assert run_build(tmp_path, T0 + timedelta(minutes=1), offline=True).up_to_date
    assert sum(server.hits.values()) == 0
    report = run_build(tmp_path, T0 + timedelta(minutes=5))
    assert not report.up_to_date
    assert chapter_titles(page(tmp_path))[0] == "Cold open"


# --- the corpus -----------------------------------------------------------------------------

_CHAPTERS_TAG = re.compile(r'(<podcast:chapters\b[^>]*?\burl=")https?://([^"]+)"')


@pytest.mark.corpus
def test_every_corpus_episode_with_a_chapters_link_shows_the_chapters_served(
    server: _Server, tmp_path: Path
) -> None:
    """The corpus feeds that link chapters files, their links sent to 127.0.0.1, where each
    answers with a chapters file of its own: every episode page that had a link shows them."""

    def answer(h: _Handler) -> None:
        path = urlsplit(h.path).path
        body = {"version": "1.2.0", "chapters": [
            {"startTime": 0, "title": "Start of " + path[-40:]},
            {"startTime": 90, "title": "Second part", "url": "https://example.net/x"},
        ]}  # fmt: skip
        h.respond(200, json.dumps(body).encode(), Content_Type="application/json+chapters")

    server.fallback = answer
    host = server.url("/")
    feeds = sorted(
        p for p in (CORPUS / "feeds").glob("*.xml") if b"podcast:chapters" in p.read_bytes()
    )
    lines = ["site:\n  title: Corpus\n  base_url: https://example.github.io/c/\nfeeds:\n"]
    for path in feeds:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        local = _CHAPTERS_TAG.sub(lambda m: f'{m[1]}{host}{m[2]}"', text)
        # Every other link (covers, transcripts) to a reserved name: a build asks only 127.0.0.1.
        local = re.sub(r"(https?://)(?!127\.0\.0\.1)([A-Za-z0-9.-]+)", r"\1\2.invalid", local)
        (tmp_path / path.name).write_text(local, encoding="utf-8", errors="surrogateescape")
        lines.append(f"  - url: {path.name}\n")
    (tmp_path / "feeds.yaml").write_text("".join(lines), encoding="utf-8")
    run_build(tmp_path, datetime(2026, 7, 2, tzinfo=UTC))

    state = load_archive(tmp_path / "content")
    linked = [e for e in state.episodes() if e.chapters_url]
    # An episode merged into another show's copy is shown on that copy's page.
    catalog = build_catalog(state, load_config(tmp_path / "feeds.yaml"), Overrides())
    shown_as = {(e.podcast, e.link): e for e in catalog.episodes}
    shown_as |= {(ref.podcast, ref.link): e for e in catalog.episodes for ref in e.also_in}
    canonical = {shown_as[(e.podcast, e.link)].id: shown_as[(e.podcast, e.link)] for e in linked}
    pages = [
        tmp_path / "site" / "podcasts" / e.podcast / e.slug / "index.html"
        for e in canonical.values()
    ]
    shown = [p for p in pages if p.is_file() and 'class="chapters"' in p.read_text("utf-8")]
    print(f"\n{len(linked)} episodes link a chapters file; {len(pages)} pages show them; "
          f"{len(shown)} show chapters; {sum(server.hits.values())} files asked")  # fmt: skip
    assert len(linked) >= 900 and len(pages) >= 600
    assert len(shown) == len(pages)
    assert all(e.linked_chapters for e in linked)
