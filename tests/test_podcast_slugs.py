"""A podcast's slug: read from its feed's title when first archived, fixed after that, in
Latin letters for any script; an archive written before keeps every URL it had."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devcasts.archive.codec import encode_podcast_files
from devcasts.archive.files import load_archive, save_archive
from devcasts.archive.merge import merge_feeds
from devcasts.archive.podcast_slugs import choose_podcast_slug, location_slug
from devcasts.archive.state import ArchiveState, PodcastArchive, feed_key
from devcasts.config.load import load_config
from devcasts.config.schema import parse_config
from devcasts.pipeline import BuildOptions, build
from devcasts.records import Episode, NormalizedFeed, Podcast
from devcasts.util.text import ascii_slug, readable_slug, short_hash, slugify

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
SLUG_SHAPE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
BEFORE_TITLES = Path(__file__).parent / "data" / "slugs_v1"  # built by the URL/file-name rule


# --- slugify ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("投资资讯网", "tou-zi-zi-xun-wang"),  # one word per character, not "touzizixunwang"
        ("Все для разработчиков", "vse-dlya-razrabotchikov"),
        ("한국어 방송", "han-gug-eo-bang-song"),
        ("Ελληνικά νέα", "ellinika-nea"),
        ("ポッドキャスト", "potdokiyasuto"),
        ("Ünïcödé Straße", "unicode-strasse"),
        ("🎙️ Mic check", "mic-check"),  # an emoji is no word
        ("CRE: Technik, Kultur, Gesellschaft", "cre-technik-kultur-gesellschaft"),
    ],
)
def test_slugs_read_aloud_in_any_script(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_a_title_without_words_falls_back_to_a_hash() -> None:
    assert readable_slug("🎙️ 🎧 …") == ""
    assert slugify("🎙️ 🎧 …") == "x-" + short_hash("🎙️ 🎧 …", 8)


@given(st.text(max_size=200))
def test_every_slug_is_a_safe_path_segment(text: str) -> None:
    slug = slugify(text)
    assert SLUG_SHAPE.match(slug) and len(slug) <= 80
    assert slug == slugify(text)


def test_feed_keys_keep_the_earlier_ascii_rule() -> None:
    """Episode ids hash the key: a key made otherwise would orphan every archived episode."""
    assert ascii_slug("Café Talk") == "cafe-talk"
    assert ascii_slug("Straße") == "strae"
    assert ascii_slug("投资") == "x-" + short_hash("投资", 8)


# --- feeds.yaml: the key, and whether the slug is given -------------------------------------


def _sources(tmp_path: Path, feeds: str) -> dict[str, tuple[str, bool]]:
    text = f"site:\n  title: T\n  base_url: https://example.org/\nfeeds:\n{feeds}"
    config = parse_config(
        tmp_path / "feeds.yaml",
        text,
        base_url=None,
        templates_dir=tmp_path / "templates",
        content_dir=tmp_path / "content",
    )
    return {source.url: (source.slug, source.slug_given) for source in config.feeds}


def test_feeds_yaml_keys_are_as_before_and_only_slug_counts_as_given(tmp_path: Path) -> None:
    sources = _sources(
        tmp_path,
        "  - url: https://feeds.example.org/shows/deep-dive.xml\n"
        "  - url: https://example.org/cafe.rss\n    title: Café Talk\n"
        "  - url: https://example.org/ops.rss\n    slug: ops-hour\n",
    )
    assert sources == {
        "https://feeds.example.org/shows/deep-dive.xml": ("example-org-shows-deep-dive", False),
        "https://example.org/cafe.rss": ("cafe-talk", False),
        "https://example.org/ops.rss": ("ops-hour", True),
    }


@pytest.mark.parametrize(
    ("location", "slug"),
    [
        ("https://feeds.example.org/shows/deep-dive.xml", "deep-dive"),
        ("https://example.org/podcast/feed.json", "example-org"),
        ("https://www.night-shift.example/feed/podcast/", "night-shift-example"),
        ("https://example.org/index.php?feed=rss2", "index"),
        ("/srv/feeds/talks_weekly.rss", "talks-weekly"),
        ("C:\\feeds\\studio.json", "studio"),
    ],
)
def test_an_untitled_feed_is_named_by_its_location_without_suffix(location: str, slug: str) -> None:
    assert location_slug(location) == slug


@given(
    st.lists(st.sampled_from(["feed", "rss", "a b", "Ünï", "x.xml", "投资", "..", ""]), max_size=5),
    st.sampled_from(["https://feeds.example.org/", "http://127.0.0.1:8000/", "/srv/", "c:\\d\\"]),
)
def test_a_location_slug_is_safe_and_never_a_suffix(segments: list[str], prefix: str) -> None:
    slug = location_slug(prefix + "/".join(segments))
    assert slug == "" or SLUG_SHAPE.match(slug)
    assert not slug.endswith(("-xml", "-rss", "-json"))


@given(st.text(max_size=60), st.sets(st.sampled_from(["show", "show-2", "page-2", "x"])))
def test_a_chosen_slug_is_free_and_safe(title: str, taken: set[str]) -> None:
    podcast = Podcast(slug="key", title=title, feed_url="https://example.org/show.rss")
    slug = choose_podcast_slug(podcast, from_title=True, taken=taken)
    assert slug not in taken and slug not in {"page", "feed", "index"}
    assert SLUG_SHAPE.match(slug)


# --- the archive fixes the slug -----------------------------------------------------------


def _feed(key: str, title: str, *guids: str, url: str = "") -> NormalizedFeed:
    podcast = Podcast(slug=key, title=title, feed_url=url or f"https://example.org/{key}.xml")
    episodes = tuple(
        Episode(
            id=f"{key}-{guid}",
            podcast=key,
            guid=guid,
            title=f"Shift {guid}",
            published=NOW - timedelta(days=n),
            content_hash=f"hash-{guid}",
        )
        for n, guid in enumerate(guids)
    )
    return NormalizedFeed(podcast=podcast, episodes=episodes)


KEY = "example-org-shows-deep-dive"


def test_a_new_feed_takes_its_titles_slug_and_keeps_it(tmp_path: Path) -> None:
    feed = _feed(KEY, "Deep Dive Radio", "a", "b")
    state, changes = merge_feeds(ArchiveState(), [feed], NOW, titled={KEY})
    record = state.podcasts[0]
    assert record.podcast.slug == "deep-dive-radio" and record.podcast.feed_key == KEY
    assert {e.podcast for e in record.episodes} == {"deep-dive-radio"}
    assert set(changes.new_episodes[KEY]) == {f"{KEY}-a", f"{KEY}-b"}  # by the feed's key
    assert {p.parent.name for p in save_archive(tmp_path, state)} == {"deep-dive-radio"}

    renamed = _feed(KEY, "Deep Dive Radio (ad-free)", "a", "b", "c")
    later, changes = merge_feeds(load_archive(tmp_path), [renamed], NOW, titled={KEY})
    record = later.podcasts[0]
    assert record.podcast.slug == "deep-dive-radio" and record.podcast.title.endswith("ad-free)")
    assert changes.new_episodes == {KEY: (f"{KEY}-c",)}
    assert {p.parent.name for p in save_archive(tmp_path, later)} == {"deep-dive-radio"}


@pytest.mark.parametrize("reverse", [False, True])
def test_two_shows_of_one_title_get_distinct_slugs_in_key_order(reverse: bool) -> None:
    feeds = [_feed("b-key", "Night Shift", "x"), _feed("a-key", "Night Shift", "y")]
    titled = {"a-key", "b-key"}
    state, _ = merge_feeds(ArchiveState(), feeds[::-1] if reverse else feeds, NOW, titled=titled)
    assert {feed_key(r.podcast): r.podcast.slug for r in state.podcasts} == {
        "a-key": "night-shift",
        "b-key": "night-shift-2",
    }


def test_a_slug_given_in_feeds_yaml_wins_over_a_title() -> None:
    titled = _feed("example-org-radio-xml", "Radio", "x")
    state, _ = merge_feeds(
        ArchiveState(), [titled], NOW, titled={titled.podcast.slug}, given={"radio"}
    )
    assert state.podcasts[0].podcast.slug == "radio-2"  # "radio" is the given one's, even unread
    state, _ = merge_feeds(state, [_feed("radio", "Another title", "y")], NOW, given={"radio"})
    assert {r.podcast.slug for r in state.podcasts} == {"radio", "radio-2"}


def test_reserved_untitled_and_non_latin_shows() -> None:
    feeds = [
        _feed("k1", "Page", "x"),
        _feed("k2", "k2", "y", url="https://feeds.example.org/casts/late-night.json"),
        _feed("k3", "夜班电台", "z"),
    ]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW, titled={"k1", "k2", "k3"})
    assert {feed_key(r.podcast): r.podcast.slug for r in state.podcasts} == {
        "k1": "page-2",  # podcasts/page/2/ is the listing's second page
        "k2": "late-night",  # normalize titles an untitled feed with its key
        "k3": "ye-ban-dian-tai",
    }


def test_episodes_without_words_in_their_titles_are_named_by_date() -> None:
    feed = _feed("k", "Night Shift", "a", "b", "c")
    titles = {"a": "…", "b": "🎧", "c": "第三集"}
    feed = replace(feed, episodes=tuple(replace(e, title=titles[e.guid]) for e in feed.episodes))
    state, _ = merge_feeds(ArchiveState(), [feed], NOW)
    assert {e.guid: e.slug for e in state.episodes()} == {
        "a": "episode-2024-06-01",
        "b": "episode-2024-05-31",
        "c": "di-san-ji",
    }


def test_an_archive_written_before_keeps_its_slug_and_its_bytes() -> None:
    """An earlier build named the podcast by its key and recorded no key."""
    first = _feed(KEY, "Deep Dive Radio", "a")
    old = PodcastArchive(first.podcast, tuple(replace(e, slug="shift-a") for e in first.episodes))
    before = encode_podcast_files(old)
    state, changes = merge_feeds(
        ArchiveState((old,)), [_feed(KEY, "Deep Dive Radio", "a", "b")], NOW, titled={KEY}
    )
    record = state.podcasts[0]
    assert record.podcast.slug == KEY and record.podcast.feed_key == ""
    assert changes.new_episodes == {KEY: (f"{KEY}-b",)}
    kept = next(e for e in record.episodes if e.guid == "a")
    assert encode_podcast_files(replace(record, episodes=(kept,))) == before


# --- whole builds ---------------------------------------------------------------------------


def _build(folder: Path, when: datetime) -> None:
    options = BuildOptions(
        out_dir=folder / "site", cache_dir=folder / "cache", progress=False, browser_index=False
    )
    build(load_config(folder / "feeds.yaml"), options, now=when)


def _pages(site: Path) -> set[str]:
    return {
        p.parent.relative_to(site).as_posix() + "/" for p in site.glob("podcasts/**/index.html")
    }


WHEN = datetime(2024, 6, 3, 9, tzinfo=UTC)


def test_a_site_built_before_keeps_every_url_after_the_upgrade(tmp_path: Path) -> None:
    """The fixture's archive and pages were made by the earlier rule (slugs from file names,
    a hash for a Chinese title); an upgraded build finds every page where it was."""
    work = tmp_path / "site-root"
    shutil.copytree(BEFORE_TITLES, work)
    old_urls = set((work / "urls.txt").read_text(encoding="utf-8").split())
    old_files = sorted(p.stem for p in (work / "content" / "archive").glob("*.json"))
    (work / "content" / "overrides.yaml").write_text(
        "episodes:\n  - episode: night-shift/don-t-page-the-database-team\n    title: Paged\n",
        encoding="utf-8",
    )
    with (work / "feeds.yaml").open("a", encoding="utf-8") as config:
        config.write("  - url: feeds/signal.rss\n")
    (work / "feeds" / "signal.rss").write_text(_rss("信号与噪音"), encoding="utf-8")
    _build(work, WHEN)

    pages = _pages(work / "site")
    assert old_urls <= pages
    # Each podcast of the earlier single-file layout now has its folder, and only that.
    archived = sorted(p.name for p in (work / "content" / "archive").iterdir())
    assert archived == sorted([*old_files, "xin-hao-yu-zao-yin"])
    assert "podcasts/xin-hao-yu-zao-yin/" in pages
    page = work / "site" / "podcasts/night-shift/don-t-page-the-database-team/index.html"
    assert "Paged" in page.read_text(encoding="utf-8")
    health = (work / "site" / "health" / "index.html").read_text(encoding="utf-8")
    assert 'href="/slugs/podcasts/xin-hao-yu-zao-yin/"' in health


def test_the_same_feeds_built_afresh_take_their_titles(tmp_path: Path) -> None:
    work = tmp_path / "site-root"
    shutil.copytree(BEFORE_TITLES, work, ignore=shutil.ignore_patterns("content"))
    _build(work, WHEN)
    archived = sorted(p.name for p in (work / "content" / "archive").iterdir())
    assert archived == ["night-shift-radio", "release-notes-live"]  # feeds.yaml titles the 2nd
    pages = _pages(work / "site")
    assert {"podcasts/night-shift-radio/ye-ban-di-yi-ji/", "podcasts/night-shift-radio/"} <= pages
    assert "podcasts/night-shift-radio/vse-alerty-srazu/" in pages
    _build(work, WHEN + timedelta(hours=1))  # a second build moves nothing
    assert _pages(work / "site") == pages


def _rss(title: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{title}</title><link>https://signal.example/</link>
<description>Notes on noisy alerts.</description>
<item><title>Signal one</title><guid>signal-1</guid><pubDate>Wed, 29 May 2024 10:00:00 +0000</pubDate>
<enclosure url="https://signal.example/1.mp3" type="audio/mpeg" length="10"/>
<description>The first signal.</description></item>
</channel></rss>
"""
