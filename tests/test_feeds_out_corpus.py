"""Real-world feeds, parsed and normalized, then republished: every item and enclosure survives
feedparser, podcastparser and our rules (skipped when the corpus is absent)."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

import feedparser
import podcastparser
import pytest
from conftest import CORPUS

from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import FeedSource, SiteConfig, Topic
from devcasts.publish.feeds import feed_documents
from devcasts.records import Catalog
from devcasts.tools.feedcheck import check_feed, errors
from devcasts.util.episode_dates import newest_first_key

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SITE = SiteConfig(title="Corpus", base_url="https://example.org/site/", feed_limit=40)
TOPICS = (Topic("kubernetes", "Kubernetes", ("Kubernetes",)),)
# Long notes, podcast:person/transcript/chapters, Windows-1252 with repeated guids, the
# podcast namespace's own feed, negative episode numbers, chapters in several time formats.
FEEDS = [
    "argl_accidental-tech-podcast.xml",
    "jb_self-hosted_2025-06.xml",
    "partytime_podcast-namespace-example.xml",
    "argl_woodsongs-vodcast_win1252_dup-guids.xml",
    "partytime_podcasting20.xml",
    "gpodder_itunes-episode-negative.rss",
    "artsy_engineering-radio_buzzsprout.xml",
    "argl_chaosradio-express_psc-chapters.xml",
]

pytestmark = pytest.mark.corpus


def republish(name: str) -> tuple[Catalog, dict[str, bytes]]:
    path = CORPUS / "feeds" / name
    source = FeedSource(url="https://feeds.example/" + name, slug="show")
    parsed = parse_feed(path.read_bytes(), {}, source.url)
    normalized = normalize_feed(source, parsed, TOPICS, NOW, source.url)
    # The archive gives each episode its permanent slug; the id stands in for it here. Undated
    # episodes stay out of our feeds (test_dates_publisher.py): here every one counts as dated.
    episodes = tuple(
        sorted(
            [dataclasses.replace(e, slug=e.id, date_estimated=False) for e in normalized.episodes],
            key=newest_first_key,
        )
    )
    catalog = Catalog(
        site=SITE,
        topics=TOPICS,
        podcasts=(normalized.podcast,),
        episodes=episodes,
        built_at=episodes[0].published if episodes else None,
    )
    return catalog, dict(feed_documents(catalog))


@pytest.mark.parametrize("name", FEEDS)
def test_real_feeds_republish_cleanly(name: str) -> None:
    catalog, docs = republish(name)
    with_audio = [e for e in catalog.episodes if e.enclosure is not None][: SITE.feed_limit]
    assert with_audio, "the fixture should have episodes with audio"
    data = docs["feed.xml"]
    parsed = feedparser.parse(data, response_headers={"content-type": "application/rss+xml"})
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [entry.enclosures[0].href for entry in parsed.entries] == [
        e.enclosure.url for e in with_audio if e.enclosure
    ]
    gpodder = podcastparser.parse(SITE.base_url + "feed.xml", io.BytesIO(data))
    assert sorted(e["guid"] for e in gpodder["episodes"]) == sorted(
        f"devcasts:{e.id}" for e in with_audio
    )
    assert all(len(e["enclosures"]) == 1 for e in gpodder["episodes"])
    for path, document in docs.items():
        assert errors(check_feed(document)) == [], path
    assert feed_documents(catalog) == list(docs.items())  # deterministic
