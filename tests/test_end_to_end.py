"""The whole tool through its real entry point: feeds served over HTTP on 127.0.0.1 -> site/.

A threaded HTTP server started by the test serves two small feeds; `python build.py` builds the
site with --allow-private-network (loopback is refused otherwise); then the pages, the published
feed and `search --json` are checked.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

STACK_TALK = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>Stack Talk</title>
  <link>https://stacktalk.example/</link>
  <description>Two operators compare hosting platforms.</description>
  <language>en</language>
  <item>
    <title>Moving a monolith off Heroku</title>
    <guid>st-101</guid>
    <link>https://stacktalk.example/101?utm_source=feed</link>
    <pubDate>Tue, 07 May 2024 09:00:00 GMT</pubDate>
    <itunes:duration>41:20</itunes:duration>
    <enclosure url="https://media.stacktalk.example/101.mp3" type="audio/mpeg" length="1000"/>
    <description><![CDATA[<p>We moved a Rails monolith from Heroku to Kubernetes.</p>
<p>(00:00) Intro<br>(03:15) Why leave Heroku<br>(20:40) Kubernetes day two</p>]]></description>
  </item>
  <item>
    <title>Edge functions &amp; cold starts</title>
    <guid>st-102</guid>
    <pubDate>Tue, 14 May 2024 09:00:00 GMT</pubDate>
    <enclosure url="https://media.stacktalk.example/102.mp3" type="audio/mpeg" length="2000"/>
    <description>Measuring cold starts on Vercel and Netlify, with numbers.</description>
  </item>
</channel>
</rss>
"""

GARDEN = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
  <title>Garden Hour</title>
  <link>https://garden.example/</link>
  <description>Plants, mostly.</description>
  <item>
    <title>Tomatoes in May</title>
    <guid>g-1</guid>
    <pubDate>Wed, 08 May 2024 10:00:00 GMT</pubDate>
    <enclosure url="https://garden.example/1.mp3" type="audio/mpeg" length="10"/>
    <description>Nothing about servers at all.</description>
  </item>
  <item>
    <title>A greenhouse that deploys itself with Dokku</title>
    <guid>g-2</guid>
    <pubDate>Thu, 09 May 2024 10:00:00 GMT</pubDate>
    <enclosure url="https://garden.example/2.mp3" type="audio/mpeg" length="10"/>
    <description>Our sensor dashboard runs on Dokku on a tiny box.</description>
  </item>
</channel>
</rss>
"""

FEEDS_YAML = """\
site:
  title: e2e casts
  base_url: https://example.github.io/e2e/
  description: End-to-end test site
topics:
  - slug: heroku
    name: Heroku
    patterns: ["Heroku"]
  - slug: kubernetes
    name: Kubernetes
    patterns: ["Kubernetes", "k8s"]
  - slug: dokku
    name: Dokku
    patterns: ["Dokku"]
  - slug: vercel
    name: Vercel
    patterns: ["Vercel"]
feeds:
  - url: {base}/stacktalk.xml
    title: Stack Talk
  - url: {base}/garden.xml
    include: topics
    title: Garden Hour
  - url: {base}/missing.xml
    title: Missing Show
"""


ROUTES = {"/stacktalk.xml": STACK_TALK.encode(), "/garden.xml": GARDEN.encode()}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = ROUTES.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.slow
def test_build_serve_search_end_to_end(tmp_path: Path, feed_server: str) -> None:
    (tmp_path / "feeds.yaml").write_text(FEEDS_YAML.format(base=feed_server), encoding="utf-8")

    refused = run("--out", "site", "--no-browser-index", cwd=tmp_path)
    assert refused.returncode == 0, refused.stderr  # failed feeds are reported, not fatal
    assert "failed: Stack Talk" in refused.stderr  # loopback refused without the flag

    built = run("--allow-private-network", "--out", "site", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "Missing Show" in built.stderr and "404" in built.stderr

    site = tmp_path / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Moving a monolith off Heroku" in home
    assert "Tomatoes in May" not in home  # include: topics keeps on-topic episodes only
    episode_pages = sorted(site.glob("podcasts/*/*/index.html"))
    assert len(episode_pages) == 4 - 1
    assert (site / "topics" / "dokku" / "index.html").is_file()
    assert (site / "about").exists() or (site / "404.html").is_file()

    monolith = next(p for p in episode_pages if "heroku" in p.parent.name)
    page = monolith.read_text(encoding="utf-8")
    assert 'preload="none"' in page and "https://media.stacktalk.example/101.mp3" in page
    assert "utm_source" not in page
    assert (monolith.parent / "chapters.json").is_file()

    channel = ET.parse(site / "feed.xml").getroot().find("channel")
    assert channel is not None
    titles = [item.findtext("title") for item in channel.iter("item")]
    assert titles[0] == "Edge functions & cold starts"  # newest first
    assert "Moving a monolith off Heroku" in titles

    found = run("search", "heroku", "--json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits and hits[0]["title"] == "Moving a monolith off Heroku"
    assert hits[0]["url"].startswith("https://example.github.io/e2e/podcasts/")
    assert {"title", "podcast", "published", "url", "score"} <= hits[0].keys()
    assert hits[0]["published"].startswith("2024-05-07")

    again = run("--allow-private-network", "--out", "site", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing new" in again.stderr

    strict = run("--allow-private-network", "--out", "site", "--strict", cwd=tmp_path)
    assert strict.returncode == 1


def test_bad_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("site: {title: x}\nfeeds: []\n", encoding="utf-8")
    result = run("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "feeds.yaml:1: site.base_url: missing" in result.stderr
    assert "Traceback" not in result.stderr
