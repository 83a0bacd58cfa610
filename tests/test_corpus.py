"""Parse and normalize every real-world feed of the corpus without a crash.

Each file is its own test case and prints what was kept (run with -s to see it). Only the files
that are not feeds may raise NotAFeedError; any other exception fails.
"""

from __future__ import annotations

import csv
import re
import time
from datetime import UTC, datetime
from functools import cache

import pytest
from conftest import CORPUS

from devcasts.catalog.dedupe import merge_across_feeds
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import FeedSource, Topic
from devcasts.records import Episode, NormalizedFeed, NotAFeedError
from devcasts.util.text import slugify

FEEDS = CORPUS / "feeds"
NOW = datetime(2026, 7, 2, tzinfo=UTC)
TOPICS = (
    Topic("kubernetes", "Kubernetes", ("Kubernetes", "k8s")),
    Topic("aws", "AWS", ("AWS", "Amazon Web Services")),
)
# What the MANIFEST says about files that are not feeds at all.
_NOT_A_FEED_NOTES = re.compile(
    r"not a feed|zero-byte|no root element|instead of <channel>|no channel at all"
    r"|only a comment|ill-formed: root end tag|^OPML",
    re.IGNORECASE,
)
# Well-formed test documents whose channel holds neither a title nor an item.
_EMPTY_CHANNELS = frozenset(
    {
        "feedparser_broken_undeclared-itunes-namespace.xml",
        "feedparser_date_greek-high-bit-pubdate-iso-8859-7.xml",
        "feedparser_enc_big5.xml",
        "feedparser_enc_bogus-declared-encoding.xml",
        "feedparser_enc_utf-16be-no-bom-autodetect.xml",
        "feedparser_enc_utf-16le-bom.xml",
        "feedparser_enc_utf-32le-autodetect.xml",
        "feedparser_itunes_empty-image-no-href.xml",
        "feedparser_itunes_namespace-uri-uppercase.xml",
        "feedparser_itunes_nested-category.xml",
        "gpodder_image-url-whitespace.rss",
    }
)
# Large feeds that must come out with (nearly) all their items as episodes.
_MIN_EPISODES = {
    "argl_radiolemans_iso-8859-1_no-guid.xml": 790,
    "argl_woodsongs-vodcast_win1252_dup-guids.xml": 270,
    "engineeringkiosk_2026-07-01_redcircle.xml": 276,
    "jb_coder-radio_2025-06.xml": 568,
    "rssparser_giant-bombcast_730-items_PST-dates.xml": 730,
    "partytime_no-agenda.xml": 29,
    "nnw_jsonfeed-1.1_3960-blog.json": 20,
}

pytestmark = pytest.mark.corpus


@cache
def manifest_notes() -> dict[str, str]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row["notes"] for row in csv.DictReader(handle, delimiter="\t")}


def corpus_files() -> list[str]:
    return sorted(path.name for path in FEEDS.iterdir()) if FEEDS.is_dir() else []


def may_be_not_a_feed(name: str) -> bool:
    return name in _EMPTY_CHANNELS or bool(_NOT_A_FEED_NOTES.search(manifest_notes().get(name, "")))


def build(name: str, slug: str | None = None) -> NormalizedFeed:
    source = FeedSource(url=f"https://feeds.example.com/{name}", slug=slug or slugify(name))
    parsed = parse_feed((FEEDS / name).read_bytes(), {}, source.url)
    return normalize_feed(source, parsed, TOPICS, NOW, source.url)


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_file(name: str) -> None:
    size = (FEEDS / name).stat().st_size
    started = time.perf_counter()
    try:
        result = build(name)
    except NotAFeedError as error:
        assert may_be_not_a_feed(name), f"{name}: unexpectedly not a feed: {error}"
        print(f"{name}: not a feed ({error})")
        return
    elapsed = time.perf_counter() - started
    assert not name.endswith(".opml"), "an OPML list must not pass as a feed"
    episodes = result.episodes
    kept = len(episodes) + result.dropped + result.merged
    print(
        f"{name}: items={kept} episodes={len(episodes)} dropped={result.dropped} "
        f"merged={result.merged} {size / 1e6:.2f} MB in {elapsed:.2f} s"
    )
    assert len(episodes) >= _MIN_EPISODES.get(name, 0)
    assert len({episode.id for episode in episodes}) == len(episodes)
    for episode in episodes:
        assert_safe(episode)


def assert_safe(episode: Episode) -> None:
    assert episode.title
    assert len(episode.summary) <= 300
    assert episode.published <= NOW
    assert "<script" not in episode.notes_html.lower()
    assert episode.enclosure is None or episode.enclosure.url.startswith(("http://", "https://"))
    assert episode.link is None or episode.link.startswith(("http://", "https://"))


def test_two_snapshots_of_one_feed_merge_into_one_set_of_episodes() -> None:
    older = build("fountain_this-week-in-bitcoin_2025-06_OLDER-SNAPSHOT.xml", "older")
    newer = build("fountain_this-week-in-bitcoin_2025-11.xml", "newer")
    merged = merge_across_feeds(older.episodes + newer.episodes)
    assert len(merged) == len(newer.episodes)
    assert sum(1 for episode in merged if episode.also_in) == len(older.episodes)


def test_psc_chapters_and_podcast_people_survive_on_real_feeds() -> None:
    cre = build("argl_chaosradio-express_psc-chapters.xml").episodes
    assert sum(len(episode.chapters) for episode in cre) > 200
    coder_radio = build("jb_coder-radio_2025-06.xml").episodes
    assert sum(len(episode.people) for episode in coder_radio) > 1000
