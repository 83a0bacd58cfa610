"""A kept feed body that fails its check while the feed must be parsed again is fetched again
in the same build: the site is the one a clean cache would have given."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_pipeline import START, feed

from devcasts.config import load_config
from devcasts.pipeline import BuildOptions, build


@pytest.fixture
def etag_server() -> Iterator[str]:
    body = feed(range(12))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/diary.xml"
    server.shutdown()
    server.server_close()


def write_config(folder: Path, url: str, topics: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feeds.yaml").write_text(
        "site:\n  title: Pipeline test\n  base_url: https://example.github.io/pipe/\n"
        f"topics:\n{topics}feeds:\n  - url: {url}\n    title: Deploy Diary\n",
        encoding="utf-8",
    )


def run(folder: Path, weeks: int):
    options = BuildOptions(
        out_dir=folder / "site",
        cache_dir=folder / "cache",
        allow_private_network=True,
        progress=False,
        browser_index=False,
    )
    return build(load_config(folder / "feeds.yaml"), options, now=START + timedelta(weeks=weeks))


def site_bytes(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


HEROKU = "  - {slug: heroku, name: Heroku, patterns: [heroku]}\n"
BOTH = HEROKU + "  - {slug: kubernetes, name: Kubernetes, patterns: [kubernetes]}\n"


@pytest.mark.parametrize("damage", ["tampered", "truncated", "missing"])
def test_a_damaged_kept_body_is_fetched_again_when_the_feed_is_parsed_again(
    tmp_path: Path, etag_server: str, damage: str
) -> None:
    sites = {}
    for case in ("clean", damage):
        folder = tmp_path / case
        write_config(folder, etag_server, HEROKU)
        run(folder, 20)
        write_config(folder, etag_server, BOTH)  # a new topic: every feed is parsed again
        [body] = (folder / "cache" / "http").glob("*.body")
        if case == "tampered":
            body.write_bytes(body.read_bytes().replace(b"Deploy diary 3", b"Deploy diary X"))
        elif case == "truncated":
            body.write_bytes(body.read_bytes()[:200])
        elif case == "missing":
            body.unlink()
        report = run(folder, 21)
        assert report.parsed_feeds == 1
        assert [h.status.value for h in report.health] in (["unchanged"], ["ok"])
        sites[case] = site_bytes(folder / "site")
    assert sites[damage] == sites["clean"]
    assert any("kubernetes" in path for path in sites["clean"])
