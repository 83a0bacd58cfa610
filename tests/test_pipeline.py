"""The build recipe over a real HTTP server: history kept, URLs stable, output deterministic,
nothing rewritten without need, crash-safe under SIGKILL, one build at a time."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from devcasts.config.load import load_config
from devcasts.model import FetchStatus
from devcasts.pipeline import BuildOptions, BuildReport, build
from devcasts.publish.feeds import feed_documents
from devcasts.records import Catalog

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2024, 1, 1, 8, tzinfo=UTC)


def feed(items: range, title_of: dict[int, str] | None = None) -> bytes:
    """A feed whose item n was published n weeks after START, newest first."""
    title_of = title_of or {}
    entries = [
        f"""<item><title>{escape(title_of.get(n, f"Deploy diary {n}: Heroku notes"))}</title>
<guid>diary-{n}</guid><pubDate>{format_datetime(START + timedelta(weeks=n))}</pubDate>
<enclosure url="https://media.example.com/{n}.mp3" type="audio/mpeg" length="{n + 1}"/>
<description>Week {n} of running apps on Heroku and Kubernetes.</description></item>"""
        for n in reversed(items)
    ]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Deploy Diary</title><link>https://diary.example/</link>
<description>Weekly notes.</description>{"".join(entries)}</channel></rss>""".encode()


class FeedServer:
    """Serves whatever `self.body` is at /diary.xml; `self.status` overrides the answer."""

    def __init__(self) -> None:
        self.body = feed(range(30))
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if outer.status != 200:
                    self.send_error(outer.status)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/diary.xml"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    yield srv
    srv.close()


HEROKU = "  - {slug: heroku, name: Heroku, patterns: [heroku]}\n"


def site_config(folder: Path, url: str, topics: str = HEROKU) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "feeds.yaml"
    path.write_text(
        "site:\n  title: Pipeline test\n  base_url: https://example.github.io/pipe/\n"
        f"topics:\n{topics}feeds:\n  - url: {url}\n    title: Deploy Diary\n",
        encoding="utf-8",
    )
    return path


def run_build(folder: Path, when: datetime, **flags: object) -> BuildReport:
    config = load_config(folder / "feeds.yaml")
    options = BuildOptions(
        out_dir=folder / "site",
        cache_dir=folder / "cache",
        allow_private_network=True,
        progress=False,
        browser_index=bool(flags.get("browser_index", False)),
    )
    return build(config, options, now=when)


def episode_urls(site: Path) -> dict[str, str]:
    """Episode title -> page path, read from the built pages."""
    urls = {}
    for page in site.glob("podcasts/deploy-diary/*/index.html"):
        html = page.read_text(encoding="utf-8")
        start = html.index("<h1")
        title = html[html.index(">", start) + 1 : html.index("</h1>", start)]
        urls[title.strip()] = page.parent.name
    return urls


def snapshot(site: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(site).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def test_truncated_then_broken_feed_keeps_every_episode_and_url(
    tmp_path: Path, server: FeedServer
) -> None:
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=40))
    first = episode_urls(tmp_path / "site")
    assert len(first) == 30

    server.body = feed(range(25, 30))  # the feed now carries only its newest five
    run_build(tmp_path, START + timedelta(weeks=41))
    assert episode_urls(tmp_path / "site") == first

    server.status = 404
    report = run_build(tmp_path, START + timedelta(weeks=42))
    assert [h.status for h in report.health] == [FetchStatus.FAILED]
    assert episode_urls(tmp_path / "site") == first


def test_an_edited_title_keeps_its_url(tmp_path: Path, server: FeedServer) -> None:
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=40))
    before = episode_urls(tmp_path / "site")
    server.body = feed(range(30), {7: "Deploy diary 7, retitled"})
    report = run_build(tmp_path, START + timedelta(weeks=41))
    assert report.updated_episodes == 1
    after = episode_urls(tmp_path / "site")
    assert after["Deploy diary 7, retitled"] == before["Deploy diary 7: Heroku notes"]


def test_same_inputs_give_byte_identical_sites(tmp_path: Path, server: FeedServer) -> None:
    for name in ("one", "two"):
        site_config(tmp_path / name, server.url)
        run_build(tmp_path / name, START + timedelta(weeks=40))
    one, two = snapshot(tmp_path / "one" / "site"), snapshot(tmp_path / "two" / "site")
    assert one.keys() == two.keys()
    assert {k: v[0] for k, v in one.items()} == {k: v[0] for k, v in two.items()}


def test_rebuild_with_nothing_new_writes_nothing(tmp_path: Path, server: FeedServer) -> None:
    site_config(tmp_path, server.url)
    first = run_build(tmp_path, START + timedelta(weeks=40))
    assert first.timings["index"] > 0  # the indexer's own time, from its child
    archive = tmp_path / "content" / "archive"
    before_site, before_archive = snapshot(tmp_path / "site"), snapshot(archive)
    report = run_build(tmp_path, START + timedelta(weeks=40, hours=1))
    assert report.up_to_date
    assert snapshot(tmp_path / "site") == before_site  # same bytes and same mtimes
    assert snapshot(archive) == before_archive


def test_an_edited_content_page_is_a_change_a_file_in_the_archive_is_not(
    tmp_path: Path, server: FeedServer
) -> None:
    site_config(tmp_path, server.url)
    page = tmp_path / "content" / "about.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("# About\n\nFirst words.\n", encoding="utf-8")
    run_build(tmp_path, START + timedelta(weeks=40))
    page.write_text("# About\n\nSecond words.\n", encoding="utf-8")
    report = run_build(tmp_path, START + timedelta(weeks=40, hours=1))
    assert not report.up_to_date
    assert "Second words." in (tmp_path / "site" / "about" / "index.html").read_text("utf-8")
    (tmp_path / "content" / "archive" / "notes.txt").write_text("kept by hand", "utf-8")
    report = run_build(tmp_path, START + timedelta(weeks=40, hours=2))
    assert report.up_to_date


