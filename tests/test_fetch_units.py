"""The pure parts of fetch: body sniffing, bounded decompression, Retry-After, cache records,
the decisions taken from a server's answer, and the address classification of the guard."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import select
import socket
import ssl
import struct
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpcore
import pytest
from conftest import CORPUS
from hypothesis import given
from hypothesis import strategies as st

from devcasts.fetch.body import BodyError, BoundedDecoder, human_size
from devcasts.fetch.cache import CacheEntry, HttpCache, read_stored, url_fingerprint
from devcasts.fetch.decide import (
    MAX_RETRY_AFTER,
    Exchange,
    decide,
    not_a_feed_reason,
    parse_retry_after,
    precheck,
    truncated_reason,
)
from devcasts.fetch.netguard import (
    GuardedBackend,
    _CaLoadedOnFirstUse,
    _default_ssl_context,
    _is_readable,
    address_problem,
    allow_all,
)
from devcasts.model import FeedSource, FetchStatus

FEED = (Path(__file__).parent / "data" / "fetch" / "tiny-show.xml").read_bytes()
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SOURCE = FeedSource(url="https://pipeline-weather.example/feed.xml", slug="pipeline-weather")


# --- sniffing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not a feed: empty body"),
        (b" \r\n\t ", "not a feed: empty body"),
        (b"<!doctype html>\n<html lang=en>", "not a feed: looks like an HTML page"),
        (b"\xef\xbb\xbf  <HTML><HEAD>", "not a feed: looks like an HTML page"),
        (b"<head><title>Document Moved</title></head>", "not a feed: looks like an HTML page"),
        (b"<!-- cached --><!DOCTYPE html>" + b" " * 5000, "not a feed: looks like an HTML page"),
        (b"ID3\x04\x00\x00\x00\x00\x00#TSSE", "not a feed: binary data"),
        (bytes(range(256)) * 4, "not a feed: binary data"),
        (b"Service temporarily unavailable", "not a feed: plain text, not XML"),
    ],
)
def test_sniff_rejects(body, reason):
    assert not_a_feed_reason(body) == reason


@pytest.mark.parametrize(
    "body",
    [
        FEED,
        b"\n\n<?xml version='1.0'?><rss/>",
        b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "x" "y"><rss version="2.0"></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        b'<rdf:RDF xmlns:rdf="x"></rdf:RDF>',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        "<?xml version='1.0' encoding='utf-16'?><rss/>".encode("utf-16"),
        "<?xml version='1.0' encoding='utf-16be'?><rss/>".encode("utf-16-be"),
        "<?xml version='1.0' encoding='utf-32le'?><rss/>".encode("utf-32-le"),
        b"Warning: a notice from the CMS\n<?xml version='1.0'?><rss></rss>",
        b"<?xml version='1.0'?><!-- a long comment that hides the root -->",
    ],
)
def test_sniff_accepts(body):
    assert not_a_feed_reason(body) is None


@given(st.binary(max_size=2000))
def test_sniff_never_raises(body):
    reason = not_a_feed_reason(body)
    assert reason is None or reason.startswith("not a feed: ")


@given(st.text(max_size=300).filter(lambda t: "<" not in t))
def test_sniff_accepts_any_rss_after_an_xml_declaration(title):
    body = f"<?xml version='1.0' encoding='utf-8'?>\n<rss><channel><title>{title}</title>"
    assert not_a_feed_reason(body.encode("utf-8")) is None


@pytest.mark.corpus
def test_sniff_on_real_feeds_flags_only_the_non_feeds():
    feeds = CORPUS / "feeds"
    flagged = {p.name for p in feeds.iterdir() if not_a_feed_reason(p.read_bytes())}
    assert flagged == {
        "argl_broken_empty-0-bytes.xml",
        "argl_broken_html-error-page.xml",
        "rssparser_broken_document-moved-html.xml",
    }


# --- bodies cut short ------------------------------------------------------------------------

UTF16_FEED = FEED.decode("utf-8").replace("UTF-8", "UTF-16").encode("utf-16")


@pytest.mark.parametrize(
    "body",
    [
        FEED,
        FEED + b"<!-- served from cache -->\n",
        FEED.replace(b"</rss>", b"</RSS >"),
        b"\n\n<?xml version='1.0'?><rss/>",
        b'<rss version="2.0" />',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>',
        b'<rdf:RDF xmlns:rdf="x"><channel/></rdf:RDF>\n',
        b"Warning: a notice from the CMS\n<?xml version='1.0'?><rss></rss>",
        FEED.replace(b"</rss>", b"</rss>" + b" " * 10_000),  # the end tag far from the end
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}\n',
        UTF16_FEED,
        b"<opml version='2.0'><body/></opml>",
        b"<?xml version='1.0'?><!-- no root at all -->",  # for the parser to judge
    ],
)
def test_whole_bodies_are_not_truncated(body):
    assert truncated_reason(body) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (FEED[: len(FEED) // 2], "truncated feed: the document ends before its closing </rss> tag"),
        (FEED[:-3], "truncated feed: the document ends before its closing </rss> tag"),
        (UTF16_FEED[:-12], "truncated feed: the document ends before its closing </rss> tag"),
        (
            b'<rdf:RDF xmlns:rdf="x"><channel><title>t</title>',
            "truncated feed: the document ends before its closing </rdf:RDF> tag",
        ),
        (
            b'{"version": "1.1", "items": [{"id": "1"',
            "truncated feed: the JSON document is not closed",
        ),
    ],
)
def test_bodies_cut_short_are_truncated(body, reason):
    assert truncated_reason(body) == reason


JSON_FEED = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "Cuts",\n "items": [\n'
    b'  {"id": "2", "title": "Two", "attachments": [{"url": "https://c.example/2.mp3"}]},\n'
    b'  {"id": "1", "title": "One", "attachments": [{"url": "https://c.example/1.mp3"}]}\n'
    b"]}\n"
)


def test_every_cut_of_a_json_feed_is_caught_even_just_after_an_inner_brace():
    inner_braces = [cut for cut in range(1, len(JSON_FEED) - 3) if JSON_FEED[cut - 1 : cut] == b"}"]
    assert len(inner_braces) >= 4  # the cuts that end with "}" but are not the end
    assert all(
        truncated_reason(JSON_FEED[:cut]) is not None for cut in range(1, len(JSON_FEED) - 3)
    )
    assert truncated_reason(JSON_FEED) is None


def test_every_cut_of_a_feed_is_caught():
    cuts = range(FEED.index(b"<rss") + 100, len(FEED) - len(b"</rss>\n") + 1)
    assert all(truncated_reason(FEED[:cut]) is not None for cut in cuts)


def test_a_truncated_body_fails_and_keeps_the_last_good_copy():
    entry = CacheEntry(url=SOURCE.url, content_hash="a" * 64, etag='"good"')
    cut = Exchange("body", SOURCE.url, body=FEED[: len(FEED) // 2], headers={"etag": '"cut"'})
    result, new_entry, new_body = decide(SOURCE, entry, FEED, cut, T0)
    assert (result.status, result.body, new_body) == (FetchStatus.FAILED, FEED, None)
    assert result.error == "truncated feed: the document ends before its closing </rss> tag"
    assert (new_entry.content_hash, new_entry.etag, new_entry.failures) == ("a" * 64, '"good"', 1)


@pytest.mark.corpus
def test_on_real_feeds_only_the_unclosed_documents_are_truncated():
    feeds = CORPUS / "feeds"
    flagged = {p.name for p in feeds.iterdir() if truncated_reason(p.read_bytes())}
    assert flagged == {
        "feedparser_broken_ampersand-in-link-unclosed-root.xml",  # ends with "</rss"
        "feedparser_broken_incomplete-cdata.xml",
        "feedparser_broken_unclosed-root.xml",
        "feedparser_enc_invalid-utf8-bytes-after-bom.xml",
        "feedparser_entity_numeric-nbsp.xml",
        "feedrs_reuters_truncated-server-exception.xml",
        "opml_castero_broken-mismatched-end-tag.opml",
    }


# --- bounded decompression --------------------------------------------------------------------


def _decode(encoding: str, data: bytes, limit: int, chunk: int) -> bytes:
    decoder = BoundedDecoder(encoding, limit)
    out = b"".join(decoder.feed(data[i : i + chunk]) for i in range(0, len(data), chunk))
    return out + decoder.finish()


def _deflate_raw(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "identity": lambda data: data,
    "": lambda data: data,
}


@given(
    data=st.binary(max_size=5000),
    encoding=st.sampled_from(sorted(ENCODERS)),
    chunk=st.integers(1, 700),
)
def test_decoding_round_trips_under_the_limit(data, encoding, chunk):
    assert _decode(encoding, ENCODERS[encoding](data), 5000, chunk) == data


@given(data=st.binary(max_size=3000), chunk=st.integers(1, 500))
def test_raw_deflate_without_zlib_header(data, chunk):
    assert _decode("deflate", _deflate_raw(data), 5000, chunk) == data


@given(size=st.integers(1001, 50_000), chunk=st.integers(1, 4000))
def test_decoding_stops_just_past_the_limit(size, chunk):
    packed = gzip.compress(bytes(size))
    decoder = BoundedDecoder("gzip", 1000)
    with pytest.raises(BodyError, match="body larger than 1000 bytes"):
        for i in range(0, len(packed), chunk):
            assert len(decoder.feed(packed[i : i + chunk])) <= 1001
        decoder.finish()
    assert decoder.size <= 1001


def test_a_gzip_bomb_never_expands_in_memory():
    import tracemalloc

    bomb = gzip.compress(bytes(50 * 1024 * 1024))  # 50 MiB of zeros in about 50 KB
    decoder = BoundedDecoder("gzip", 64 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(BodyError, match="body larger than 64 KiB"):
            decoder.feed(bomb)  # the whole bomb in one call: output is bounded all the same
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_concatenated_gzip_members_and_trailing_junk():
    packed = gzip.compress(FEED[:100]) + gzip.compress(FEED[100:]) + b"\x00\x00junk"
    assert _decode("gzip", packed, 10_000, 33) == FEED


def test_an_inner_layer_larger_than_the_limit_is_refused():
    import os

    inner = gzip.compress(os.urandom(5000))  # incompressible: the inner layer stays large
    with pytest.raises(BodyError, match="body larger than 1000 bytes"):
        _decode("gzip, gzip", gzip.compress(inner), 1000, 10_000)


@pytest.mark.parametrize("encoding", ["utf-8", "none", "identity", "text/xml"])
def test_encodings_that_are_no_compression_are_ignored(encoding):
    assert _decode(encoding, FEED, 10_000, 50) == FEED


def test_layered_encodings_are_undone_in_reverse_order():
    packed = gzip.compress(zlib.compress(FEED))
    assert _decode("deflate, gzip", packed, 10_000, 100) == FEED


@pytest.mark.parametrize(
    ("encoding", "data", "message"),
    [
        ("br", b"", "unsupported content encoding 'br'"),
        ("gzip", b"definitely not gzip", "damaged gzip body"),
        ("gzip", gzip.compress(FEED)[:30], "truncated body: the gzip stream ends early"),
        ("deflate", b"", "truncated body: the deflate stream ends early"),
    ],
)
def test_bad_compression_is_a_body_error(encoding, data, message):
    with pytest.raises(BodyError, match=message):
        _decode(encoding, data, 10_000, 7)


def test_human_size():
    assert human_size(20 * 1024 * 1024) == "20 MiB"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(999) == "999 bytes"


# --- Retry-After --------------------------------------------------------------------------------


def test_retry_after_forms():
    assert parse_retry_after("120", T0) == T0 + timedelta(seconds=120)
    assert parse_retry_after("Sun, 01 Mar 2026 13:00:00 GMT", T0) == T0 + timedelta(hours=1)
    assert parse_retry_after("Sat, 01 Mar 2025 13:00:00 GMT", T0) == T0  # in the past: now
    assert parse_retry_after("99999999", T0) == T0 + MAX_RETRY_AFTER
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after("", T0) is None
    assert parse_retry_after(None, T0) is None


@given(st.text(max_size=40))
def test_retry_after_is_none_or_within_a_day(value):
    moment = parse_retry_after(value, T0)
    assert moment is None or T0 <= moment <= T0 + MAX_RETRY_AFTER


# --- the cache record ---------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
entries = st.builds(
    CacheEntry,
    url=st.text(max_size=50),
    etag=st.none() | st.text(max_size=30),
    headers=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3),
    retry_after=st.none() | moments,
    failures=st.integers(0, 10**6),
    first_failure=st.none() | moments,
    last_error=st.none() | st.text(max_size=50),
    moved_count=st.integers(0, 100),
)


@given(entry=entries)
def test_cache_entries_round_trip(tmp_path_factory, entry):
    cache = HttpCache(tmp_path_factory.mktemp("cache"))
    source = replace(SOURCE, url=entry.url)
    cache.save(source, entry, None)
    loaded, body = cache.load(source)
    assert loaded == entry
    assert body is None


def test_cache_keeps_body_and_forgets_validators_when_the_url_changes(tmp_path):
    cache = HttpCache(tmp_path)
    entry = CacheEntry(url=SOURCE.url, etag='"a"', content_hash=_hash(FEED), gone="x")
    cache.save(SOURCE, entry, FEED)
    loaded, body = cache.load(SOURCE)
    assert body is not None and (loaded, read_stored(body)) == (entry, FEED)
    moved = replace(SOURCE, url="https://pipeline-weather.example/new.xml")
    loaded, body = cache.load(moved)
    assert body is not None and read_stored(body) == FEED
    assert (loaded.url, loaded.etag, loaded.gone) == (moved.url, None, None)


def test_a_kept_copy_is_read_only_when_asked_and_forgotten_if_it_fails_its_check(tmp_path):
    cache = HttpCache(tmp_path)
    entry = CacheEntry(url=SOURCE.url, etag='"a"', content_hash=_hash(FEED))
    cache.save(SOURCE, entry, FEED)
    _, copy = HttpCache(tmp_path).load(SOURCE)
    assert copy is not None and copy.content_hash == _hash(FEED)
    copy.path.write_bytes(b"<rss>tampered</rss>")
    assert read_stored(copy) is None
    loaded, body = HttpCache(tmp_path).load(SOURCE)
    assert (loaded.content_hash, loaded.etag, body) == (None, None, None)


@pytest.mark.parametrize(
    "text",
    ["{", "[]", '{"version": 99}', '{"version": 1, "failures": "many"}', '{"version": 1, "x'],
)
def test_damaged_cache_files_read_as_empty(tmp_path, caplog, text):
    cache = HttpCache(tmp_path)
    meta, _ = cache.paths(SOURCE)
    meta.write_text(text)
    assert cache.load(SOURCE) == (CacheEntry(url=SOURCE.url), None)
    assert "damaged cache file" in caplog.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


@given(
    fields=st.dictionaries(st.sampled_from([*CacheEntry.__slots__, "other"]), json_values),
    version=st.sampled_from([1, 1, 1, 2, "1", None]),
)
def test_any_json_in_the_cache_loads_or_reads_as_empty(tmp_path_factory, fields, version):
    import json

    cache = HttpCache(tmp_path_factory.mktemp("cache"))
    meta, _ = cache.paths(SOURCE)
    meta.write_text(json.dumps({**fields, "version": version}))
    entry, body = cache.load(SOURCE)
    assert isinstance(entry, CacheEntry)
    assert body is None


def test_cache_file_names_come_from_a_safe_slug(tmp_path):
    hostile = replace(SOURCE, slug="../../etc/passwd")
    meta, body = HttpCache(tmp_path).paths(hostile)
    assert meta.parent == tmp_path and body.parent == tmp_path
    assert meta.name == "etc-passwd.json"


# --- decisions ----------------------------------------------------------------------------------


def _hash(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_precheck_needs_no_request_when_gone_offline_or_waiting():
    good = CacheEntry(url=SOURCE.url, content_hash=_hash(FEED))
    assert precheck(SOURCE, good, FEED, False, T0) is None
    gone = replace(good, gone=url_fingerprint(SOURCE.url), gone_reason="HTTP 410 Gone")
    assert precheck(SOURCE, gone, FEED, False, T0).status is FetchStatus.GONE
    assert precheck(SOURCE, good, FEED, True, T0).status is FetchStatus.DEFERRED
    local = replace(SOURCE, url="/srv/feeds/show.xml")
    assert precheck(local, good, FEED, True, T0) is None
    waiting = replace(good, retry_after=T0 + timedelta(minutes=5))
    deferred = precheck(SOURCE, waiting, FEED, False, T0)
    assert (deferred.status, deferred.body) == (FetchStatus.DEFERRED, FEED)
    assert precheck(SOURCE, waiting, FEED, False, T0 + timedelta(minutes=5)) is None


def test_decide_new_body_then_same_body():
    fresh = Exchange("body", SOURCE.url, body=FEED, headers={"etag": '"1"', "x-y": "z"})
    result, entry, stored = decide(SOURCE, CacheEntry(url=SOURCE.url), None, fresh, T0)
    assert (result.status, stored, entry.etag) == (FetchStatus.OK, FEED, '"1"')
    assert entry.headers == {"etag": '"1"'}  # only what the parser and the next request need
    again, entry2, stored2 = decide(SOURCE, entry, FEED, fresh, T0)
    assert (again.status, stored2, entry2.last_success) == (FetchStatus.UNCHANGED, None, T0)


def test_decide_304_without_a_cached_copy_is_a_failure_that_drops_validators():
    entry = CacheEntry(url=SOURCE.url, etag='"1"')
    exchange = Exchange("not_modified", SOURCE.url)
    result, after, _ = decide(SOURCE, entry, None, exchange, T0)
    assert result.status is FetchStatus.FAILED
    assert result.error == "HTTP 304 Not Modified, no cached copy"
    assert after.etag is None


def test_decide_counts_a_repeated_permanent_redirect():
    moved = Exchange("body", SOURCE.url, body=FEED, moved_to="https://new.example/feed")
    _, first, _ = decide(SOURCE, CacheEntry(url=SOURCE.url), None, moved, T0)
    _, second, _ = decide(SOURCE, first, FEED, moved, T0)
    assert (first.moved_count, second.moved_count) == (1, 2)
    plain = replace(moved, moved_to=None)
    _, third, _ = decide(SOURCE, second, FEED, plain, T0)
    assert (third.moved_to, third.moved_count) == (None, 0)


def test_a_redirected_feed_that_answers_304_still_counts_its_moves():
    """The report asks to update feeds.yaml once a move repeats; a feed whose new home answers
    304 Not Modified must count as repeating too."""
    moved = Exchange("body", SOURCE.url, body=FEED, moved_to="https://new.example/feed")
    first_result, first, _ = decide(SOURCE, CacheEntry(url=SOURCE.url), None, moved, T0)
    same = Exchange("not_modified", "https://new.example/feed", moved_to=moved.moved_to)
    second_result, second, _ = decide(SOURCE, first, FEED, same, T0)
    assert (first_result.moved_count, second_result.moved_count) == (1, 2)
    assert (second_result.moved_to, second.moved_count) == (moved.moved_to, 2)
    assert second_result.status is FetchStatus.UNCHANGED


# --- address classification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("127.0.0.1", "loopback"),
        ("127.8.8.8", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("2002:7f00:1::1", "6to4 loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::", "6to4 link-local"),  # 6to4 of 169.254.169.254
        ("2002:c0a8:101::1", "6to4 private"),  # 6to4 of 192.168.1.1
        ("2002:808:808::1", None),  # 6to4 of 8.8.8.8: as public as the address it embeds
        ("fec0::1", "site-local"),
        ("feff:ffff::1", "site-local"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private"),  # Teredo
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("172.32.0.1", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_classification(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


FEED_B = FEED.replace(b"Episode 1", b"Episode One")
EXCHANGES = {
    "feed-a": Exchange("body", SOURCE.url, body=FEED, headers={"etag": '"a"'}),
    "feed-b": Exchange("body", SOURCE.url, body=FEED_B),
    "html": Exchange("body", SOURCE.url, body=b"<html><body>503</body></html>"),
    "304": Exchange("not_modified", SOURCE.url),
    "500": Exchange("failed", SOURCE.url, error="HTTP 500 Internal Server Error"),
    "429": Exchange("retry_later", SOURCE.url, error="HTTP 429", retry_at=T0),
}


@given(st.lists(st.sampled_from(sorted(EXCHANGES)), min_size=1, max_size=12))
def test_decisions_over_any_history(kinds):
    """Whatever the servers answer, the result carries the last good copy, the failure streak is
    counted right, and OK means new bytes."""
    entry, stored = CacheEntry(url=SOURCE.url), None
    streak = 0
    for step, kind in enumerate(kinds):
        now = T0 + timedelta(hours=step)
        previous = stored
        result, entry, new_body = decide(SOURCE, entry, stored, EXCHANGES[kind], now)
        stored = new_body if new_body is not None else stored
        failed = kind in ("html", "500") or (kind == "304" and previous is None)
        streak = streak + 1 if failed else 0 if kind != "429" else streak
        assert result.body == stored
        assert result.failures == entry.failures == streak
        assert (result.first_failure is None) == (streak == 0)
        if result.status is FetchStatus.OK:
            assert kind.startswith("feed-") and result.body != previous
        if failed:
            assert result.status is FetchStatus.FAILED and result.last_failure == now
        if kind == "429":
            assert result.status is FetchStatus.DEFERRED


def test_a_literal_address_is_not_looked_up(monkeypatch):
    import anyio

    from devcasts.fetch.netguard import system_resolve

    async def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("getaddrinfo called for a literal address")

    monkeypatch.setattr(anyio, "getaddrinfo", refuse)
    assert asyncio.run(system_resolve("127.0.0.7", 80)) == ["127.0.0.7"]
    assert asyncio.run(system_resolve("::1", 80)) == ["::1"]
    with pytest.raises(AssertionError):  # a name (or an odd spelling of an address) is resolved
        asyncio.run(system_resolve("127.1", 80))


def test_retry_after_with_digits_int_cannot_read_is_none():
    assert parse_retry_after("²", T0) is None
    assert parse_retry_after("١٢", T0) is None  # Arabic-Indic digits


# --- the TLS context ---------------------------------------------------------------------------


def test_the_default_context_verifies_like_ssl_default_context():
    ours, reference = _CaLoadedOnFirstUse(ssl.PROTOCOL_TLS_CLIENT), ssl.create_default_context()
    for setting in ("verify_mode", "check_hostname", "options", "minimum_version", "verify_flags"):
        assert getattr(ours, setting) == getattr(reference, setting), setting


def test_the_ca_bundle_is_loaded_for_the_first_tls_connection_only():
    context = _CaLoadedOnFirstUse(ssl.PROTOCOL_TLS_CLIENT)
    assert context.cert_store_stats()["x509_ca"] == 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="feeds.example")
    loaded = context.cert_store_stats()["x509_ca"]
    assert loaded > 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="feeds.example")
    assert context.cert_store_stats()["x509_ca"] == loaded  # not loaded twice
    assert _default_ssl_context() is _default_ssl_context()


# --- the plain connection -------------------------------------------------------------------


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_an_idle_connection_is_readable_once_the_server_closes_or_talks(pair):
    ours, theirs = pair
    assert not _is_readable(ours)  # idle and open: fit to be reused
    theirs.sendall(b"HTTP/1.1 200 OK\r\n")
    assert _is_readable(ours)  # unasked bytes: not reused
    ours.recv(100)
    theirs.close()
    assert _is_readable(ours)  # closed by the server: not reused


def test_a_connection_reset_before_the_tls_handshake_is_a_connect_error():
    async def reset_then_start_tls(listener: socket.socket) -> socket.socket:
        port = listener.getsockname()[1]
        stream = await GuardedBackend(allow_all).connect_tcp("127.0.0.1", port, timeout=2)
        sock = stream.get_extra_info("socket")
        accepted, _ = listener.accept()
        accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        accepted.close()  # linger 0: the server answers with a reset
        select.select([sock], [], [], 2)  # the reset has arrived
        with pytest.raises(httpcore.ConnectError, match="before the TLS handshake"):
            await stream.start_tls(ssl.create_default_context(), "feeds.example", timeout=2)
        return sock

    with socket.create_server(("127.0.0.1", 0)) as listener:
        sock = asyncio.run(reset_then_start_tls(listener))
    assert sock.fileno() == -1  # closed, not left to the garbage collector
