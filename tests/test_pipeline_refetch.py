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
from test_pipeline import HEROKU, START, feed, run_build, site_config


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


def site_bytes(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


BOTH = HEROKU + "  - {slug: kubernetes, name: Kubernetes, patterns: [kubernetes]}\n"


@pytest.mark.parametrize("damage", ["tampered", "truncated", "missing"])
def test_a_damaged_kept_body_is_fetched_again_when_the_feed_is_parsed_again(
    tmp_path: Path, etag_server: str, damage: str
) -> None:
    sites = {}
    for case in ("clean", damage):
        folder = tmp_path / case
        site_config(folder, etag_server, HEROKU)
        run_build(folder, START + timedelta(weeks=20))
        site_config(folder, etag_server, BOTH)  # a new topic: every feed is parsed again
        [body] = (folder / "cache" / "http").glob("*.body")
        if case == "tampered":
            body.write_bytes(body.read_bytes().replace(b"Deploy diary 3", b"Deploy diary X"))
        elif case == "truncated":
            body.write_bytes(body.read_bytes()[:200])
        elif case == "missing":
            body.unlink()
        report = run_build(folder, START + timedelta(weeks=21))
        assert report.parsed_feeds == 1
        assert [h.status.value for h in report.health] in (["unchanged"], ["ok"])
        sites[case] = site_bytes(folder / "site")
    assert sites[damage] == sites["clean"]
    assert any("kubernetes" in path for path in sites["clean"])


def test_new_reading_code_reads_every_feed_again_once(
    tmp_path: Path, etag_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade that changes how feeds are read applies to feeds that did not change: the
    next build reads them again (from the kept body), and the one after reads nothing."""
    from devcasts import state

    site_config(tmp_path, etag_server, HEROKU)
    assert run_build(tmp_path, START + timedelta(weeks=20)).parsed_feeds == 1
    assert run_build(tmp_path, START + timedelta(weeks=20, hours=1)).parsed_feeds == 0
    upgraded = (*state._reading_code(), "devcasts.util.atomic")  # as if its code had changed
    monkeypatch.setattr(state, "_reading_code", lambda: upgraded)
    assert run_build(tmp_path, START + timedelta(weeks=20, hours=2)).parsed_feeds == 1
    assert run_build(tmp_path, START + timedelta(weeks=20, hours=3)).parsed_feeds == 0
