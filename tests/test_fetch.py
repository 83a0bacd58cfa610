"""fetch_all against a real HTTP server on 127.0.0.1: every fault the internet can produce."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import io
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from rich.console import Console

import devcasts.fetch.body
from devcasts import USER_AGENT
from devcasts.fetch.cache import read_body
from devcasts.fetch.http import (
    FetchOptions,
    _log_result,
    _reporter,
    fetch_all,
    fetch_all_async,
)
from devcasts.fetch.netguard import GuardedTransport
from devcasts.model import FeedSource, FetchResult, FetchStatus, StoredCopy

DATA = Path(__file__).parent / "data" / "fetch"
FEED = (DATA / "tiny-show.xml").read_bytes()
FEED_V2 = (DATA / "tiny-show-v2.xml").read_bytes()
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FeedServer

    def setup(self) -> None:
        super().setup()
        self.served: list[str] = []  # the paths asked over this connection

    def finish(self) -> None:  # the client closed the connection (or the handler did)
        super().finish()
        with self.server.lock:
            self.server.closed.append(self.served)
        self.server.a_connection_closed.set()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.served.append(path)
        self.server.record(path, self)
        try:
            self.server.routes.get(path, not_found)(self)
        finally:
            self.server.leave()

    def respond(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if "Content_Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.request_headers: dict[str, list[dict[str, str]]] = {}
        self.peers: list[tuple[str, int]] = []  # the client's end of each request's connection
        self.closed: list[list[str]] = []  # the paths asked over each closed connection
        self.a_connection_closed = threading.Event()
        self.release = threading.Event()  # lets hanging handlers go at teardown
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def record(self, path: str, handler: Handler) -> None:
        with self.lock:
            self.hits[path] += 1
            self.peers.append(handler.client_address)
            self.request_headers.setdefault(path, []).append(
                {k.lower(): v for k, v in handler.headers.items()}
            )
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-body is what several tests are about

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server_address[1]}{path}"


def not_found(h: Handler) -> None:
    h.respond(404, b"no such page")


STAMP = "Sun, 01 Mar 2026 10:00:00 GMT"


def dated(h: Handler) -> None:
    """FEED, last modified at STAMP: a 304 to a client that sends STAMP back."""
    if h.headers.get("If-Modified-Since") == STAMP:
        h.respond(304)
    else:
        h.respond(200, FEED, Last_Modified=STAMP)


async def resolve_home(name: str, port: int) -> list[str]:
    """A resolver that sends every name to 127.0.0.1."""
    return ["127.0.0.1"]


def serve(body: bytes, **headers: str) -> Route:
    return lambda h: h.respond(200, body, Content_Type="application/rss+xml", **headers)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    httpd = FeedServer()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def options(tmp_path: Path) -> FetchOptions:
    return FetchOptions(
        cache_dir=tmp_path / "cache" / "http",
        allow_private_network=True,
        connect_timeout=2,
        read_timeout=2,
        deadline=3,
        progress=False,
    )


def source(url: str, slug: str = "show") -> FeedSource:
    return FeedSource(url=url, slug=slug)


def fetch_one(src: FeedSource, options: FetchOptions, now: datetime = T0) -> FetchResult:
    [result] = fetch_all([src], options, now=now)
    return result


# --- plain success and conditional GET ------------------------------------------------------


def test_200_returns_body_hash_headers_and_sends_user_agent(server, options):
    server.routes["/feed"] = serve(FEED)
    result = fetch_one(source(server.url("/feed")), options)
    assert result.status is FetchStatus.OK
    assert read_body(result) == FEED
    assert result.content_hash is not None and len(result.content_hash) == 64
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.url == server.url("/feed")
    assert result.error is None and result.moved_to is None
    assert result.last_success == T0 and result.failures == 0
    assert server.request_headers["/feed"][0]["user-agent"] == USER_AGENT
    assert (options.cache_dir / "show.body").read_bytes() == FEED


def test_304_via_etag(server, options):
    def etag_route(h: Handler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            h.respond(304, ETag='"v1"')
        else:
            h.respond(200, FEED, ETag='"v1"', Content_Type="application/rss+xml")

    server.routes["/feed"] = etag_route
    assert fetch_one(source(server.url("/feed")), options).status is FetchStatus.OK
    again = fetch_one(source(server.url("/feed")), options, T0 + timedelta(hours=1))
    assert again.status is FetchStatus.UNCHANGED
    assert read_body(again) == FEED
    assert again.headers["content-type"] == "application/rss+xml"  # kept for the parser
    assert again.last_success == T0 + timedelta(hours=1)
    assert server.request_headers["/feed"][1]["if-none-match"] == '"v1"'


def test_304_via_last_modified(server, options):
    server.routes["/feed"] = dated
    assert fetch_one(source(server.url("/feed")), options).status is FetchStatus.OK
    again = fetch_one(source(server.url("/feed")), options)
    assert again.status is FetchStatus.UNCHANGED
    assert read_body(again) == FEED
    assert "if-none-match" not in server.request_headers["/feed"][1]


def test_same_bytes_without_validators_are_unchanged_and_new_bytes_are_ok(server, options):
    server.routes["/feed"] = serve(FEED)
    src = source(server.url("/feed"))
    assert fetch_one(src, options).status is FetchStatus.OK
    assert fetch_one(src, options).status is FetchStatus.UNCHANGED
    server.routes["/feed"] = serve(FEED_V2)
    changed = fetch_one(src, options)
    assert changed.status is FetchStatus.OK
    assert read_body(changed) == FEED_V2


def test_gzip_and_deflate_bodies_are_decoded(server, options):
    server.routes["/gz"] = serve(gzip.compress(FEED), Content_Encoding="gzip")
    server.routes["/zlib"] = serve(zlib.compress(FEED), Content_Encoding="deflate")
    raw = zlib.compressobj(wbits=-15)
    server.routes["/raw"] = serve(raw.compress(FEED) + raw.flush(), Content_Encoding="deflate")
    sources = [source(server.url(p), p[1:]) for p in ("/gz", "/zlib", "/raw")]
    results = fetch_all(sources, options, now=T0)
    assert [read_body(r) for r in results] == [FEED, FEED, FEED]
    assert server.request_headers["/gz"][0]["accept-encoding"] == "gzip, deflate"


# --- redirects -------------------------------------------------------------------------------


def test_301_is_followed_and_reported(server, options):
    server.routes["/old"] = lambda h: h.respond(301, Location="/new")
    server.routes["/new"] = serve(FEED)
    result = fetch_one(source(server.url("/old")), options)
    assert result.status is FetchStatus.OK
    assert read_body(result) == FEED
    assert result.url == server.url("/new")
    assert result.moved_to == server.url("/new")
    assert result.moved_count == 1
    again = fetch_one(source(server.url("/old")), options)
    assert (again.moved_to, again.moved_count) == (server.url("/new"), 2)  # it repeats


def test_308_then_302_reports_only_the_permanent_part(server, options):
    server.routes["/a"] = lambda h: h.respond(308, Location=server.url("/b"))
    server.routes["/b"] = lambda h: h.respond(302, Location="/c")
    server.routes["/c"] = serve(FEED)
    result = fetch_one(source(server.url("/a")), options)
    assert result.status is FetchStatus.OK
    assert result.moved_to == server.url("/b")
    assert result.url == server.url("/c")


def test_a_redirect_to_another_host_and_back_shares_the_host_connection_slot(server, options):
    # A host's pool holds one connection: moving to another origin must close the idle one,
    # not wait for it.
    server.routes["/there"] = lambda h: h.respond(
        302, b"", Location=server.url("/back", "localhost")
    )
    server.routes["/back"] = lambda h: h.respond(302, b"x" * 100_000, Location=server.url("/feed"))
    server.routes["/feed"] = serve(FEED)
    sources = [source(server.url("/there"), "first"), source(server.url("/feed"), "second")]
    results = fetch_all(sources, options, now=T0)
    assert [(r.status, read_body(r)) for r in results] == [(FetchStatus.OK, FEED)] * 2
    assert results[0].url == server.url("/feed")


def test_temporary_redirect_is_not_a_move(server, options):
    server.routes["/tmp"] = lambda h: h.respond(302, Location="/feed")
    server.routes["/feed"] = serve(FEED)
    result = fetch_one(source(server.url("/tmp")), options)
    assert result.status is FetchStatus.OK
    assert result.moved_to is None


def test_redirect_loop(server, options):
    server.routes["/ping"] = lambda h: h.respond(302, Location="/pong")
    server.routes["/pong"] = lambda h: h.respond(302, Location="/ping")
    result = fetch_one(source(server.url("/ping")), options)
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("redirect loop")
    assert server.hits["/ping"] == 1


def test_too_many_redirects(server, options):
    for step in range(10):
        server.routes[f"/hop{step}"] = lambda h, n=step: h.respond(301, Location=f"/hop{n + 1}")
    result = fetch_one(source(server.url("/hop0")), options)
    assert result.status is FetchStatus.FAILED
    assert result.error == "too many redirects (more than 5)"
    assert sum(server.hits.values()) == 6  # the request and five redirects, no more


def test_redirect_to_another_scheme_is_refused(server, options):
    server.routes["/feed"] = lambda h: h.respond(301, Location="file:///etc/passwd")
    result = fetch_one(source(server.url("/feed")), options)
    assert result.status is FetchStatus.FAILED
    assert result.error == "redirect to a 'file' URL refused (only http and https)"


# --- HTTP errors, stale on error -------------------------------------------------------------


def test_404_fails_with_a_clear_reason(server, options):
    result = fetch_one(source(server.url("/missing")), options)
    assert result.status is FetchStatus.FAILED
    assert result.error == "HTTP 404 Not Found"
    assert read_body(result) is None
    assert (result.failures, result.first_failure, result.last_failure) == (1, T0, T0)


def test_500_keeps_the_last_good_copy_and_counts_failures(server, options):
    src = source(server.url("/feed"))
    server.routes["/feed"] = serve(FEED)
    fetch_one(src, options, T0)
    server.routes["/feed"] = lambda h: h.respond(500, b"oops")
    first = fetch_one(src, options, T0 + timedelta(hours=1))
    second = fetch_one(src, options, T0 + timedelta(hours=2))
    assert (first.status, first.error, read_body(first)) == (
        FetchStatus.FAILED,
        "HTTP 500 Internal Server Error",
        FEED,
    )
    assert second.failures == 2
    assert second.first_failure == T0 + timedelta(hours=1)
    assert second.last_failure == T0 + timedelta(hours=2)
    assert second.last_success == T0
    server.routes["/feed"] = serve(FEED)
    healed = fetch_one(src, options, T0 + timedelta(hours=3))
    assert healed.status is FetchStatus.UNCHANGED
    assert (healed.failures, healed.first_failure) == (0, None)
    assert healed.last_failure == T0 + timedelta(hours=2)


def test_410_marks_gone_until_the_url_changes(server, options):
    server.routes["/feed"] = lambda h: h.respond(410)
    src = source(server.url("/feed"))
    first = fetch_one(src, options)
    assert (first.status, first.error) == (FetchStatus.GONE, "HTTP 410 Gone")
    later = fetch_one(src, options, T0 + timedelta(days=30))
    assert later.status is FetchStatus.GONE
    assert server.hits["/feed"] == 1  # remembered, not asked again
    edited = fetch_one(source(server.url("/feed") + "?v=2"), options)
    assert edited.status is FetchStatus.GONE
    assert server.hits["/feed"] == 2  # a new feeds.yaml entry is tried again


def test_429_with_retry_after_defers_and_serves_the_cache(server, options):
    src = source(server.url("/feed"))
    server.routes["/feed"] = serve(FEED)
    fetch_one(src, options, T0)
    server.routes["/feed"] = lambda h: h.respond(429, Retry_After="3600")
    deferred = fetch_one(src, options, T0 + timedelta(minutes=1))
    assert deferred.status is FetchStatus.DEFERRED
    assert read_body(deferred) == FEED
    assert deferred.error == "HTTP 429 Too Many Requests: the server asked to retry later"
    waiting = fetch_one(src, options, T0 + timedelta(minutes=30))
    assert waiting.status is FetchStatus.DEFERRED and read_body(waiting) == FEED
    assert waiting.error is not None and "next try after 2026-03-01 13:01:00 UTC" in waiting.error
    assert server.hits["/feed"] == 2
    server.routes["/feed"] = serve(FEED_V2)
    after = fetch_one(src, options, T0 + timedelta(minutes=62))
    assert after.status is FetchStatus.OK and read_body(after) == FEED_V2
    assert server.hits["/feed"] == 3


def test_503_with_an_http_date_retry_after(server, options):
    server.routes["/feed"] = lambda h: h.respond(503, Retry_After="Sun, 01 Mar 2026 14:00:00 GMT")
    src = source(server.url("/feed"))
    assert fetch_one(src, options).status is FetchStatus.DEFERRED
    assert fetch_one(src, options, T0 + timedelta(hours=1)).status is FetchStatus.DEFERRED
    assert server.hits["/feed"] == 1
    fetch_one(src, options, T0 + timedelta(hours=2, seconds=1))
    assert server.hits["/feed"] == 2


def test_503_without_retry_after_is_a_failure(server, options):
    server.routes["/feed"] = lambda h: h.respond(503)
    result = fetch_one(source(server.url("/feed")), options)
    assert (result.status, result.error) == (FetchStatus.FAILED, "HTTP 503 Service Unavailable")


# --- broken connections and slow servers -----------------------------------------------------


def hang(h: Handler) -> None:
    h.server.release.wait(60)  # until the test is over


def trickle(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(200):
        if h.server.release.wait(0.05):
            return
        h.wfile.write(b" ")


def reset(h: Handler) -> None:
    """Abort the connection (RST) right after reading the request."""
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.rfile.close()  # the socket closes only when its file objects let go of it
    h.connection.close()
    h.close_connection = True


def truncated(h: Handler) -> None:
    h.respond(200, FEED[:50], Content_Length=str(len(FEED)))
    h.close_connection = True


def test_a_server_that_never_answers_hits_the_read_timeout(server, options):
    server.routes["/hang"] = hang
    fast = FetchOptions(**{**_fields(options), "read_timeout": 0.3})
    result = fetch_one(source(server.url("/hang")), fast)
    # The read timeout, not the 3 s deadline nor the server, ended it: the error says which.
    assert (result.status, result.error) == (FetchStatus.FAILED, "no data for 0.3 s (read timeout)")


def test_a_trickling_server_hits_the_overall_deadline(server, options):
    server.routes["/slow"] = trickle
    tight = FetchOptions(**{**_fields(options), "deadline": 0.4})
    result = fetch_one(source(server.url("/slow")), tight)
    assert (result.status, result.error) == (FetchStatus.FAILED, "timed out after 0.4 s")
    assert result.elapsed < 5  # the server trickles for 10 s: the deadline, even on a busy machine


def test_an_error_page_that_stalls_is_still_its_status_and_soon(server, options, monkeypatch):
    def stalled_error(h: Handler) -> None:
        h.send_response(500)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"<html>")
        h.wfile.flush()
        h.server.release.wait(60)  # until the test is over

    monkeypatch.setattr(devcasts.fetch.body, "_DISCARD_SECONDS", 0.2)
    server.routes["/feed"] = stalled_error
    patient = FetchOptions(**{**_fields(options), "read_timeout": 20, "deadline": 30})
    result = fetch_one(source(server.url("/feed")), patient)
    assert (result.status, result.error) == (FetchStatus.FAILED, "HTTP 500 Internal Server Error")
    assert result.elapsed < 10  # the 0.2 s spent on the body, not the 20 s read timeout


def test_connection_reset(server, options):
    server.routes["/reset"] = reset
    result = fetch_one(source(server.url("/reset")), options)
    assert result.status is FetchStatus.FAILED
    assert result.error in (
        "connection reset by the server",
        "the server closed the connection without answering",
    )


def test_truncated_body(server, options):
    server.routes["/cut"] = truncated
    result = fetch_one(source(server.url("/cut")), options)
    assert result.status is FetchStatus.FAILED
    assert result.error == "truncated body: the connection closed before the whole body arrived"


def test_truncated_gzip_stream(server, options):
    server.routes["/cut.gz"] = serve(gzip.compress(FEED)[:-20], Content_Encoding="gzip")
    result = fetch_one(source(server.url("/cut.gz")), options)
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "truncated body: the gzip stream ends early",
    )


def test_refused_connection(options):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = fetch_one(source(f"http://127.0.0.1:{port}/feed"), options)
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("could not connect:")


# --- bodies that are not feeds, or far too large ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"<!DOCTYPE html><html><body>Sign in</body></html>",
            "not a feed: looks like an HTML page",
        ),
        (b"", "not a feed: empty body"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "not a feed: binary data"),
    ],
    ids=["html", "empty", "binary"],
)
def test_bodies_that_are_not_feeds_fail_and_keep_the_last_good_copy(server, options, body, reason):
    src = source(server.url("/feed"))
    server.routes["/feed"] = serve(FEED, ETag='"good"')
    fetch_one(src, options)
    server.routes["/feed"] = serve(body, ETag='"bad"')
    result = fetch_one(src, options)
    assert (result.status, result.error, read_body(result)) == (FetchStatus.FAILED, reason, FEED)
    server.routes["/feed"] = serve(FEED, ETag='"good"')
    assert fetch_one(src, options).status is FetchStatus.UNCHANGED
    assert server.request_headers["/feed"][2]["if-none-match"] == '"good"'


def test_a_feed_cut_short_with_a_matching_length_keeps_the_last_good_copy(server, options):
    src = source(server.url("/feed"))
    server.routes["/feed"] = serve(FEED, ETag='"whole"')
    fetch_one(src, options)
    half = FEED[: len(FEED) // 2]
    server.routes["/feed"] = serve(half, ETag='"half"')  # Content-Length: len(half)
    result = fetch_one(src, options, T0 + timedelta(hours=1))
    reason = "truncated feed: the document ends before its closing </rss> tag"
    assert (result.status, result.error, read_body(result)) == (FetchStatus.FAILED, reason, FEED)
    server.routes["/feed"] = serve(FEED, ETag='"whole"')
    assert fetch_one(src, options, T0 + timedelta(hours=2)).status is FetchStatus.UNCHANGED
    assert server.request_headers["/feed"][2]["if-none-match"] == '"whole"'


def endless(h: Handler) -> None:
    """300 MB announced by Content-Length or not at all, sent until the client hangs up."""
    h.send_response(200)
    if h.path.endswith("?announced"):
        h.send_header("Content-Length", str(300 * 1024 * 1024))
    else:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    chunk = b"<rss>" + b" " * (256 * 1024 - 5)
    try:
        for _ in range(1200):
            h.wfile.write(chunk)
            h.server.hits["bytes sent"] += len(chunk)
    except OSError:
        return


@pytest.mark.parametrize("announced", [False, True], ids=["streamed", "content-length"])
def test_a_300_mb_body_is_cut_at_the_cap(server, options, announced):
    server.routes["/big"] = endless
    url = server.url("/big") + ("?announced" if announced else "")
    result = fetch_one(source(url), options)
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and result.error.startswith("body larger than 20 MiB")
    assert server.hits["bytes sent"] < 100 * 1024 * 1024  # of 300 MiB: the client hung up


def test_a_gzip_bomb_is_cut_after_decompression(server, options):
    bomb = gzip.compress(b"<rss>" + bytes(64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 1024 * 1024
    server.routes["/bomb"] = serve(bomb, Content_Encoding="gzip")
    small = FetchOptions(**{**_fields(options), "max_bytes": 1024 * 1024})
    result = fetch_one(source(server.url("/bomb")), small)
    assert (result.status, result.error) == (FetchStatus.FAILED, "body larger than 1 MiB")


def test_an_unknown_content_encoding_fails_clearly(server, options):
    server.routes["/br"] = serve(b"\x1b\x03\x00", Content_Encoding="br")
    result = fetch_one(source(server.url("/br")), options)
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "unsupported content encoding 'br'",
    )


# --- safety ----------------------------------------------------------------------------------


def test_loopback_is_refused_without_the_flag(server, options):
    server.routes["/feed"] = serve(FEED)
    guarded = FetchOptions(**{**_fields(options), "allow_private_network": False})
    by_ip, by_name = fetch_all(
        [source(server.url("/feed"), "a"), source(server.url("/feed", "localhost"), "b")],
        guarded,
        now=T0,
    )
    assert by_ip.status is FetchStatus.FAILED
    assert by_ip.error == (
        "refused to connect to 127.0.0.1: 127.0.0.1 is a loopback address "
        "(use --allow-private-network to allow it)"
    )
    assert by_name.status is FetchStatus.FAILED
    assert by_name.error is not None and "loopback address" in by_name.error
    assert server.hits["/feed"] == 0


def test_a_redirect_to_a_refused_address_is_refused(server, options):
    # 127.0.0.1 stands in for a public server; 127.0.0.2 for the private one behind it.
    server.routes["/feed"] = lambda h: h.respond(302, Location=server.url("/x", "127.0.0.2"))

    def only_first(ip):
        return None if str(ip) == "127.0.0.1" else "private"

    transport = GuardedTransport(only_first, httpx.Limits(max_connections=2))
    [result] = asyncio.run(
        fetch_all_async([source(server.url("/feed"))], options, T0, new_transport=lambda: transport)
    )
    assert result.status is FetchStatus.FAILED
    assert result.error is not None
    assert result.error.startswith("refused to connect to 127.0.0.2: 127.0.0.2 is a private")


def test_dns_answers_are_vetted_at_connect_time(server, options):
    server.routes["/feed"] = serve(FEED)

    async def rebinding_resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # a public-looking name that points home

    transport = GuardedTransport(
        lambda ip: "loopback" if ip.is_loopback else None,
        httpx.Limits(max_connections=2),
        resolve=rebinding_resolver,
    )
    port = server.server_address[1]
    url = f"http://feeds.example.com:{port}/feed"
    [result] = asyncio.run(
        fetch_all_async([source(url)], options, T0, new_transport=lambda: transport)
    )
    assert result.error is not None
    assert result.error.startswith("refused to connect to feeds.example.com: 127.0.0.1")
    assert server.hits["/feed"] == 0


# --- many feeds ------------------------------------------------------------------------------


def test_one_failure_does_not_stop_the_others(server, options, tmp_path):
    local = tmp_path / "local.xml"
    local.write_bytes(FEED_V2)
    server.routes.update({"/ok": serve(FEED), "/reset": reset, "/hang": hang})
    sources = [
        source(server.url("/ok"), "ok"),
        source(server.url("/missing"), "missing"),
        source(server.url("/reset"), "reset"),
        source(server.url("/hang", "localhost"), "hang"),
        source(str(local), "local"),
        source("http://[::1", "broken-url"),
    ]
    results = fetch_all(sources, options, now=T0)  # the hang fails after the 2 s read timeout
    assert [r.source.slug for r in results] == [s.slug for s in sources]
    assert [r.status for r in results] == [
        FetchStatus.OK,
        FetchStatus.FAILED,
        FetchStatus.FAILED,
        FetchStatus.FAILED,
        FetchStatus.OK,
        FetchStatus.FAILED,
    ]
    assert read_body(results[4]) == FEED_V2
    assert results[5].error is not None and results[5].error.startswith("invalid URL")


def slow(h: Handler) -> None:
    time.sleep(0.15)  # time for a second request of the same host to overlap, were it sent
    h.respond(200, FEED)


def test_one_request_at_a_time_per_host_but_hosts_in_parallel(server, options):
    server.routes["/slow"] = slow
    sources = [source(server.url("/slow") + f"?n={n}", f"s{n}") for n in range(4)]
    fetch_all(sources, options, now=T0)
    assert server.max_in_flight == 1
    server.max_in_flight = 0
    # Each host's request is answered only once the other's has arrived too (or after 10 s,
    # when requests that never overlap would fail the read timeout): no race with the clock.
    both_arrived = threading.Barrier(2, timeout=10)

    def together(h: Handler) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_arrived.wait()
        h.respond(200, FEED)

    server.routes["/together"] = together
    other_host = [
        source(server.url("/together", "localhost"), "l"),
        source(server.url("/together"), "i"),
    ]
    patient = FetchOptions(**{**_fields(options), "read_timeout": 20, "deadline": 30})
    results = fetch_all(other_host, patient, now=T0)
    assert [r.status for r in results] == [FetchStatus.OK, FetchStatus.OK]
    assert server.max_in_flight == 2


def test_offline_mode_serves_the_cache_and_sends_nothing(server, options, tmp_path):
    server.routes["/feed"] = serve(FEED)
    known = source(server.url("/feed"), "known")
    fetch_one(known, options)
    local = tmp_path / "local.xml"
    local.write_bytes(FEED)
    offline = FetchOptions(**{**_fields(options), "offline": True})
    results = fetch_all(
        [known, source(server.url("/other"), "unknown"), source(str(local), "local")],
        offline,
        now=T0,
    )
    assert [(r.status, read_body(r)) for r in results] == [
        (FetchStatus.DEFERRED, FEED),
        (FetchStatus.DEFERRED, None),
        (FetchStatus.OK, FEED),
    ]
    assert results[0].error == "offline: using the cached copy"
    assert results[1].error == "offline: no cached copy yet"
    assert server.hits["/feed"] == 1 and server.hits["/other"] == 0


def test_a_damaged_cache_is_a_warning_and_a_fresh_fetch(server, options, caplog):
    server.routes["/feed"] = serve(FEED, ETag='"v1"')
    src = source(server.url("/feed"))
    fetch_one(src, options)
    (options.cache_dir / "show.json").write_text("{not json")
    result = fetch_one(src, options)
    assert result.status is FetchStatus.OK
    assert "damaged cache file" in caplog.text
    assert "if-none-match" not in server.request_headers["/feed"][1]


def test_a_tampered_cached_body_is_not_trusted(server, options, caplog):
    server.routes["/feed"] = serve(FEED, ETag='"v1"')
    src = source(server.url("/feed"))
    fetch_one(src, options)
    (options.cache_dir / "show.body").write_bytes(b"<rss>evil</rss>")
    server.routes["/feed"] = lambda h: h.respond(500)
    result = fetch_one(src, options)
    assert (result.status, read_body(result)) == (FetchStatus.FAILED, None)
    assert "does not match its hash" in caplog.text


def test_local_files_get_the_same_cache_treatment(tmp_path, options):
    path = tmp_path / "show.xml"
    path.write_bytes(FEED)
    src = source(str(path))
    assert fetch_one(src, options).status is FetchStatus.OK
    assert fetch_one(src, options).status is FetchStatus.UNCHANGED
    path.write_bytes(b"<html><body>moved</body></html>")
    broken = fetch_one(src, options)
    assert (broken.status, read_body(broken)) == (FetchStatus.FAILED, FEED)
    path.unlink()
    missing = fetch_one(src, options)
    assert missing.error == f"file not found: {path}"
    assert missing.failures == 2
    path.write_bytes(b"<rss>" + b" " * 2000)
    capped = FetchOptions(**{**_fields(options), "max_bytes": 1000})
    assert fetch_one(src, capped).error == "file larger than 1000 bytes"


def test_a_host_is_asked_over_one_kept_connection(server, options):
    server.routes.update({"/a": dated, "/b": dated, "/c": dated})
    server.routes["/old"] = lambda h: h.respond(301, b"moved", Location=server.url("/c"))
    sources = [source(server.url(p), p[1:]) for p in ("/a", "/b", "/old")]
    assert {r.status for r in fetch_all(sources, options, now=T0)} == {FetchStatus.OK}
    server.peers.clear()
    again = fetch_all(sources, options, now=T0 + timedelta(hours=1))
    assert {r.status for r in again} == {FetchStatus.UNCHANGED}
    # 304s and the redirect were read to the end, so the connection served every request
    assert len(server.peers) == 4 and len(set(server.peers)) == 1


def test_a_host_connection_closes_after_its_last_feed(server, options):
    def after_the_other_host_hung_up(h: Handler) -> None:
        deadline = time.monotonic() + 15  # for a busy machine; the wait ends at the close
        while ["/a"] not in server.closed and time.monotonic() < deadline:
            server.a_connection_closed.wait(0.05)
        h.respond(200 if ["/a"] in server.closed else 503, FEED)

    server.routes.update({"/a": serve(FEED), "/b": after_the_other_host_hung_up})
    sources = [source(server.url("/a"), "a"), source(server.url("/b", "localhost"), "b")]
    patient = FetchOptions(**{**_fields(options), "read_timeout": 20, "deadline": 30})
    results = fetch_all(sources, patient, now=T0)
    assert [r.status for r in results] == [FetchStatus.OK, FetchStatus.OK]


def _fields(options: FetchOptions) -> dict[str, object]:
    return {name: getattr(options, name) for name in FetchOptions.__slots__}


def test_progress_bar_on_a_terminal():
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80)
    done = FetchResult(
        source("http://feeds.example/x", "pipeline-weather"), FetchStatus.OK, b"", ""
    )
    with _reporter(2, None, console) as advance:  # None: decided by whether stderr is a tty
        assert advance is _log_result  # pytest captures stderr, so no bar here
    with _reporter(2, True, console) as advance:
        advance(done)
        console.file.flush()
    assert "pipeline-weather: ok" in screen.getvalue()


def test_quiet_log_lines_when_not_on_a_terminal(server, options, caplog):
    caplog.set_level("INFO", logger="devcasts.fetch.http")
    fetch_all([source(server.url("/gone"), "lost")], options, now=T0)
    assert "lost: failed (HTTP 404 Not Found)" in caplog.text


def test_an_unknown_host_is_a_clear_failure(options):
    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    transport = GuardedTransport(
        lambda ip: None, httpx.Limits(max_connections=2), resolve=no_such_host
    )
    src = source("https://no-such-show.example/feed.xml")
    [result] = asyncio.run(fetch_all_async([src], options, T0, new_transport=lambda: transport))
    assert (result.status, result.error) == (
        FetchStatus.FAILED,
        "could not connect: cannot resolve host no-such-show.example",
    )


def test_an_unwritable_cache_does_not_lose_the_fetch(server, options, tmp_path, caplog):
    server.routes["/feed"] = serve(FEED)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    unwritable = FetchOptions(**{**_fields(options), "cache_dir": blocked})
    result = fetch_one(source(server.url("/feed")), unwritable)
    assert (result.status, read_body(result)) == (FetchStatus.OK, FEED)
    assert "could not write the cache of show" in caplog.text


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[FeedServer, ssl.SSLContext]]:
    """An HTTPS server on 127.0.0.1 whose certificate names feeds.example, and a client
    context that trusts it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=feeds.example",
        "-addext",
        "subjectAltName=DNS:feeds.example",
    ]
    subprocess.run([*command, "-keyout", key, "-out", cert], check=True, capture_output=True)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    httpd = FeedServer()
    httpd.socket = server_side.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd, ssl.create_default_context(cafile=str(cert))
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    ("host", "status"), [("feeds.example", FetchStatus.OK), ("other.example", FetchStatus.FAILED)]
)
def test_https_verifies_the_name_while_connecting_to_the_vetted_address(
    tls_server, options, host, status
):
    server, trust = tls_server
    server.routes["/feed"] = serve(FEED)
    transport = GuardedTransport(
        lambda ip: None, httpx.Limits(max_connections=2), resolve_home, ssl_context=trust
    )
    src = source(f"https://{host}:{server.server_address[1]}/feed")
    [result] = asyncio.run(fetch_all_async([src], options, T0, new_transport=lambda: transport))
    assert result.status is status
    if status is FetchStatus.OK:
        assert read_body(result) == FEED
    else:
        assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error