def test_one_new_episode_rewrites_only_the_pages_that_show_it(
    tmp_path: Path, server: FeedServer
) -> None:
    site_config(tmp_path, server.url)
    run_build(tmp_path, START + timedelta(weeks=40))
    before = snapshot(tmp_path / "site")
    server.body = feed(range(31))
    run_build(tmp_path, START + timedelta(weeks=41))
    after = snapshot(tmp_path / "site")
    changed = {k for k in after if before.get(k) != after[k]}
    added_episode_pages = [
        k
        for k in changed - before.keys()
        if k.startswith("podcasts/deploy-diary/") and k.count("/") == 3
    ]
    assert len(added_episode_pages) == 1
    untouched_episode_pages = [
        k for k in before if k.startswith("podcasts/deploy-diary/") and k.count("/") == 3
    ]
    rewritten = [k for k in untouched_episode_pages if k in changed]
    # Only the previous newest episode links to the new one ("next episode").
    assert len(rewritten) <= 2, rewritten
    assert len(changed) < len(after) / 2


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_whole_site(tmp_path: Path) -> None:
    """Kill real builds at random moments; the site and archive stay whole every time."""
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    paths = generate(feeds, feeds=6, episodes=60)
    (tmp_path / "feeds.yaml").write_text(
        "site: {title: kill test, base_url: 'https://example.github.io/k/'}\nfeeds:\n"
        + "".join(f"  - url: feeds/{p.name}\n" for p in paths),
        encoding="utf-8",
    )
    command = [sys.executable, str(ROOT / "build.py"), "--no-browser-index", "--quiet"]
    assert subprocess.run(command, cwd=tmp_path, timeout=300, check=False).returncode == 0
    complete = snapshot(tmp_path / "site").keys()
    rng = random.Random(5)
    for round_ in range(5):
        # Change one feed so every build has real work to do, then kill it part-way.
        from generate import feed_xml

        paths[round_ % len(paths)].write_text(
            feed_xml(round_ % len(paths), 60, 1, extra=round_ + 1), encoding="utf-8"
        )
        proc = subprocess.Popen(command, cwd=tmp_path)
        time.sleep(rng.uniform(0.3, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        pages = snapshot(tmp_path / "site").keys()
        assert (tmp_path / "site" / "index.html").is_file()
        assert complete <= pages  # the old site or a complete new one, never half of one
        for archive_file in (tmp_path / "content" / "archive").rglob("*.json"):
            json.loads(archive_file.read_text(encoding="utf-8"))
    final = subprocess.run(command, cwd=tmp_path, timeout=300, check=False, capture_output=True)
    assert final.returncode == 0, final.stderr
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert home.count("podcasts/") > 0
    # Every episode the feeds carry now has its page: no killed build lost one.
    pages = list((tmp_path / "site" / "podcasts").glob("*/*/index.html"))
    assert len(pages) == 6 * 60 + _extras(5, 6)


def _extras(rounds: int, feeds: int) -> int:
    """New episodes added by the kill rounds: the last `extra` written per feed counts."""
    last: dict[int, int] = {}
    for round_ in range(rounds):
        last[round_ % feeds] = round_ + 1
    return sum(last.values())


def test_a_second_build_at_the_same_time_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "site: {title: t, base_url: 'https://example.github.io/t/'}\n"
        "feeds: [{url: 'https://feeds.example.com/x.xml'}]\n",
        encoding="utf-8",
    )
    (tmp_path / ".cache").mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "from devcasts.site.writer import build_lock\n"
            "with build_lock(__import__('pathlib').Path('.cache/build.lock')):\n"
            "    print('locked', flush=True); sys.stdin.readline()",  # held until told
            str(ROOT / "src"),
        ],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = subprocess.run(
            [sys.executable, str(ROOT / "build.py"), "--offline"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        holder.kill()
        holder.wait()
        for pipe in (holder.stdin, holder.stdout):
            if pipe is not None:
                pipe.close()
    assert second.returncode == 1
    assert "another build" in second.stderr.lower() or "lock" in second.stderr.lower()
    assert str(holder.pid) in second.stderr
    assert "Traceback" not in second.stderr
    assert not (tmp_path / "site").exists()


def test_the_index_time_comes_back_from_the_forked_indexer(
    tmp_path: Path, sample_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import devcasts.pipeline
    from devcasts.util import processes

    monkeypatch.setattr(processes, "fork_is_safe", lambda: True)  # no server thread here
    job = devcasts.pipeline._BrowserJob(dict, tmp_path / "no-state.json", tmp_path / "site")
    update = functools.partial(
        devcasts.pipeline._update_indexes,
        sample_catalog,
        tmp_path / "index",
        None,
        job,
        tmp_path / "site",
    )
    indexed = processes.start_in_background(update, "the search index").result()
    assert indexed.seconds > 0 and indexed.browser_seconds > 0 and indexed.feeds_seconds > 0
    assert (tmp_path / "index").is_dir()
    # the browser index's files and the feeds come back through the pipe, for the site to write
    assert indexed.browser is not None and indexed.browser.rebuilt
    assert "search-index/meta.json" in indexed.browser.written
    assert {path for path, _ in feed_documents(sample_catalog)} == set(indexed.feeds.built)
