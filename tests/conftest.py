"""Shared fixtures: a hand-built Catalog of invented shows, and a static server on 127.0.0.1."""

from __future__ import annotations

import functools
import ipaddress
import json
import mimetypes
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, settings

from devcasts.model import Config, FeedHealth, FeedSource, FetchStatus, SiteConfig, Topic
from devcasts.records import (
    Catalog,
    Chapter,
    Enclosure,
    Episode,
    NormalizedFeed,
    NotAFeedError,
    ParsedFeed,
    Person,
    Podcast,
    SourceRef,
    Transcript,
    TranscriptTurn,
)

# No per-example deadline and no "too slow" health check: both time a test on the wall
# clock, so a busy machine failed them. Tests that must be fast measure CPU time themselves.
settings.register_profile("devcasts", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("devcasts")

ROOT = Path(__file__).resolve().parents[1]
# Real-world feeds and payloads beside the project, not part of it: the tests marked `corpus`
# read them and are skipped without them. DEVCASTS_CORPUS names another folder.
CORPUS = Path(os.environ.get("DEVCASTS_CORPUS") or ROOT.parent / "shared" / "corpus")
NPM_CACHE = ROOT / ".cache" / "npm"  # test-only npm packages (axe-core, vnu-jar), gitignored
BUILT_AT = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
HOSTILE = "</script><script>alert(1)</script> \"quoted\" 'single' ]]> & more"


def make_episode(podcast: str, n: int, **changes: object) -> Episode:
    """One archived episode of `podcast`, n days before BUILT_AT; keyword arguments override."""
    fields: dict[str, object] = {
        "id": f"{podcast}-{n:04d}",
        "podcast": podcast,
        "guid": f"urn:{podcast}:{n}",
        "title": f"{podcast.replace('-', ' ').title()} episode {n}",
        "published": BUILT_AT - timedelta(days=3 * n, hours=n % 5),
        "link": f"https://{podcast}.example.org/episodes/{n}",
        "summary": f"We talk about deploys, part {n}.",
        "notes_html": f"<p>We talk about deploys, part {n}.</p><ul><li>One</li><li>Two</li></ul>",
        "text": f"We talk about deploys, part {n}.",
        "duration": 1800 + 61 * n,
        "enclosure": Enclosure(f"https://media.{podcast}.example.org/{n}.mp3", "audio/mpeg", 1234),
        "slug": f"episode-{n}",
        "content_hash": f"hash-{podcast}-{n}",
        "first_seen": BUILT_AT - timedelta(days=3 * n),
    }
    fields.update(changes)
    return Episode(**fields)  # type: ignore[arg-type]


# A transcript read from a linked file: named and unnamed speakers, hostile text.
SAMPLE_TRANSCRIPT = (
    TranscriptTurn("Ada Example", "Welcome back to Ship It Weekly.", 0.0),
    TranscriptTurn("Grace Sample", "Thanks, Ada. We left Heroku in the spring.", 12.5),
    TranscriptTurn("Grace Sample", HOSTILE, 31.0),
    TranscriptTurn("", "A turn whose speaker the file did not name.", 48.0),
)


def _episodes() -> list[Episode]:
    episodes = [make_episode("ship-it-weekly", n, topics=("heroku",)) for n in range(1, 41)]
    episodes += [
        make_episode("cloud-corner", n, topics=("kubernetes",), categories=("Technology",))
        for n in range(1, 8)
    ]
    episodes[0] = make_episode(
        "ship-it-weekly",
        1,
        title="Moving from Heroku to Kubernetes",
        topics=("heroku", "kubernetes"),
        chapters=(
            Chapter(0, "Welcome"),
            Chapter(42.5, "Why we left", "https://ship-it-weekly.example.org/why"),
            Chapter(3725, "Questions"),
        ),
        people=(
            Person("Ada Example", "ada-example", "host"),
            Person("Grace Sample", "grace-sample", "guest", href="https://grace.example.org"),
        ),
        transcripts=(Transcript("https://ship-it-weekly.example.org/1.vtt", "text/vtt", "en"),),
        linked_transcript=SAMPLE_TRANSCRIPT,  # as read from that file
        linked_transcript_url="https://ship-it-weekly.example.org/1.vtt",
        also_in=(SourceRef("cloud-corner", "https://cloud-corner.example.org/crossover"),),
        featured=True,
    )
    episodes.append(
        make_episode(
            "hostile-show",
            1,
            title=HOSTILE,
            summary=HOSTILE,
            notes_html="<p>" + "Long notes. " * 1100 + "</p>",
            text=("Long notes. " * 1100).strip(),  # past LONG_NOTES_CHARS: folded on its page
            people=(Person(HOSTILE, "hostile-person"),),
            topics=("heroku",),
            published=datetime(2023, 6, 1, 8, 0, tzinfo=UTC),
            link="javascript:alert(1)",
            enclosure=None,
        )
    )
    return sorted(episodes, key=lambda e: (-e.published.timestamp(), e.id))


def _podcasts() -> tuple[Podcast, ...]:
    return (
        Podcast(
            "cloud-corner",
            "Cloud Corner",
            "https://cloud-corner.example.org/feed.xml",
            link="https://cloud-corner.example.org/",
            description_html="<p>Clusters, <em>calmly</em>.</p>",
            summary="Clusters, calmly.",
            categories=("Technology",),
            weight=2.0,
        ),
        Podcast("hostile-show", HOSTILE, "feeds/hostile.xml", summary=HOSTILE, link=HOSTILE),
        Podcast(
            "ship-it-weekly",
            "Ship It Weekly",
            "https://ship-it-weekly.example.org/rss",
            link="https://ship-it-weekly.example.org/",
            description_html="<p>Weekly talk about shipping software.</p>",
            summary="Weekly talk about shipping software.",
            author="Ada Example",
            categories=("Technology", "Technology > Tech News"),
        ),
    )


TOPICS = (
    Topic("heroku", "Heroku", ("Heroku",), "Episodes about Heroku."),
    Topic("kubernetes", "Kubernetes", ("Kubernetes", "k8s")),
    Topic("dokku", "Dokku", ("Dokku",)),
)


def build_catalog(base_url: str = "https://example.github.io/devcasts/") -> Catalog:
    site = SiteConfig(
        title="devcasts", base_url=base_url, description="Developer podcasts", page_size=10
    )
    health = (
        FeedHealth(
            "ship-it-weekly",
            "Ship It Weekly",
            "https://ship-it-weekly.example.org/rss",
            FetchStatus.OK,
            episodes=40,
            last_success=BUILT_AT,
        ),
        FeedHealth(
            "cloud-corner",
            "Cloud Corner",
            "https://cloud-corner.example.org/feed.xml",
            FetchStatus.FAILED,
            reason="HTTP 503",
            failures=3,
            episodes=7,
        ),
        FeedHealth("hostile-show", HOSTILE, "feeds/hostile.xml", FetchStatus.UNCHANGED, episodes=1),
    )
    return Catalog(site, TOPICS, _podcasts(), tuple(_episodes()), health, BUILT_AT)


@pytest.fixture
def sample_catalog() -> Catalog:
    return build_catalog()


@pytest.fixture
def sample_config(tmp_path: Path, sample_catalog: Catalog) -> Config:
    content = tmp_path / "content"
    content.mkdir()
    (content / "about.md").write_text(
        "---\ntitle: About devcasts\ndescription: What this site is\n---\n"
        "# About devcasts\n\nEpisodes from [the podcasts](/podcasts/).\n\n<script>alert(1)</script>\n",
        encoding="utf-8",
    )
    feeds = tuple(FeedSource(p.feed_url, p.slug, weight=p.weight) for p in sample_catalog.podcasts)
    return Config(
        site=sample_catalog.site,
        topics=sample_catalog.topics,
        feeds=feeds,
        path=tmp_path / "feeds.yaml",
        content_dir=content,
        templates_dir=ROOT / "templates",
    )


_CORPUS_ABSENT = f"{CORPUS} is absent (DEVCASTS_CORPUS names the corpus folder)"
_corpus_skipped: list[str] = []


@pytest.hookimpl(tryfirst=True)  # before skipif marks, so every corpus test says the same
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Without the corpus, its tests are skipped here, before their fixtures read it."""
    if item.get_closest_marker("corpus") and not CORPUS.is_dir():
        _corpus_skipped.append(item.nodeid)
        pytest.skip(f"corpus tests: {_CORPUS_ABSENT}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line for the skipped corpus tests; with -ra (addopts) or -rs, pytest's own summary
    already folds them into one line, since they were all skipped from the same place."""
    if _corpus_skipped and not terminalreporter.hasopt("s"):
        terminalreporter.write_line(
            f"{len(_corpus_skipped)} corpus tests skipped: {_CORPUS_ABSENT}"
        )


CORPUS_NOW = datetime(2026, 7, 2, tzinfo=UTC)  # after the corpus's items, bar a few "future" ones


@dataclass(frozen=True)
class CorpusFeed:
    """One readable corpus feed: its file, parsed, and normalized as a build would."""

    path: Path
    source: FeedSource
    parsed: ParsedFeed
    feed: NormalizedFeed


@functools.cache
def corpus_feeds() -> tuple[CorpusFeed, ...]:
    """Every corpus feed parsed and normalized once per session (at CORPUS_NOW, from
    https://feeds.example.com/<file>), for the tests that judge normalize on real feeds."""
    from devcasts.ingest.normalize import normalize_feed
    from devcasts.ingest.parse import parse_feed
    from devcasts.util.text import slugify

    feeds: list[CorpusFeed] = []
    for path in sorted((CORPUS / "feeds").iterdir()):
        source = FeedSource(url=f"https://feeds.example.com/{path.name}", slug=slugify(path.name))
        try:
            parsed = parse_feed(path.read_bytes(), {}, source.url)
        except NotAFeedError:
            continue
        feed = normalize_feed(source, parsed, (), CORPUS_NOW, source.url)
        feeds.append(CorpusFeed(path, source, parsed, feed))
    return tuple(feeds)


@dataclass(frozen=True)
class CorpusBuild:
    """The whole corpus built once, as a user would: every feed file listed in a feeds.yaml
    (`include: all`), built offline into `site/` with the archive in `content/`."""

    root: Path
    feeds: dict[str, Path]  # podcast slug -> the source feed file
    report: object  # pipeline.BuildReport

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def archive(self) -> Path:
        return self.root / "content" / "archive"


_LOCAL_NAMES = frozenset({"localhost", "localhost.", ""})
_real_getaddrinfo = socket.getaddrinfo


def _local_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    """socket.getaddrinfo for the tests: a name is looked up only if it is this machine's, so
    no test sends a DNS query off the machine (an address is used as it is)."""
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        if name.lower() not in _LOCAL_NAMES:
            message = f"tests look up no name but localhost: {name}"
            raise socket.gaierror(socket.EAI_NONAME, message) from None
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _no_lookups_off_the_machine() -> Iterator[None]:
    socket.getaddrinfo = _local_getaddrinfo  # type: ignore[assignment]
    yield
    socket.getaddrinfo = _real_getaddrinfo


CORPUS_FEED_SUFFIXES = (".xml", ".rss", ".json")


@pytest.fixture(scope="session")
def corpus_build(tmp_path_factory: pytest.TempPathFactory) -> CorpusBuild:
    """One build of every corpus feed for the whole session: tests that judge what a listener
    sees on real feeds read it, rather than building the corpus again each."""
    from devcasts.config.load import load_config
    from devcasts.pipeline import BuildOptions, build

    root = tmp_path_factory.mktemp("corpus-build")
    feeds_dir = root / "feeds"
    feeds_dir.mkdir()
    sources = sorted(p for p in (CORPUS / "feeds").iterdir() if p.suffix in CORPUS_FEED_SUFFIXES)
    for source in sources:
        shutil.copyfile(source, feeds_dir / source.name)
    topics = (ROOT / "feeds.yaml").read_text(encoding="utf-8").split("\nfeeds:", 1)[0]
    entries = "".join(f"  - url: feeds/{p.name}\n    include: all\n" for p in sources)
    (root / "feeds.yaml").write_text(topics + "\nfeeds:\n" + entries, encoding="utf-8")
    config = load_config(root / "feeds.yaml")
    options = BuildOptions(
        out_dir=root / "site", cache_dir=root / "cache", offline=True, browser_index=True
    )
    report = build(config, options, now=CORPUS_BUILT_AT)
    return CorpusBuild(
        root=root, feeds=_archived_feeds(root / "content" / "archive"), report=report
    )


def _archived_feeds(archive: Path) -> dict[str, Path]:
    """Each archived podcast's slug -> the corpus file it was read from (its feed_url)."""
    feeds = {}
    for podcast in archived_podcasts(archive):
        feeds[podcast["slug"]] = CORPUS / "feeds" / Path(podcast["feed_url"]).name
    return feeds


def archived_podcasts(archive: Path) -> list[dict[str, Any]]:
    """Each podcast's record in an archive folder, as JSON: from `<slug>/podcast.json`, or
    from `<slug>.json` in archives written before podcasts had folders."""
    paths = sorted([*archive.glob("*/podcast.json"), *archive.glob("*.json")])
    return [json.loads(path.read_text(encoding="utf-8"))["podcast"] for path in paths]


def archived_episodes(archive: Path, slug: str) -> list[dict[str, Any]]:
    """A podcast's archived episodes, as JSON, from its year files (or its single file)."""
    single = archive / f"{slug}.json"
    if single.is_file():
        episodes: list[dict[str, Any]] = json.loads(single.read_text("utf-8"))["episodes"]
        return episodes
    return [
        episode
        for path in sorted((archive / slug).glob("[0-9]*.json"))
        for episode in json.loads(path.read_text(encoding="utf-8"))["episodes"]
    ]


CORPUS_BUILT_AT = datetime(2026, 6, 1, tzinfo=UTC)  # after every corpus item: none is "future"


def npm_file(package: str, relpath: str, env_var: str) -> Path:
    """A file of an npm package: $env_var, else .cache/npm (installed there once); or skip."""
    if from_env := os.environ.get(env_var):
        return Path(from_env)
    path = NPM_CACHE / "node_modules" / package.rsplit("@", 1)[0] / relpath
    if not path.is_file() and shutil.which("npm"):
        command = ["npm", "install", "--prefix", str(NPM_CACHE), "--no-audit", "--no-fund", package]
        subprocess.run(command, capture_output=True, check=False, timeout=240)
    if not path.is_file():
        pytest.skip(f"{package} is not installed: npm install --prefix .cache/npm {package}")
    return path


class _StaticHandler(BaseHTTPRequestHandler):
    """Serves `root` under `prefix`, with single byte ranges so audio can seek."""

    root: Path
    prefix: str

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if not path.startswith(self.prefix):
            self.send_error(404)
            return
        target = (self.root / path[len(self.prefix) :]).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.root) or not target.is_file():
            self.send_error(404)
            return
        self._send(target)

    def _send(self, target: Path) -> None:
        data = target.read_bytes()
        start, end, status = 0, len(data) - 1, 200
        if (spec := self.headers.get("Range", "")).startswith("bytes="):
            first, _, last = spec[6:].partition("-")
            start = int(first or 0)
            end = min(int(last), end) if last else end
            status = 206
        self.send_response(status)
        self.send_header(
            "Content-Type", mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.end_headers()
        self.wfile.write(data[start : end + 1])

    def log_message(self, format: str, *args: object) -> None:
        pass


def start_server(root: Path, base_path: str = "/") -> tuple[str, ThreadingHTTPServer]:
    """Serve `root` at http://127.0.0.1:PORT{base_path}; the caller shuts the server down."""
    handler = type("Handler", (_StaticHandler,), {"root": root.resolve(), "prefix": base_path})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}{base_path}", server


@pytest.fixture
def served_site() -> Iterator[Callable[..., str]]:
    """serve(folder, base_path="/") -> "http://127.0.0.1:PORT/base/"; stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def serve(root: Path, base_path: str = "/") -> str:
        url, server = start_server(root, base_path)
        servers.append(server)
        return url

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