def test_https_feeds_of_one_host_share_one_connection(tls_server, options):
    server, trust = tls_server
    server.routes.update({"/a": dated, "/b": dated})

    def new_transport() -> GuardedTransport:
        limits = httpx.Limits(max_connections=1)
        return GuardedTransport(lambda ip: None, limits, resolve_home, ssl_context=trust)

    port = server.server_address[1]
    sources = [source(f"https://feeds.example:{port}/{p}", p) for p in ("a", "b")]
    for when in (T0, T0 + timedelta(hours=1)):
        server.peers.clear()
        results = asyncio.run(fetch_all_async(sources, options, when, new_transport=new_transport))
        assert {r.status for r in results} == {
            FetchStatus.OK if when == T0 else FetchStatus.UNCHANGED
        }
        assert len(server.peers) == 2 and len(set(server.peers)) == 1


def test_no_feeds_no_work(options):
    assert fetch_all([], options) == []
    assert not options.cache_dir.exists()


# --- a build that finds nothing new writes nothing ------------------------------------------


def _cache_snapshot(options: FetchOptions) -> dict[str, tuple[int, bytes]]:
    return {
        path.name: (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(options.cache_dir.iterdir())
    }


def test_an_unchanged_feed_leaves_the_cache_untouched(server, options):
    def etag_route(h: Handler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            h.respond(304, ETag='"v1"')
        else:
            h.respond(200, FEED, ETag='"v1"', Content_Type="application/rss+xml")

    server.routes["/feed"] = etag_route
    src = source(server.url("/feed"))
    first = fetch_one(src, options)
    before = _cache_snapshot(options)
    again = fetch_one(src, options, T0 + timedelta(minutes=30))
    assert again.status is FetchStatus.UNCHANGED
    assert again.last_success == T0 + timedelta(minutes=30)  # reported, though not stored
    assert again.content_hash == first.content_hash
    assert _cache_snapshot(options) == before
    # Past the precision, the entry is brought up to date.
    later = fetch_one(src, options, T0 + timedelta(hours=2))
    assert later.status is FetchStatus.UNCHANGED
    assert _cache_snapshot(options) != before
    assert '"last_success": "2026-03-01T14:00:00+00:00"' in (
        options.cache_dir / "show.json"
    ).read_text(encoding="utf-8")


def test_a_changed_entry_is_written_even_right_away(server, options):
    server.routes["/feed"] = serve(FEED, ETag='"v1"')
    src = source(server.url("/feed"))
    fetch_one(src, options)
    server.routes["/feed"] = serve(FEED, ETag='"v2"')  # same bytes, new validator
    again = fetch_one(src, options, T0 + timedelta(minutes=1))
    assert again.status is FetchStatus.UNCHANGED
    assert '"etag": "\\"v2\\""' in (options.cache_dir / "show.json").read_text(encoding="utf-8")


def test_content_hash_is_the_hash_of_the_body_whatever_the_status(server, options):
    server.routes["/feed"] = serve(FEED, ETag='"v1"')
    src = source(server.url("/feed"))
    fresh = fetch_one(src, options)
    unchanged = fetch_one(src, options)
    offline = fetch_one(src, replace(options, offline=True))
    for result in (fresh, unchanged, offline):
        assert read_body(result) == FEED
        assert result.content_hash == hashlib.sha256(FEED).hexdigest()


# --- a build that finds nothing new reads no kept body -----------------------------------


def etag_route(body: bytes, etag: str = '"v1"') -> Route:
    def route(h: Handler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.respond(304, ETag=etag)
        else:
            h.respond(200, body, ETag=etag, Content_Type="application/rss+xml")

    return route


def test_a_304_leaves_the_kept_body_unread(server: FeedServer, options: FetchOptions, caplog):
    server.routes["/feed"] = etag_route(FEED)
    src = source(server.url("/feed"))
    fetch_one(src, options)
    (options.cache_dir / "show.body").write_bytes(b"<rss>tampered</rss>")
    again = fetch_one(src, options, T0 + timedelta(minutes=5))
    assert again.status is FetchStatus.UNCHANGED
    assert again.content_hash == hashlib.sha256(FEED).hexdigest()
    assert "does not match its hash" not in caplog.text  # nothing was read yet


def test_a_kept_body_that_fails_its_check_is_fetched_whole_next_time(
    server: FeedServer, options: FetchOptions, caplog
):
    server.routes["/feed"] = etag_route(FEED)
    src = source(server.url("/feed"))
    fetch_one(src, options)
    (options.cache_dir / "show.body").write_bytes(b"<rss>tampered</rss>")
    stale = fetch_one(src, options, T0 + timedelta(minutes=5))
    assert read_body(stale) is None  # never the tampered bytes
    assert "does not match its hash" in caplog.text
    healed = fetch_one(src, options, T0 + timedelta(minutes=10))
    assert "if-none-match" not in server.request_headers["/feed"][2]
    assert (read_body(healed), healed.content_hash) == (FEED, hashlib.sha256(FEED).hexdigest())
    assert (options.cache_dir / "show.body").read_bytes() == FEED


def test_a_missing_kept_body_means_a_whole_request_at_once(
    server: FeedServer, options: FetchOptions, caplog
):
    server.routes["/feed"] = etag_route(FEED)
    src = source(server.url("/feed"))
    fetch_one(src, options)
    (options.cache_dir / "show.body").unlink()
    result = fetch_one(src, options, T0 + timedelta(minutes=5))
    assert "if-none-match" not in server.request_headers["/feed"][1]
    assert read_body(result) == FEED
    assert "cached body" in caplog.text and "is missing" in caplog.text


def test_an_unchanged_feed_names_its_kept_copy_without_reading_it(
    server: FeedServer, options: FetchOptions
):
    server.routes["/feed"] = etag_route(FEED)
    src = source(server.url("/feed"))
    fetch_one(src, options)
    result = fetch_one(src, options, T0 + timedelta(minutes=5))
    kept = options.cache_dir / "show.body"
    assert result.body == StoredCopy(kept, hashlib.sha256(FEED).hexdigest())
    assert read_body(result) == FEED


def test_a_changed_feed_carries_its_fresh_bytes(server: FeedServer, options: FetchOptions):
    server.routes["/feed"] = etag_route(FEED)
    src = source(server.url("/feed"))
    fetch_one(src, options)
    server.routes["/feed"] = etag_route(FEED_V2, '"v2"')
    changed = fetch_one(src, options, T0 + timedelta(minutes=5))
    assert (changed.status, changed.body) == (FetchStatus.OK, FEED_V2)
    assert changed.content_hash == hashlib.sha256(FEED_V2).hexdigest()


def test_no_cookie_is_kept_or_sent(server: FeedServer, options: FetchOptions):
    server.routes["/a"] = serve(FEED, Set_Cookie="session=abc; Path=/")
    server.routes["/b"] = serve(FEED)
    fetch_one(source(server.url("/a"), "a"), options)
    [first] = server.request_headers["/a"]
    fetch_all([source(server.url("/a"), "a2"), source(server.url("/b"), "b")], options, T0)
    assert "cookie" not in first
    assert all("cookie" not in h for h in server.request_headers["/b"])
    assert all("cookie" not in h for h in server.request_headers["/a"])


# --- dead hosts and the build deadline --------------------------------------------------------


@contextlib.contextmanager
def silent_listener() -> Iterator[tuple[socket.socket, list[socket.socket]]]:
    """A port that accepts connections and never answers (each accepted socket is kept open)."""
    accepted: list[socket.socket] = []
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.05)

        def accept() -> None:
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    accepted.append(listener.accept()[0])

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield listener, accepted
        finally:
            stop.set()
            thread.join(5)
            for sock in accepted:
                sock.close()


def test_a_host_that_never_answers_is_given_up_after_two_timeouts(options):
    fast = FetchOptions(**{**_fields(options), "read_timeout": 0.3})
    with silent_listener() as (listener, accepted):
        port = listener.getsockname()[1]
        sources = [source(f"http://127.0.0.1:{port}/feed{n}", f"s{n}") for n in range(6)]
        results = fetch_all(sources, fast, now=T0)
        asked = len(accepted)
    reasons = [r.error for r in results]
    assert all(r.status is FetchStatus.FAILED for r in results)
    assert reasons[:2] == ["no data for 0.3 s (read timeout)"] * 2
    given_up = "no data for 0.3 s (read timeout) (not asked: 127.0.0.1 failed 2 times in a row)"
    assert reasons[2:] == [given_up] * 4
    assert asked == 2  # the four other feeds never opened a connection


def test_a_host_that_refuses_is_given_up_after_two_failures(options):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sources = [source(f"http://127.0.0.1:{port}/feed{n}", f"s{n}") for n in range(5)]
    results = fetch_all(sources, options, now=T0)
    first = results[0].error
    assert first is not None and first.startswith("could not connect:")
    assert results[1].error == first
    given_up = f"{first} (not asked: 127.0.0.1 failed 2 times in a row)"
    assert [r.error for r in results[2:]] == [given_up] * 3


def test_a_given_up_host_keeps_its_feeds_last_good_copies(server, options):
    sources = [source(server.url(f"/feed{n}"), f"s{n}") for n in range(3)]
    server.routes.update({f"/feed{n}": serve(FEED) for n in range(3)})
    fetch_all(sources, options, now=T0)
    server.routes.update({f"/feed{n}": hang for n in range(3)})
    fast = FetchOptions(**{**_fields(options), "read_timeout": 0.3})
    results = fetch_all(sources, fast, now=T0 + timedelta(hours=1))
    assert [r.status for r in results] == [FetchStatus.FAILED] * 3
    assert [read_body(r) for r in results] == [FEED] * 3
    assert [r.failures for r in results] == [1, 1, 1]
    assert server.hits["/feed2"] == 1  # asked in the first build only


def test_an_answer_between_timeouts_resets_the_count(server, options):
    server.routes.update({"/hang": hang, "/ok": serve(FEED)})
    paths = ["/hang", "/ok", "/hang", "/ok", "/hang", "/hang", "/ok"]
    sources = [source(server.url(p) + f"?n={n}", f"s{n}") for n, p in enumerate(paths)]
    fast = FetchOptions(**{**_fields(options), "read_timeout": 0.3})
    results = fetch_all(sources, fast, now=T0)
    statuses = [r.status for r in results]
    assert statuses[:4] == [FetchStatus.FAILED, FetchStatus.OK, FetchStatus.FAILED, FetchStatus.OK]
    last = results[6].error
    assert last is not None and "not asked: 127.0.0.1 failed 2 times in a row" in last
    assert server.hits["/ok"] == 2  # the last /ok was not asked


def test_the_build_deadline_fails_the_feeds_it_did_not_reach(server, options):
    server.routes.update({"/slow": trickle, "/ok": serve(FEED)})
    sources = [
        source(server.url("/slow"), "slow"),
        source(server.url("/ok"), "late"),  # same host: queued behind the trickle
        source(server.url("/ok", "localhost"), "other"),  # another host: fetched at once
    ]
    tight = FetchOptions(**{**_fields(options), "deadline": 30, "build_deadline": 0.5})
    started = time.monotonic()
    results = fetch_all(sources, tight, now=T0)
    assert time.monotonic() - started < 8  # the trickle lasts 10 s, the feed deadline 30 s
    reason = "build deadline: fetching stopped after 0.5 s"
    assert [(r.status, r.error) for r in results] == [
        (FetchStatus.FAILED, reason),
        (FetchStatus.FAILED, reason),
        (FetchStatus.OK, None),
    ]
    assert server.hits["/ok"] == 1
