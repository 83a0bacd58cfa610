"""normalize.normalize_feed: every episode field, identity and duplicates inside one feed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.ingest.normalize import content_hash, normalize_feed, page_link
from devcasts.ingest.parse import parse_feed
from devcasts.ingest.sanitize import clean_url
from devcasts.model import FeedSource, Topic
from devcasts.records import (
    Episode,
    NormalizedFeed,
    ParsedFeed,
    ParsedItem,
    RawChapter,
    RawEnclosure,
    RawPerson,
    RawTranscript,
)
from devcasts.util.text import short_hash

DATA = Path(__file__).parent / "data" / "parse"
NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)
FEED_URL = "https://example.com/show/feed.xml"
SOURCE = FeedSource(url=FEED_URL, slug="deploy-friday")
KUBERNETES = Topic(slug="kubernetes", name="Kubernetes", patterns=("Kubernetes",))
MP3 = RawEnclosure("https://media.example.com/ep.mp3", "audio/mpeg", "1000")


def item(**fields: object) -> ParsedItem:
    defaults: dict[str, object] = {
        "guid": "ep-1",
        "title": "An episode",
        "published": "Mon, 02 Sep 2024 08:00:00 GMT",
        "enclosures": (MP3,),
    }
    return ParsedItem(**{**defaults, **fields})  # type: ignore[arg-type]


def feed(*items: ParsedItem, **fields: object) -> ParsedFeed:
    defaults: dict[str, object] = {"title": "Deploy Friday", "link": "https://example.com/show/"}
    return ParsedFeed(items=items, **{**defaults, **fields})  # type: ignore[arg-type]


def normalize(
    parsed: ParsedFeed,
    source: FeedSource = SOURCE,
    topics: tuple[Topic, ...] = (),
    now: datetime = NOW,
) -> NormalizedFeed:
    return normalize_feed(source, parsed, topics, now, FEED_URL)


def one(**fields: object) -> Episode:
    (episode,) = normalize(feed(item(**fields))).episodes
    return episode


def load(name: str, source: FeedSource = SOURCE) -> NormalizedFeed:
    parsed = parse_feed((DATA / name).read_bytes(), {}, FEED_URL)
    return normalize(parsed, source)


# --- titles, notes, summary -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Rock &amp; Roll\n   Deploys ", "Rock & Roll Deploys"),
        ("<b>Bold</b> move", "Bold move"),
        ("Caf&eacute; &#8211; &#x41;", "Café – A"),
        ("Tab\tand\u200bzero-width", "Tab andzero-width"),
    ],
)
def test_title_is_clean_text(raw: str, expected: str) -> None:
    assert one(title=raw).title == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://example.com/ep/1?utm_medium=rss", "https://example.com/ep/1"),
        ("/episodes/1", "https://example.com/episodes/1"),
        ("THIS LINK IS INVALID", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_episode_link(raw: str, expected: str | None) -> None:
    assert one(link=raw).link == expected


def test_title_falls_back_to_the_notes_then_the_number() -> None:
    assert one(title="", description="Notes that say what it is.").title == (
        "Notes that say what it is."
    )
    assert one(title="", episode="12").title == "Episode 12"
    assert one(title="").title == "ep.mp3"


def test_notes_are_sanitized_and_content_wins_over_description() -> None:
    episode = one(
        description="<p>short</p>",
        content='<p>Long <a href="/guide?utm_source=feed">guide</a></p><script>alert(1)</script>',
        link="https://example.com/show/ep-1",
    )
    assert "<script" not in episode.notes_html
    assert "alert" not in episode.text
    assert 'href="https://example.com/guide"' in episode.notes_html
    assert episode.text == "Long guide"


def test_summary_is_bounded_and_skips_a_pasted_transcript() -> None:
    intro = "This week: database migrations. "
    transcript = "Speaker one: well, um, so yes. " * 3000
    episode = one(description=intro + transcript)
    assert len(episode.summary) <= 300
    assert episode.summary.startswith("This week: database migrations.")
    assert len(episode.text) > 50_000  # the whole text stays searchable


# --- dates ----------------------------------------------------------------------------------


def test_published_is_utc() -> None:
    episode = one(published="Fri, 06 Sep 2019 12:00:00 PST")
    assert episode.published == datetime(2019, 9, 6, 20, tzinfo=UTC)
    assert not episode.date_estimated
    assert not episode.date_clamped


def test_feedparser_reading_is_the_fallback_for_odd_dates() -> None:
    moment = datetime(2004, 6, 29, 12, 53, tzinfo=UTC)
    episode = one(published="Τρι, 29 Ιούν 2004 12:53:00 GMT", published_parsed=moment)
    assert episode.published == moment


def test_missing_date_becomes_now_and_is_flagged() -> None:
    episode = one(published="")
    assert episode.published == NOW
    assert episode.date_estimated


def test_future_date_is_clamped_and_flagged() -> None:
    episode = one(published="Fri, 01 Jan 2100 00:00:00 GMT")
    assert episode.published == NOW
    assert episode.date_clamped
    assert not episode.date_estimated


def test_dates_from_fixture_files() -> None:
    missing = load("missing-dates.xml").episodes
    assert all(e.date_estimated and e.published == NOW for e in missing)
    (future,) = load("future-date.xml").episodes
    assert future.date_clamped


# --- media ----------------------------------------------------------------------------------


def test_duration_and_numbers() -> None:
    episode = one(duration="1:02:03", episode="7", season="2")
    assert (episode.duration, episode.number, episode.season) == (3723, 7, 2)
    assert one(duration="soon", episode="-1").duration is None
    assert one(episode="-1").number is None


def test_enclosure_relative_url_type_guess_and_tracking() -> None:
    episode = one(enclosures=(RawEnclosure("/audio/ep.mp3?utm_source=rss&t=1", "", "12"),))
    assert episode.enclosure is not None
    assert episode.enclosure.url == "https://example.com/audio/ep.mp3?t=1"
    assert episode.enclosure.type == "audio/mpeg"
    assert episode.enclosure.length == 12


@pytest.mark.parametrize(
    ("declared", "url", "expected"),
    [
        ("audio/mp3", "https://m.example.com/a", "audio/mpeg"),
        ("audio/x-m4a", "https://m.example.com/a", "audio/mp4"),
        ("", "https://m.example.com/a.m4a", "audio/mp4"),
        ("application/octet-stream", "https://m.example.com/a.ogg", "audio/ogg"),
        ("AUDIO/MPEG; charset=binary", "https://m.example.com/a", "audio/mpeg"),
        ("", "https://m.example.com/stream", "application/octet-stream"),
    ],
)
def test_enclosure_types(declared: str, url: str, expected: str) -> None:
    enclosure = one(enclosures=(RawEnclosure(url, declared, ""),)).enclosure
    assert enclosure is not None
    assert enclosure.type == expected


def test_audio_is_preferred_over_video_and_unsafe_urls_are_refused() -> None:
    enclosures = (
        RawEnclosure("javascript:alert(1)", "audio/mpeg", ""),
        RawEnclosure("ftp://m.example.com/a.mp3", "audio/mpeg", ""),
        RawEnclosure("https://m.example.com/v.mp4", "video/mp4", "5"),
        RawEnclosure("https://m.example.com/a.mp3", "audio/mpeg", "not a number"),
    )
    enclosure = one(enclosures=enclosures).enclosure
    assert enclosure is not None
    assert (enclosure.url, enclosure.length) == ("https://m.example.com/a.mp3", None)


def test_images_are_not_playable_enclosures() -> None:
    images = (RawEnclosure("https://m.example.com/cover.jpg", "image/jpeg", ""),)
    assert one(enclosures=images).enclosure is None


def test_image_falls_back_to_the_show_image() -> None:
    second_item = item(guid="ep-2", title="Second", image="/art/ep-2.png")
    parsed = feed(item(), second_item, image="https://e.com/s.png")
    first, second = normalize(parsed).episodes
    assert first.image == "https://e.com/s.png"
    assert second.image == "https://example.com/art/ep-2.png"


# --- flags, people, transcripts, categories, chapters ---------------------------------------


def test_explicit_and_its_inheritance() -> None:
    parsed = feed(item(explicit="clean"), item(guid="ep-2", title="Second"), explicit="yes")
    first, second = normalize(parsed).episodes
    assert first.explicit is False
    assert second.explicit is True
    assert one(explicit="true").explicit is True


def test_people_from_podcast_person_and_author() -> None:
    people = (
        RawPerson("Ada Example", role="Host", href="https://example.org/ada"),
        RawPerson("Bo Sample", role="guest", img="javascript:x"),
        RawPerson("  "),
    )
    episode = one(people=people, author="Ada Example, Cy Placeholder (cy@example.org)")
    assert [(p.name, p.slug, p.role) for p in episode.people] == [
        ("Ada Example", "ada-example", "host"),
        ("Bo Sample", "bo-sample", "guest"),
        ("Cy Placeholder", "cy-placeholder", "author"),
    ]
    assert episode.people[0].href == "https://example.org/ada"
    assert episode.people[1].img is None


def test_channel_people_apply_to_items_without_their_own() -> None:
    parsed = feed(item(), people=(RawPerson("Dee Fictional"),))
    assert [p.name for p in normalize(parsed).episodes[0].people] == ["Dee Fictional"]


def test_people_and_transcripts_from_the_podcast_namespace_fixture() -> None:
    first, second = load("podcast-namespace.xml").episodes
    assert [p.slug for p in first.people] == ["ada-example", "bo-sample", "cy-placeholder"]
    assert [(t.type, t.language) for t in first.transcripts] == [
        ("text/vtt", "en"),
        ("application/srt", None),
    ]
    assert first.chapters_url == "https://example.com/people/3.chapters.json"
    assert first.explicit is False
    assert second.explicit is True  # the channel says "true"
    assert [p.name for p in second.people] == ["Ada Example"]


def test_transcript_type_is_guessed_and_duplicates_dropped() -> None:
    transcripts = (
        RawTranscript("https://e.com/t.vtt"),
        RawTranscript("https://e.com/t.vtt", "text/vtt"),
        RawTranscript("data:text/plain,hi", "text/plain"),
    )
    assert [(t.url, t.type) for t in one(transcripts=transcripts).transcripts] == [
        ("https://e.com/t.vtt", "text/vtt")
    ]


def test_categories_are_cleaned_and_deduplicated() -> None:
    episode = one(categories=("DevOps", "devops", " <b>Cloud</b> ", ""))
    assert episode.categories == ("DevOps", "Cloud")


def test_psc_chapters_win_over_timestamps_in_the_notes() -> None:
    (episode,) = load("psc-chapters.xml").episodes
    assert [c.title for c in episode.chapters] == [
        "Welcome",
        "Browser cache",
        "CDN edge",
        "Wrap-up",
    ]
    assert [c.start for c in episode.chapters] == [0, 150, 900.5, 3723]


def test_chapters_from_timestamps_in_the_notes() -> None:
    notes = "(00:00) Hello\n(02:49) Introduction\n(10:05) Questions"
    episode = one(description=notes, duration="15:00")
    assert [(c.start, c.title) for c in episode.chapters] == [
        (0, "Hello"),
        (169, "Introduction"),
        (605, "Questions"),
    ]


# --- languages ------------------------------------------------------------------------------


def test_language_item_then_feed() -> None:
    parsed = feed(item(language="de-de"), item(guid="ep-2", title="Second"), language="en-us")
    first, second = normalize(parsed).episodes
    assert (first.language, second.language) == ("de-DE", "en-US")
    assert one().language is None


def test_feed_that_mixes_languages_gets_a_language_per_episode() -> None:
    english, german = load("mixed-languages.xml").episodes
    assert english.language == "en-US"
    assert german.language == "de"


def test_a_feed_without_language_takes_its_episodes_language() -> None:
    notes = (
        "A long conversation about deployment pipelines, the value of small changes and "
        "why rolling back should be a button rather than an adventure for the whole team."
    )
    parsed = feed(item(description=notes), item(guid="ep-2", title="Two", description=notes))
    result = normalize(parsed)
    assert result.podcast.language == "en"
    assert [e.language for e in result.episodes] == ["en", "en"]
    assert normalize(feed(item())).podcast.language is None  # too little text to tell


# --- topics ---------------------------------------------------------------------------------


def test_topics_are_matched_on_title_and_notes() -> None:
    parsed = feed(
        item(title="Kubernetes operators"),
        item(guid="ep-2", title="Cooking", description="We moved it all to Kubernetes."),
        item(guid="ep-3", title="Weather"),
    )
    episodes = normalize(parsed, topics=(KUBERNETES,)).episodes
    assert [e.topics for e in episodes] == [("kubernetes",), ("kubernetes",), ()]


def test_include_topics_drops_and_counts_off_topic_episodes() -> None:
    source = replace(SOURCE, include="topics")
    parsed = feed(item(title="Kubernetes operators"), item(guid="ep-2", title="Cooking"))
    result = normalize(parsed, source=source, topics=(KUBERNETES,))
    assert [e.title for e in result.episodes] == ["Kubernetes operators"]
    assert result.dropped == 1


def test_identical_content_under_two_guids_is_one_episode() -> None:
    result = normalize(
        feed(item(link="https://e.com/a"), item(guid="ep-2", link="https://e.com/b"))
    )
    assert [e.guid for e in result.episodes] == ["ep-1"]
    assert result.merged == 1


def test_unusable_items_are_dropped() -> None:
    result = normalize(feed(item(), item(guid="ep-2", title="", enclosures=())))
    assert len(result.episodes) == 1
    assert result.dropped == 1


# --- identity and duplicates ----------------------------------------------------------------


def test_id_is_the_hash_of_podcast_slug_and_guid() -> None:
    episode = one(guid="  tag:example.com,2024:42  ")
    assert episode.guid == "tag:example.com,2024:42"
    assert episode.id == short_hash("deploy-friday\ntag:example.com,2024:42")


def test_identity_falls_back_to_enclosure_link_then_title_and_date() -> None:
    episodes = load("no-guid.xml").episodes
    assert [e.guid for e in episodes] == [
        "https://media.example.com/guidless/one.mp3?src=feed",
        "https://example.com/guidless/two",
        "Only a title and a date\n2024-09-06T09:00:00+00:00",
    ]
    assert len({e.id for e in episodes}) == 3


def test_ids_do_not_depend_on_the_build_time_or_on_edits() -> None:
    parsed = feed(item(guid="", enclosures=(), link="", published=""))
    first = normalize(parsed).episodes[0]
    later = normalize(parsed, now=NOW + timedelta(days=30)).episodes[0]
    assert first.id == later.id
    assert first.content_hash == later.content_hash  # the stand-in date is not content
    edited = normalize(feed(item(description="now with notes"))).episodes[0]
    assert edited.id == one().id
    assert edited.content_hash != one().content_hash


def test_same_guid_in_two_podcasts_gives_two_ids() -> None:
    other = normalize(feed(item()), source=replace(SOURCE, slug="other-show")).episodes[0]
    assert other.id != one().id


def test_content_hash_covers_content_only() -> None:
    episode = one()
    assert content_hash(episode) == episode.content_hash
    archived = replace(episode, slug="x", first_seen=NOW, also_in=(), featured=True)
    assert content_hash(archived) == episode.content_hash
    assert content_hash(replace(episode, title="Other")) != episode.content_hash


def test_repeated_guid_and_identical_content_are_merged_inside_the_feed() -> None:
    result = load("duplicate-guids.xml")
    assert [e.title for e in result.episodes] == [
        "Rollbacks without tears (updated)",
        "Blue-green, explained",
        "Canaries in the cluster",
    ]
    assert result.merged == 2
    assert result.dropped == 0


# --- the podcast ----------------------------------------------------------------------------


def test_podcast_fields() -> None:
    source = replace(SOURCE, title="  My Name <i>for</i> it ", include="topics", weight=2.5)
    parsed = feed(
        description="<p>About <script>x()</script>us</p>",
        image="/cover.png",
        language="EN",
        author="Dee Fictional",
        categories=("Technology", "technology"),
        explicit="no",
    )
    podcast = normalize(parsed, source=source).podcast
    assert podcast.title == "My Name for it"
    assert podcast.slug == "deploy-friday"
    assert podcast.feed_url == FEED_URL
    assert podcast.link == "https://example.com/show/"
    assert podcast.description_html == "<p>About us</p>"
    assert podcast.summary == "About us"
    assert podcast.image == "https://example.com/cover.png"
    assert podcast.language == "en"
    assert podcast.categories == ("Technology",)
    assert podcast.explicit is False
    assert (podcast.include, podcast.weight) == ("topics", 2.5)


def test_podcast_title_falls_back_to_the_slug() -> None:
    assert normalize(feed(title="  ")).podcast.title == "deploy-friday"


# --- properties -----------------------------------------------------------------------------

_TEXT = st.text(max_size=80)
_ITEMS = st.builds(
    ParsedItem,
    guid=_TEXT,
    title=_TEXT,
    link=st.sampled_from(["", "/ep", "https://example.com/ep", "javascript:x", "http://[bad"]),
    published=st.one_of(_TEXT, st.just("Mon, 02 Sep 2024 08:00:00 GMT")),
    description=st.text(max_size=400),
    enclosures=st.lists(
        st.builds(RawEnclosure, url=_TEXT, type=_TEXT, length=_TEXT), max_size=3
    ).map(tuple),
    duration=_TEXT,
    episode=_TEXT,
    explicit=_TEXT,
    language=_TEXT,
    people=st.lists(st.builds(RawPerson, name=_TEXT, role=_TEXT), max_size=3).map(tuple),
    psc_chapters=st.lists(st.builds(RawChapter, start=_TEXT, title=_TEXT), max_size=3).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ITEMS, max_size=5))
def test_normalize_never_raises_and_keeps_its_promises(items: list[ParsedItem]) -> None:
    result = normalize(feed(*items), topics=(KUBERNETES,))
    assert len(result.episodes) + result.dropped + result.merged == len(items)
    assert len({e.id for e in result.episodes}) == len(result.episodes)
    for episode in result.episodes:
        assert episode.title
        assert len(episode.summary) <= 300
        assert episode.published <= NOW
        assert episode.published.utcoffset() == timedelta(0)
        assert episode.enclosure is None or episode.enclosure.url.startswith("http")
        assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", p.slug) for p in episode.people)
        assert episode.id == short_hash("deploy-friday\n" + episode.guid)
    assert normalize(feed(*items), topics=(KUBERNETES,)) == result  # deterministic


@settings(max_examples=60, deadline=None)
@given(_TEXT.filter(str.strip), _TEXT, _TEXT)
def test_identity_depends_on_the_guid_alone(guid: str, title: str, notes: str) -> None:
    plain = one(guid=guid)
    edited = one(guid=guid, title=title or "x", description=notes, published="")
    assert plain.id == edited.id
    assert plain.guid == guid.strip()


@given(st.text(max_size=120))
def test_author_names_never_raise_and_give_valid_slugs(author: str) -> None:
    from devcasts.ingest.fields import author_names, people

    names = author_names(author)
    assert len(names) <= 10
    assert all(len(name) >= 2 and "@" not in name for name in names)
    slugs = [person.slug for person in people((), author, None)]
    assert len(slugs) == len(set(slugs))
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) for slug in slugs)


@given(st.text(st.sampled_from("ab/:.\t \u00a0\u2003\x1c\x85\u200b"), max_size=12))
def test_a_page_link_with_any_space_inside_is_none(raw: str) -> None:
    text = raw.strip()
    expected = (
        None
        if not text or any(char.isspace() for char in text)
        else clean_url(text, "https://example.org/")
    )
    assert page_link(raw, "https://example.org/") == expected


def test_each_build_matches_its_own_topics() -> None:
    parsed = feed(item(title="Moving to Render"), item(guid="ep-2", title="Why Heroku"))
    render = (Topic("render", "Render", ("Render",)),)
    heroku = (Topic("heroku", "Heroku", ("Heroku",)),)
    for _ in range(2):  # the matchers are kept between feeds: each set keeps its own
        assert [e.topics for e in normalize(parsed, topics=render).episodes] == [("render",), ()]
        assert [e.topics for e in normalize(parsed, topics=heroku).episodes] == [(), ("heroku",)]
        from_list = normalize_feed(SOURCE, parsed, list(render), NOW, FEED_URL)
        assert from_list.episodes[0].topics == ("render",)
