"""The feeds we publish: RSS 2.0 podcast feeds per site and topic, and a JSON Feed 1.1."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import podcastparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devcasts.model import SiteConfig, Topic
from devcasts.publish.feeds import (
    DESCRIPTION_LIMIT,
    FULL_NOTES_LABEL,
    clean,
    description_html,
    feed_documents,
    fit_html,
    item_description,
    podcast_guid,
    top_level_pieces,
)
from devcasts.records import Catalog, Chapter, Enclosure, Episode, Person, Podcast, Transcript
from devcasts.site import urls
from devcasts.tools import feedcheck

BASE = "https://example.org/devcasts/"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_episode(index: int, podcast: str = "deploy-talk", **changes: object) -> Episode:
    number = index
    episode = Episode(
        id=f"ep{number:04d}",
        podcast=podcast,
        guid=f"urn:show:{podcast}:{number}",
        title=f"Shipping containers, part {number}",
        published=START - timedelta(days=number),
        link=f"https://deploy-talk.example/episodes/{number}",
        summary=f"We talk about shipping part {number}.",
        notes_html=(
            f"<h2>Part {number}</h2><p>We move an app to <strong>Fly.io</strong>.</p>"
            '<ul><li>Volumes</li><li><a href="https://fly.example/docs">Docs</a></li></ul>'
        ),
        duration=1800 + number,
        enclosure=Enclosure(
            f"https://cdn.deploy-talk.example/audio/{number}.mp3", "audio/mpeg", 12_000_000
        ),
        topics=("flyio",) if number % 2 else ("heroku",),
        image=f"https://cdn.deploy-talk.example/art/{number}.jpg",
        number=number,
        season=1,
        explicit=False,
        slug=f"part-{number}",
    )
    return dataclasses.replace(episode, **changes)  # type: ignore[arg-type]


def sample_catalog(**site_changes: object) -> Catalog:
    site = SiteConfig(
        title="Dev Deploy Radio",
        base_url=BASE,
        description="Episodes about deploying web apps, from several shows.",
        author="The Deploy Radio crew",
        email="crew@example.org",
        feed_limit=100,
    )
    site = dataclasses.replace(site, **site_changes)  # type: ignore[arg-type]
    podcasts = (
        Podcast(
            slug="deploy-talk",
            title="Deploy Talk",
            feed_url="https://deploy-talk.example/feed.rss",
            link="https://deploy-talk.example/",
            image="https://deploy-talk.example/cover.png",
            language="en",
            author="Ada and Brian",
            explicit=False,
        ),
        Podcast(
            slug="yaml-hour",
            title="The YAML Hour",
            feed_url="https://yaml-hour.example/podcast.xml",
            explicit=True,
        ),
    )
    episodes = [make_episode(n) for n in range(1, 6)]
    episodes.append(
        make_episode(
            6,
            podcast="yaml-hour",
            title="Indentation & <tabs>",
            enclosure=Enclosure("https://yaml-hour.example/6.m4a", "audio/x-m4a", None),
            explicit=None,
            number=None,
            season=None,
            chapters=(Chapter(0, "Intro"), Chapter(95.5, "Tabs")),
            people=(
                Person("Carla Gómez", "carla-gomez", "host", "https://carla.example/", None),
                Person("Dev Null", "dev-null", "Guest", None, "https://carla.example/dn.png"),
            ),
            transcripts=(Transcript("https://yaml-hour.example/6.vtt", "text/vtt", "en"),),
            topics=("heroku", "flyio"),
        )
    )
    episodes.append(make_episode(7, title="Bonus: no audio", enclosure=None))
    episodes.append(
        make_episode(8, chapters_url="https://deploy-talk.example/8/chapters.json", topics=())
    )
    episodes.sort(key=lambda e: (-e.published.timestamp(), e.id))
    return Catalog(
        site=site,
        topics=(
            Topic("heroku", "Heroku", ("Heroku",)),
            Topic("flyio", "Fly.io", ("Fly.io",), "Episodes about Fly.io."),
        ),
        podcasts=podcasts,
        episodes=tuple(episodes),
        built_at=episodes[0].published,
    )


def documents(catalog: Catalog | None = None) -> dict[str, bytes]:
    return dict(feed_documents(catalog or sample_catalog()))


def test_paths_of_published_feeds() -> None:
    assert list(documents()) == [
        "feed.xml",
        "topics/heroku/feed.xml",
        "topics/flyio/feed.xml",
        "feed.json",
    ]


def rss_feeds(docs: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in docs.items() if path.endswith(".xml")}


def expected_rss_episodes(catalog: Catalog, topic: str | None = None) -> list[Episode]:
    return [
        e
        for e in catalog.episodes
        if e.enclosure is not None and (topic is None or topic in e.topics)
    ][: catalog.site.feed_limit]


def channel_of(data: bytes) -> ET.Element:
    channel = ET.fromstring(data).find("channel")
    assert channel is not None
    return channel


# --- conformance: independent parsers and our own rules ---------------------------------------


@pytest.mark.parametrize("topic", [None, "heroku", "flyio"])
def test_feedparser_reads_every_item_and_enclosure(topic: str | None) -> None:
    catalog = sample_catalog()
    path = "feed.xml" if topic is None else f"topics/{topic}/feed.xml"
    parsed = feedparser.parse(
        documents(catalog)[path], response_headers={"content-type": "application/rss+xml"}
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    expected = expected_rss_episodes(catalog, topic)
    assert [entry.id for entry in parsed.entries] == [f"devcasts:{e.id}" for e in expected]
    for entry, episode in zip(parsed.entries, expected, strict=True):
        assert episode.enclosure is not None
        assert entry.title == episode.title
        assert entry.link == BASE + urls.episode(episode)
        assert entry.published_parsed[:6] == episode.published.timetuple()[:6]
        (enclosure,) = entry.enclosures
        assert enclosure.href == episode.enclosure.url
        assert enclosure.type == episode.enclosure.type
        assert int(enclosure.length) == (episode.enclosure.length or 0)
        assert entry.itunes_duration == str(episode.duration)
    assert parsed.feed.title.startswith("Dev Deploy Radio")


@pytest.mark.parametrize("path", ["feed.xml", "topics/heroku/feed.xml", "topics/flyio/feed.xml"])
def test_podcastparser_reads_every_item_and_enclosure(path: str) -> None:
    catalog = sample_catalog()
    topic = None if path == "feed.xml" else path.split("/")[1]
    parsed = podcastparser.parse(BASE + path, io.BytesIO(documents(catalog)[path]))
    expected = expected_rss_episodes(catalog, topic)
    by_guid = {episode["guid"]: episode for episode in parsed["episodes"]}
    assert sorted(by_guid) == sorted(f"devcasts:{e.id}" for e in expected)
    for episode in expected:
        assert episode.enclosure is not None
        got = by_guid[f"devcasts:{episode.id}"]
        assert got["title"] == episode.title
        assert got["total_time"] == episode.duration
        (enclosure,) = got["enclosures"]
        assert enclosure["url"] == episode.enclosure.url
        assert enclosure["mime_type"] == episode.enclosure.type
        # podcastparser reads our "unknown" length 0 as its own unknown, -1.
        assert enclosure["file_size"] == (episode.enclosure.length or -1)
    assert parsed["cover_url"] == BASE + "static/cover.png"
    assert parsed["itunes_categories"] == [["Technology"]]


def test_our_rules_find_nothing_in_our_feeds() -> None:
    for path, data in documents().items():
        assert feedcheck.check_feed(data) == [], path


def test_json_feed_fields() -> None:
    catalog = sample_catalog()
    feed = json.loads(documents(catalog)["feed.json"])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == BASE + "feed.json"
    assert feed["home_page_url"] == BASE
    assert feed["language"] == "en"
    assert feed["authors"] == [{"name": "The Deploy Radio crew", "url": BASE}]
    # Episodes without audio stay in the JSON Feed (it is not only for podcast apps).
    assert [item["id"] for item in feed["items"]] == [f"devcasts:{e.id}" for e in catalog.episodes]
    first = feed["items"][0]
    assert first["date_published"] == "2025-02-28T12:00:00Z"
    assert first["tags"] == ["Fly.io"]
    assert first["external_url"] == "https://deploy-talk.example/episodes/1"
    assert first["attachments"] == [
        {
            "url": "https://cdn.deploy-talk.example/audio/1.mp3",
            "mime_type": "audio/mpeg",
            "size_in_bytes": 12_000_000,
            "duration_in_seconds": 1801,
        }
    ]
    unknown_size = next(i for i in feed["items"] if i["id"] == "devcasts:ep0006")
    assert "size_in_bytes" not in unknown_size["attachments"][0]
    no_audio = next(i for i in feed["items"] if i["id"] == "devcasts:ep0007")
    assert "attachments" not in no_audio
    assert "<strong>Fly.io</strong>" in first["content_html"]


# --- what goes into the feeds ----------------------------------------------------------------


def test_channel_elements() -> None:
    channel = channel_of(documents()["feed.xml"])
    assert channel.findtext("title") == "Dev Deploy Radio"
    assert channel.findtext("link") == BASE
    assert channel.findtext("language") == "en"
    assert channel.findtext(f"{ITUNES}block") == "yes"
    assert channel.findtext(f"{PODCAST}block") == "yes"
    assert channel.findtext(f"{ITUNES}explicit") == "true"  # The YAML Hour is explicit
    assert channel.findtext(f"{PODCAST}guid") == podcast_guid(BASE + "feed.xml")
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.attrib == {
        "href": BASE + "feed.xml",
        "rel": "self",
        "type": "application/rss+xml",
    }
    # Dates come from the archive, never from the clock.
    assert channel.findtext("lastBuildDate") == "Fri, 28 Feb 2025 12:00:00 GMT"
    assert channel.findtext("pubDate") == "Fri, 28 Feb 2025 12:00:00 GMT"


def test_podcast_guid_follows_the_namespace_example() -> None:
    # The example given by the podcast namespace's documentation.
    expected = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == expected
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml//") == expected


def test_block_can_be_turned_off() -> None:
    channel = channel_of(documents(sample_catalog(block=False))["feed.xml"])
    assert channel.findtext(f"{ITUNES}block") == "no"
    assert channel.findtext(f"{PODCAST}block") == "no"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (None, BASE + "static/cover.png"),
        ("img/logo.png", BASE + "img/logo.png"),
        ("/img/logo.png", BASE + "img/logo.png"),
        ("https://cdn.example.net/a.jpg", "https://cdn.example.net/a.jpg"),
        ("javascript:alert(1)", BASE + "static/cover.png"),
    ],
)
def test_site_image(image: str | None, expected: str) -> None:
    channel = channel_of(documents(sample_catalog(image=image))["feed.xml"])
    itunes_image = channel.find(f"{ITUNES}image")
    assert itunes_image is not None
    assert itunes_image.get("href") == expected
    assert channel.findtext("image/url") == expected


def test_without_email_there_is_no_owner_and_author_falls_back_to_title() -> None:
    channel = channel_of(documents(sample_catalog(email="", author=""))["feed.xml"])
    assert channel.find(f"{ITUNES}owner") is None
    assert channel.findtext(f"{ITUNES}author") == "Dev Deploy Radio"


def test_feed_limit_keeps_the_newest() -> None:
    catalog = sample_catalog(feed_limit=3)
    docs = documents(catalog)
    guids = [i.findtext("guid") for i in channel_of(docs["feed.xml"]).findall("item")]
    assert guids == ["devcasts:ep0001", "devcasts:ep0002", "devcasts:ep0003"]
    assert len(json.loads(docs["feed.json"])["items"]) == 3


def test_items_without_audio_are_left_out_of_podcast_feeds() -> None:
    data = documents()["feed.xml"]
    guids = [i.findtext("guid") for i in channel_of(data).findall("item")]
    assert "devcasts:ep0007" not in guids
    assert len(guids) == 7


def test_topic_feed_holds_only_its_topic() -> None:
    catalog = sample_catalog()
    channel = channel_of(documents(catalog)["topics/heroku/feed.xml"])
    assert channel.findtext("title") == "Dev Deploy Radio: Heroku"
    assert channel.findtext("link") == BASE + "topics/heroku/"
    assert channel.findtext("description") == "Dev Deploy Radio: episodes about Heroku."
    guids = [i.findtext("guid") for i in channel.findall("item")]
    assert guids == ["devcasts:ep0002", "devcasts:ep0004", "devcasts:ep0006"]
    assert channel.findtext(f"{PODCAST}guid") == podcast_guid(BASE + "topics/heroku/feed.xml")


def test_item_elements() -> None:
    items = {i.findtext("guid"): i for i in channel_of(documents()["feed.xml"]).findall("item")}
    yaml_item = items["devcasts:ep0006"]
    assert yaml_item.findtext("title") == "Indentation & <tabs>"
    enclosure = yaml_item.find("enclosure")
    assert enclosure is not None
    assert enclosure.attrib == {
        "url": "https://yaml-hour.example/6.m4a",
        "length": "0",  # unknown: 0, as the RSS Best Practices Profile says
        "type": "audio/x-m4a",
    }
    assert yaml_item.findtext(f"{ITUNES}explicit") == "true"  # from the show
    assert yaml_item.find(f"{ITUNES}episode") is None
    source = yaml_item.find("source")
    assert source is not None
    assert (source.text, source.get("url")) == (
        "The YAML Hour",
        "https://yaml-hour.example/podcast.xml",
    )
    chapters = yaml_item.find(f"{PODCAST}chapters")
    assert chapters is not None
    assert chapters.attrib == {
        "url": BASE + "podcasts/yaml-hour/part-6/chapters.json",
        "type": "application/json+chapters",
    }
    transcript = yaml_item.find(f"{PODCAST}transcript")
    assert transcript is not None
    assert transcript.attrib == {
        "url": "https://yaml-hour.example/6.vtt",
        "type": "text/vtt",
        "language": "en",
    }
    people = [(p.text, p.attrib) for p in yaml_item.findall(f"{PODCAST}person")]
    assert people == [
        ("Carla Gómez", {"role": "host", "href": "https://carla.example/"}),
        ("Dev Null", {"role": "guest", "img": "https://carla.example/dn.png"}),
    ]
    assert [c.text for c in yaml_item.findall("category")] == ["Heroku", "Fly.io"]
    first = items["devcasts:ep0001"]
    assert first.findtext(f"{ITUNES}duration") == "1801"
    assert first.findtext(f"{ITUNES}episode") == "1"
    assert first.findtext(f"{ITUNES}season") == "1"
    assert first.findtext(f"{ITUNES}explicit") == "false"
    assert first.find(f"{PODCAST}chapters") is None
    own_chapters = items["devcasts:ep0008"].find(f"{PODCAST}chapters")
    assert own_chapters is not None
    assert own_chapters.get("url") == "https://deploy-talk.example/8/chapters.json"


def test_description_keeps_only_the_tags_apple_allows() -> None:
    item = channel_of(documents()["feed.xml"]).find("item")
    assert item is not None
    assert item.findtext("description") == (
        "<p>Part 1</p><p>We move an app to Fly.io.</p>"
        '<ul><li>Volumes</li><li><a href="https://fly.example/docs">Docs</a></li></ul>'
    )


def test_long_notes_are_cut_after_a_whole_element() -> None:
    paragraphs = [f"<p>Paragraph {n}: {'deploy ' * 40}</p>" for n in range(40)]
    episode = make_episode(1, notes_html="<h2>Intro</h2>" + "".join(paragraphs))
    page = BASE + urls.episode(episode)
    description = item_description(episode, page)
    assert len(description.encode()) <= DESCRIPTION_LIMIT
    more = f'<p><a href="{page}">{FULL_NOTES_LABEL}</a></p>'
    assert description.endswith(more)
    kept = description.removesuffix(more)
    assert kept.startswith("<p>Intro</p><p>Paragraph 0: ")
    assert kept.endswith("</p>")
    kept_pieces = top_level_pieces(kept)
    assert len(kept_pieces) >= 5
    assert kept_pieces == top_level_pieces(description_html(episode.notes_html))[: len(kept_pieces)]


def test_one_giant_paragraph_becomes_cut_text() -> None:
    notes = "<p>" + "Kubernetes &amp; friends. " * 400 + "</p>"
    description = item_description(make_episode(1, notes_html=notes), BASE + "x/")
    assert len(description.encode()) <= DESCRIPTION_LIMIT
    assert description.startswith("<p>Kubernetes &amp; friends. ")
    assert "…</p>" in description
    assert re.search(r"&[a-z]*…", description) is None  # no entity split by the cut


def test_empty_notes_fall_back_to_the_summary() -> None:
    episode = make_episode(1, notes_html="", summary="Short & sweet")
    assert item_description(episode, BASE) == "<p>Short &amp; sweet</p>"


def test_notes_are_sanitized_again() -> None:
    notes = (
        '<p onclick="x()">Hi<script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">bad</a><img src="https://t.example/p.gif">'
        '<p><a href="/relative/page">relative</a> <a href=" https://ok.example/">ok</a></p>'
        "<svg><text>drawn</text></svg><style>p { color: red }</style>"
    )
    description = item_description(make_episode(1, notes_html=notes), BASE)
    assert "script" not in description
    assert "onclick" not in description
    assert "javascript" not in description
    assert "<img" not in description
    assert "<a>relative</a>" in description  # a relative link means nothing in an app
    assert '<a href="https://ok.example/">ok</a>' in description
    assert "drawn" not in description
    assert "color" not in description


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<ul>",
                "<li>",
                "</li>",
                "</ul>",
                "<h2>",
                "</h2>",
                "<br>",
                "a",
                " ",
                "é",
                "&amp;",
                "&",
                "<",
                '<a href="https://x.example/?a=1&b=2">',
                "</a>",
                "\x00",
            ]
        ),
        max_size=600,
    ).map("".join),
    st.integers(min_value=200, max_value=4000),
)
def test_descriptions_always_fit_and_use_allowed_tags(notes: str, limit: int) -> None:
    episode = make_episode(1, notes_html=notes * 3)
    description = item_description(episode, BASE + urls.episode(episode), limit)
    assert len(description.encode()) <= limit
    tags = set(re.findall(r"</?([a-z0-9]+)", description))
    assert tags <= {"p", "ol", "ul", "li", "a"}


def test_fit_html_returns_short_fragments_unchanged() -> None:
    assert fit_html("<p>ok</p>", 100, BASE) == "<p>ok</p>"


# --- hostile input and stability -------------------------------------------------------------

HOSTILE = "]]> <b>&amp; & \x00\x08 \ud800 \ufffe\x7f \U0001f600 </channel>"


def test_hostile_text_keeps_every_feed_well_formed() -> None:
    catalog = sample_catalog(title="Site " + HOSTILE, description=HOSTILE, author=HOSTILE)
    podcast = dataclasses.replace(catalog.podcasts[0], title=HOSTILE, author=HOSTILE)
    episode = make_episode(
        1,
        title=HOSTILE,
        notes_html=HOSTILE,
        summary=HOSTILE,
        people=(Person(HOSTILE, "p", HOSTILE, "https://x.example/\x00", None),),
        transcripts=(Transcript("https://x.example/t.vtt", HOSTILE, HOSTILE),),
        enclosure=Enclosure("https://x.example/a.mp3", "audio/mpeg" + HOSTILE, 10),
    )
    catalog = dataclasses.replace(catalog, podcasts=(podcast,), episodes=(episode,))
    for path, data in documents(catalog).items():
        if path.endswith(".json"):
            assert json.loads(data)["items"][0]["title"] == clean(HOSTILE)
            continue
        channel = channel_of(data)
        title = "Site " + clean(HOSTILE) if path == "feed.xml" else None
        assert title is None or channel.findtext("title") == title
        assert not feedparser.parse(data).bozo
        assert feedcheck.errors(feedcheck.check_feed(data)) == [], path
    item = channel_of(documents(catalog)["feed.xml"]).find("item")
    assert item is not None
    assert item.findtext("title") == clean(HOSTILE)
    assert "\x00" not in item.findtext("title", "")
    assert b"\xed\xa0\x80" not in documents(catalog)["feed.xml"]  # no encoded surrogate


def test_clean_removes_what_xml_forbids() -> None:
    assert clean("a\x00b\x0bc\ud800d\ufffee\tf\ng") == "abcde\tf\ng"
    assert clean(None) == ""


hostile_text = st.text(max_size=60)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=hostile_text,
    podcast_title=hostile_text,
    notes=hostile_text,
    person=hostile_text,
    site_title=hostile_text,
    topic_name=hostile_text,
    url_tail=hostile_text,
    mime=hostile_text,
)
def test_any_text_in_any_field_still_parses(
    title: str,
    podcast_title: str,
    notes: str,
    person: str,
    site_title: str,
    topic_name: str,
    url_tail: str,
    mime: str,
) -> None:
    base = sample_catalog(
        title=site_title, description=notes, author=person, email=person, language=mime
    )
    podcast = dataclasses.replace(
        base.podcasts[0], title=podcast_title, author=person, link="https://p.example/" + url_tail
    )
    episode = make_episode(
        1,
        title=title,
        notes_html=notes,
        summary=notes,
        people=(Person(person, "p", person, "https://h.example/" + url_tail, url_tail),),
        transcripts=(Transcript("https://t.example/" + url_tail, mime, person),),
        enclosure=Enclosure("https://e.example/" + url_tail, mime, 5),
        chapters_url=url_tail,
        image=url_tail,
        link=url_tail,
    )
    catalog = dataclasses.replace(
        base,
        topics=(Topic("flyio", topic_name, ()),),
        podcasts=(podcast,),
        episodes=(episode,),
    )
    for path, data in feed_documents(catalog):
        if path.endswith(".json"):
            assert json.loads(data)["version"].endswith("1.1")
        else:
            assert ET.fromstring(data).tag == "rss"
            assert feedcheck.errors(feedcheck.check_feed(data)) == [], path


def test_unchanged_catalog_gives_identical_bytes() -> None:
    first = feed_documents(sample_catalog())
    assert feed_documents(sample_catalog()) == first
    assert feed_documents(copy.deepcopy(sample_catalog())) == first  # equal values, new objects


def test_without_built_at_dates_come_from_the_newest_episode() -> None:
    catalog = dataclasses.replace(sample_catalog(), built_at=None)
    channel = channel_of(documents(catalog)["feed.xml"])
    assert channel.findtext("lastBuildDate") == "Fri, 28 Feb 2025 12:00:00 GMT"


def test_empty_catalog_still_gives_valid_feeds() -> None:
    catalog = dataclasses.replace(sample_catalog(), episodes=(), built_at=None)
    for path, data in documents(catalog).items():
        findings = feedcheck.check_feed(data)
        assert not feedcheck.errors(findings), (path, findings)
    assert channel_of(documents(catalog)["feed.xml"]).find("lastBuildDate") is None
    assert not feedparser.parse(documents(catalog)["feed.xml"]).bozo


def test_long_site_description_is_cut_at_a_word() -> None:
    catalog = sample_catalog(description="Deploys and rollbacks. " * 400)
    description = channel_of(documents(catalog)["feed.xml"]).findtext("description", "")
    assert len(description.encode()) <= DESCRIPTION_LIMIT
    assert description.endswith("rollbacks.…") or description.endswith("Deploys and…")


def test_untitled_episode_gets_a_title_from_its_show_and_date() -> None:
    catalog = sample_catalog()
    untitled = dataclasses.replace(catalog.episodes[0], title=" \x00 ")
    catalog = dataclasses.replace(catalog, episodes=(untitled,))
    item = channel_of(documents(catalog)["feed.xml"]).find("item")
    assert item is not None
    assert item.findtext("title") == "Deploy Talk, 2025-02-28"


def test_unsafe_topic_slug_gives_a_safe_path() -> None:
    catalog = dataclasses.replace(
        sample_catalog(), topics=(Topic("../Evil Topic", "Evil", ("evil",)),)
    )
    paths = list(documents(catalog))
    assert paths[1] == "topics/evil-topic/feed.xml"


def test_identical_bytes_across_processes() -> None:
    """No set or dict order leaks into the output, whatever the hash seed."""
    code = (
        "import hashlib; from test_feeds_out import sample_catalog;"
        "from devcasts.publish.feeds import feed_documents;"
        "print(hashlib.sha256(repr(feed_documents(sample_catalog())).encode()).hexdigest())"
    )
    tests_dir = Path(__file__).parent
    path = os.pathsep.join([str(tests_dir.parent / "src"), str(tests_dir)])
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
    assert (
        digests.pop().strip()
        == hashlib.sha256(repr(feed_documents(sample_catalog())).encode()).hexdigest()
    )


# --- URLs at private or local addresses are not republished ----------------------------------

PRIVATE_HOSTS = [
    "169.254.169.254",
    "10.0.0.1",
    "127.0.0.1",
    "[::1]",
    "[::ffff:169.254.169.254]",
    "[fe80::1]",
    "2852039166",  # 169.254.169.254 as one number, as browsers read it
    "0xa9.0xfe.0xa9.0xfe",
    "localhost",
    "admin.localhost",
]


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_urls_at_private_addresses_are_not_republished(host: str) -> None:
    private = f"http://{host}/latest/meta-data"
    catalog = sample_catalog()
    podcasts = tuple(dataclasses.replace(p, image=private, link=private) for p in catalog.podcasts)
    episodes = tuple(
        dataclasses.replace(
            episode,
            link=private,
            image=private,
            chapters_url=private if episode.chapters_url else None,
            transcripts=tuple(
                dataclasses.replace(t, url=private + ".vtt") for t in episode.transcripts
            ),
            people=tuple(
                dataclasses.replace(p, href=private, img=private + ".png") for p in episode.people
            ),
        )
        for episode in catalog.episodes
    )
    docs = documents(dataclasses.replace(catalog, podcasts=podcasts, episodes=episodes))
    for name, data in docs.items():
        assert b"meta-data" not in data, name
    # what was dropped was only the private URLs: the episodes and their audio remain
    assert docs["feed.xml"].count(b"<enclosure ") == documents()["feed.xml"].count(b"<enclosure ")


def test_an_enclosure_at_a_private_address_drops_the_episode_from_the_feeds() -> None:
    catalog = sample_catalog()
    private = Enclosure("http://169.254.169.254/a.mp3", "audio/mpeg", 1)
    episodes = tuple(
        dataclasses.replace(e, enclosure=private) if e.id == "ep0001" else e
        for e in catalog.episodes
    )
    docs = documents(dataclasses.replace(catalog, episodes=episodes))
    assert b"169.254.169.254" not in docs["feed.xml"] and b"ep0001" not in docs["feed.xml"]


@pytest.mark.parametrize(
    "host", ["deploy-talk.example", "8.8.8.8", "[2001:4860:4860::8888]", "10.example"]
)
def test_urls_at_public_hosts_are_kept(host: str) -> None:
    catalog = sample_catalog()
    url = f"https://{host}/transcript.vtt"
    episodes = tuple(
        dataclasses.replace(e, transcripts=(Transcript(url, "text/vtt", "en"),))
        for e in catalog.episodes
    )
    docs = documents(dataclasses.replace(catalog, episodes=episodes))
    assert url.encode() in docs["feed.xml"]


def test_a_site_image_on_the_sites_own_local_host_is_kept() -> None:
    # The site's own base_url and image are its owner's choice (a preview on localhost).
    catalog = sample_catalog(
        base_url="http://localhost:8000/", image="http://localhost:8000/cover.png"
    )
    assert b"http://localhost:8000/cover.png" in documents(catalog)["feed.xml"]
