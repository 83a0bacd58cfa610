"""The offline example keeps its promise: every mess real feeds have is present in its feeds.

Also checks the real site's feeds.yaml. All example feeds are well-formed XML: none is bozo
on purpose (the broken-feed cases live in the parser's own tests).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
import yaml

from devcasts.cli.opml import feed_url_key
from devcasts.config.load import load_config
from devcasts.ingest.topics import TopicMatcher

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "psc": "http://podlove.org/simple-chapters",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
}
REQUIRED_TOPICS = {
    "heroku",
    "flyio",
    "render",
    "railway",
    "vercel",
    "netlify",
    "kubernetes",
    "dokku",
    "aws",
}


def _example_files() -> list[Path]:
    return sorted(p for p in (EXAMPLES / "feeds").iterdir() if p.suffix in (".xml", ".atom"))


@cache
def _parsed(path: Path) -> Any:
    # As written: no sanitizing or link resolving, so the messes stay visible.
    content_type = "application/atom+xml" if path.suffix == ".atom" else "application/rss+xml"
    return feedparser.parse(
        path.read_bytes(),
        response_headers={"content-type": content_type},
        sanitize_html=False,
        resolve_relative_uris=False,
    )


@cache
def _raw(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _entries() -> list[tuple[Path, Any]]:
    return [(path, entry) for path in _example_files() for entry in _parsed(path).entries]


def _notes(entry: Any) -> str:
    content = " ".join(part.value for part in entry.get("content", []))
    return f"{entry.get('title', '')}\n{entry.get('summary', '')}\n{content}"


def _all_notes() -> str:
    return "\n".join(_notes(entry) for _, entry in _entries())


def _rss_items() -> list[tuple[Path, ET.Element]]:
    items = []
    for path in _example_files():
        root = ET.fromstring(path.read_bytes())
        items += [(path, item) for item in root.iter("item")]
    return items


# --- the example as a whole -----------------------------------------------------------------


def test_at_least_five_feeds_one_of_them_atom() -> None:
    files = _example_files()
    assert len(files) >= 5
    assert Counter(_parsed(path).version[:4] for path in files) >= Counter({"rss2": 4, "atom": 1})


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_each_feed_is_well_formed_with_six_to_fifteen_episodes(path: Path) -> None:
    parsed = _parsed(path)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert 6 <= len(parsed.entries) <= 15
    assert parsed.feed.get("title")


def test_feeds_yaml_lists_every_example_feed_with_both_include_modes() -> None:
    config = load_config(EXAMPLES / "feeds.yaml")
    listed = {Path(feed.url).resolve() for feed in config.feeds}
    assert listed == {path.resolve() for path in _example_files()}
    assert {feed.include for feed in config.feeds} == {"all", "topics"}
    assert {topic.slug for topic in config.topics} >= REQUIRED_TOPICS
    assert config.site.base_url.startswith("https://")


def test_the_example_has_its_own_about_page() -> None:
    text = (EXAMPLES / "content" / "about.md").read_text(encoding="utf-8")
    front_matter = yaml.safe_load(text.split("---")[1])
    assert front_matter["title"]


def test_media_points_only_at_example_hosts() -> None:
    urls = [enclosure.href for _, entry in _entries() for enclosure in entry.get("enclosures", [])]
    assert urls
    assert {urlsplit(url).hostname for url in urls} == {"media.example.com"}


# --- show notes -----------------------------------------------------------------------------


def test_html_notes_in_cdata_and_escaped_and_plain_text_notes() -> None:
    raws = [_raw(path) for path in _example_files()]
    assert any("<![CDATA[<p>" in raw for raw in raws)
    assert any("<description>&lt;p&gt;" in raw for raw in raws)
    assert any('<content type="html">&lt;p&gt;' in raw for raw in raws)
    plain = [
        entry
        for _, entry in _entries()
        if "content" not in entry and "<" not in entry.summary and "\n" in entry.summary
    ]
    assert len(plain) >= 3


@pytest.mark.parametrize(
    "pattern",
    [
        r"\(02:49\) Introduction",  # parenthesised
        r"(?m)^12:34 Topic",  # bare, at the start of a line
        r"\[1:02:03\] Wrap-up",  # bracketed, with hours
    ],
)
def test_timestamps_in_the_forms_real_notes_use(pattern: str) -> None:
    assert re.search(pattern, _all_notes())


def test_tracking_parameters_and_relative_links() -> None:
    notes = _all_notes()
    links = re.findall(r'href="([^"]+)"', notes) + re.findall(r"https://\S+", notes)
    links += [entry.get("link", "") for _, entry in _entries()]
    params = {key for link in links for key in parse_qs(urlsplit(link).query)}
    assert {"utm_source", "utm_medium", "fbclid"} <= params
    assert any(link.startswith("/") for link in links)
    assert any(link.startswith("../") for link in links)


def test_a_very_long_show_note() -> None:
    longest = max(len(_notes(entry).encode("utf-8")) for _, entry in _entries())
    assert longest > 20_000


def test_hostile_titles_and_notes() -> None:
    titles = [entry.title for _, entry in _entries()]
    notes = _all_notes()
    assert any("<script>" in title for title in titles)
    assert re.search(r'href="\s*javascript:', notes, re.IGNORECASE)
    assert re.search(r"<img[^>]*onerror=", notes)
    assert any(entry.get("link", "").startswith("javascript:") for _, entry in _entries())


def test_html_entities_in_titles() -> None:
    raw_titles = re.findall(r"<title>(.*?)</title>", "".join(map(_raw, _example_files())))
    assert any("&#8217;" in title for title in raw_titles)
    assert any("&amp;amp;" in title for title in raw_titles)  # escaped twice
    assert any("&quot;" in title for title in raw_titles)


# --- languages ------------------------------------------------------------------------------


def test_a_german_episode_in_an_english_feed_and_a_spanish_feed() -> None:
    languages = {path.name: _parsed(path).feed.get("language", "") for path in _example_files()}
    assert any(lang.startswith("es") for lang in languages.values())
    german = [
        (path, entry)
        for path, entry in _entries()
        if entry.get("language") == "de" or " und " in entry.get("summary", "")
    ]
    assert german
    assert all(languages[path.name].startswith("en") for path, _ in german)


# --- identity and duplicates ----------------------------------------------------------------


def test_one_episode_published_in_two_feeds() -> None:
    by_title: dict[str, list[tuple[Path, str]]] = {}
    for path, entry in _entries():
        for enclosure in entry.get("enclosures", []):
            by_title.setdefault(entry.title, []).append((path, enclosure.href))
    shared = {title: hits for title, hits in by_title.items() if len({p for p, _ in hits}) > 1}
    assert len(shared) == 1
    ((_, hits),) = shared.items()
    urls = [url for _, url in hits]
    assert len(set(urls)) == 2  # different query strings...
    assert len({url.split("?")[0] for url in urls}) == 1  # ...same file


def test_items_without_guid_or_enclosure_or_date() -> None:
    entries = [entry for path, entry in _entries() if _parsed(path).version.startswith("rss")]
    assert any(not entry.get("id") for entry in entries)
    assert any(not entry.get("enclosures") for entry in entries)
    assert any(not entry.get("published") for entry in entries)


def test_a_duplicate_guid_inside_one_feed() -> None:
    for path in _example_files():
        counts = Counter(entry.get("id") for entry in _parsed(path).entries if entry.get("id"))
        if counts and counts.most_common(1)[0][1] > 1:
            return
    pytest.fail("no feed repeats a guid")


def test_a_date_with_a_zone_name() -> None:
    dates = [entry.get("published", "") for _, entry in _entries()]
    assert any(date.endswith(" PST") for date in dates)


# --- podcast namespaces ---------------------------------------------------------------------


def test_podcast_person_transcript_and_chapters() -> None:
    items = [item for _, item in _rss_items()]
    people = [len(item.findall("podcast:person", NS)) for item in items]
    assert max(people) >= 3
    assert any(item.find("podcast:transcript", NS) is not None for item in items)
    assert any(len(item.findall("podcast:transcript", NS)) >= 2 for item in items)
    assert any(item.find("podcast:chapters", NS) is not None for item in items)
    assert sum(item.find("psc:chapters", NS) is not None for item in items) >= 2


def test_itunes_duration_in_several_forms() -> None:
    durations = [item.findtext("itunes:duration", "", NS) for _, item in _rss_items()]
    forms = {
        "hh:mm:ss": r"\d{1,2}:\d{2}:\d{2}",
        "mm:ss": r"\d{1,2}:\d{2}",
        "seconds": r"\d+",
        "fraction": r"[\d:]+\.\d+",
    }
    for name, pattern in forms.items():
        assert any(re.fullmatch(pattern, value) for value in durations), name


# --- topics ---------------------------------------------------------------------------------


def test_every_required_topic_is_mentioned_and_the_hard_negatives_too() -> None:
    config = load_config(EXAMPLES / "feeds.yaml")
    matcher = TopicMatcher(config.topics)
    found = {slug for _, entry in _entries() for slug in matcher.match(_notes(entry))}
    assert found >= REQUIRED_TOPICS
    topics_only = [Path(feed.url).resolve() for feed in config.feeds if feed.include == "topics"]
    negatives = {
        phrase: [
            entry
            for path, entry in _entries()
            if path.resolve() in topics_only and phrase in _notes(entry)
        ]
        for phrase in ("render a frame", "a railway station")
    }
    for phrase, entries in negatives.items():
        assert entries, f"no {phrase!r} in an include: topics feed"
        assert all(not matcher.match(_notes(entry)) for entry in entries), phrase


# --- the real site's feeds.yaml -------------------------------------------------------------


def test_real_feeds_yaml_has_twenty_distinct_https_feeds_and_the_topics() -> None:
    config = load_config(ROOT / "feeds.yaml")
    assert len(config.feeds) >= 20
    assert all(feed.url.startswith("https://") for feed in config.feeds)
    assert len({feed_url_key(feed.url) for feed in config.feeds}) == len(config.feeds)
    assert len({feed.slug for feed in config.feeds}) == len(config.feeds)
    assert {feed.include for feed in config.feeds} == {"all", "topics"}
    assert {topic.slug for topic in config.topics} >= REQUIRED_TOPICS
    assert config.content_dir == ROOT / "content"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We moved the API from Heroku to Fly.io last spring.", {"heroku", "flyio"}),
        ("We compared Railway and Render for a monorepo.", {"railway", "render"}),
        ("Preview deploys on Vercel versus Netlify.", {"vercel", "netlify"}),
        ("Running Dokku next to a Kubernetes cluster on AWS.", {"dokku", "kubernetes", "aws"}),
        ("How long does it take to render a frame?", set()),
        ("We waited at a railway station for an hour.", set()),
        ("Time flies; we fly to the conference.", set()),
        ("The studio's Render farm was busy all night.", set()),
    ],
)
def test_real_topic_patterns(text: str, expected: set[str]) -> None:
    matcher = TopicMatcher(load_config(ROOT / "feeds.yaml").topics)
    assert set(matcher.match(text)) & REQUIRED_TOPICS == expected
