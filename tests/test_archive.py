"""The archive: nothing lost, nothing rewritten without need, stable permalinks."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.archive.codec import ArchiveError, encode_podcast_files
from devcasts.archive.files import archive_dir, load_archive, save_archive
from devcasts.archive.merge import merge_feeds
from devcasts.archive.state import ArchiveState, PodcastArchive, episode_counts
from devcasts.catalog.build import build_catalog
from devcasts.catalog.overrides import Overrides
from devcasts.model import Config, FeedHealth, FeedSource, FetchStatus, SiteConfig, Topic
from devcasts.records import (
    Chapter,
    Enclosure,
    Episode,
    NormalizedFeed,
    Person,
    Podcast,
    Transcript,
)

DATA = Path(__file__).parent / "data" / "archive"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def make_episode(n: int, podcast: str = "lighthouse", **changes: object) -> Episode:
    episode = Episode(
        id=f"{podcast}-{n:04d}",
        podcast=podcast,
        guid=f"urn:lighthouse:{n}",
        title=f"Keeper's log {n}",
        published=START + timedelta(days=n),
        summary=f"Notes for log {n}.",
        content_hash=f"hash-{n}",
    )
    return replace(episode, **changes)  # type: ignore[arg-type]


def make_feed(episodes: list[Episode], slug: str = "lighthouse", title: str = "") -> NormalizedFeed:
    podcast = Podcast(
        slug=slug, title=title or f"The {slug} show", feed_url=f"https://example.test/{slug}.xml"
    )
    return NormalizedFeed(podcast=podcast, episodes=tuple(episodes))


def make_config(*slugs: str, **source_fields: object) -> Config:
    return Config(
        site=SiteConfig(title="Casts", base_url="https://example.test/casts/"),
        topics=(
            Topic(slug="heroku", name="Heroku", patterns=("Heroku",)),
            Topic(slug="dokku", name="Dokku", patterns=("Dokku",)),
        ),
        feeds=tuple(
            FeedSource(url=f"https://example.test/{s}.xml", slug=s, **source_fields)  # type: ignore[arg-type]
            for s in slugs
        ),
        path=Path("feeds.yaml"),
        content_dir=Path("content"),
        templates_dir=Path("templates"),
    )


def slugs_by_id(state: ArchiveState) -> dict[str, str]:
    return {e.id: e.slug for e in state.episodes()}


# --- merging --------------------------------------------------------------------------------


def test_truncated_then_failing_feed_keeps_every_episode_and_url(tmp_path: Path) -> None:
    all_thirty = [make_episode(n) for n in range(30)]
    state, changes = merge_feeds(ArchiveState(), [make_feed(all_thirty)], NOW)
    save_archive(tmp_path, state)
    assert len(changes.new_episodes["lighthouse"]) == 30
    first_slugs = slugs_by_id(state)

    newest_five = all_thirty[-5:]
    later = NOW + timedelta(days=3)
    state, changes = merge_feeds(load_archive(tmp_path), [make_feed(newest_five)], later)
    save_archive(tmp_path, state)
    assert changes.is_empty

    failed_build = NOW + timedelta(days=4)
    state, changes = merge_feeds(load_archive(tmp_path), [], failed_build)
    save_archive(tmp_path, state)
    final = load_archive(tmp_path)

    assert changes.is_empty
    assert slugs_by_id(final) == first_slugs
    assert len(first_slugs) == 30
    episodes = {e.id: e for e in final.episodes()}
    assert all(e.first_seen == e.last_seen == NOW for e in episodes.values())
    assert {episodes[e.id].dropped for e in all_thirty[:25]} == {later}  # not the failed build's
    assert {episodes[e.id].dropped for e in newest_five} == {None}


def test_edited_title_and_notes_update_the_episode_but_keep_its_slug() -> None:
    original = make_episode(1, title="Fog horns, part one")
    state, _ = merge_feeds(ArchiveState(), [make_feed([original])], NOW)
    edited = replace(
        original, title="Fog horns, part 1 (re-cut)", notes_html="<p>New</p>", content_hash="h2"
    )
    state, changes = merge_feeds(state, [make_feed([edited])], NOW + timedelta(hours=1))
    (archived,) = state.episodes()
    assert archived.slug == "fog-horns-part-one"
    assert archived.title == "Fog horns, part 1 (re-cut)"
    assert archived.notes_html == "<p>New</p>"
    assert archived.first_seen == NOW
    assert changes.updated_episodes == {"lighthouse": (original.id,)}
    assert changes.new_episodes == {}
    assert changes.changed_podcasts == {"lighthouse"}


def test_seeing_the_same_feed_again_changes_nothing() -> None:
    feed = make_feed([make_episode(n) for n in range(3)])
    state, _ = merge_feeds(ArchiveState(), [feed], NOW)
    again, changes = merge_feeds(state, [feed], NOW + timedelta(hours=5))
    assert changes.is_empty
    assert not changes.any
    assert changes.episode_ids == frozenset()
    assert again == state


def test_the_same_feed_a_month_later_changes_nothing_not_even_last_seen() -> None:
    feed = make_feed([make_episode(1), make_episode(2)])
    state, _ = merge_feeds(ArchiveState(), [feed], NOW)
    later, changes = merge_feeds(state, [feed], NOW + timedelta(days=31))
    assert later == state
    assert not changes.any


def test_an_episode_gone_from_its_feed_is_marked_dropped_once_and_is_not_a_change() -> None:
    both = make_feed([make_episode(1), make_episode(2)])
    state, _ = merge_feeds(ArchiveState(), [both], NOW)
    only_second = make_feed([make_episode(2)])
    gone_day = NOW + timedelta(days=2)
    state, changes = merge_feeds(state, [only_second], gone_day)
    first, second = state.episodes()
    assert (first.dropped, second.dropped) == (gone_day, None)
    assert first.last_seen == NOW  # as it was when last listed
    assert changes.is_empty  # no page shows it
    assert changes.touched_podcasts == {"lighthouse"}  # but the file records it
    again, changes = merge_feeds(state, [only_second], gone_day + timedelta(days=5))
    assert again == state  # the first build that missed it is the date kept
    assert not changes.any


def test_a_dropped_episode_that_comes_back_is_seen_again() -> None:
    episodes = [make_episode(1), make_episode(2)]
    state, _ = merge_feeds(ArchiveState(), [make_feed(episodes)], NOW)
    state, _ = merge_feeds(state, [make_feed(episodes[1:])], NOW + timedelta(days=1))
    back_day = NOW + timedelta(days=9)
    state, changes = merge_feeds(state, [make_feed(episodes)], back_day)
    first, _ = state.episodes()
    assert (first.dropped, first.last_seen, first.first_seen) == (None, back_day, NOW)
    assert changes.is_empty
    assert changes.touched_podcasts == {"lighthouse"}


def test_an_empty_read_of_a_feed_drops_nothing() -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1)])], NOW)
    after, changes = merge_feeds(state, [make_feed([])], NOW + timedelta(days=1))
    assert after == state
    assert not changes.any


def test_an_edit_records_when_the_episode_was_last_seen() -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1)])], NOW)
    edit_day = NOW + timedelta(days=3)
    edited = make_episode(1, title="Keeper's log, revised", content_hash="h2")
    state, changes = merge_feeds(state, [make_feed([edited])], edit_day)
    (episode,) = state.episodes()
    assert (episode.last_seen, episode.title) == (edit_day, "Keeper's log, revised")
    assert changes.updated_episodes == {"lighthouse": ("lighthouse-0001",)}


def test_an_estimated_date_does_not_drift_between_builds() -> None:
    undated = make_episode(1, published=NOW, date_estimated=True, content_hash="with-now")
    state, _ = merge_feeds(ArchiveState(), [make_feed([undated])], NOW)
    later = NOW + timedelta(days=2)
    redated = replace(undated, published=later, content_hash="with-later")
    state, changes = merge_feeds(state, [make_feed([redated])], later)
    (episode,) = state.episodes()
    assert episode.published == NOW
    assert episode.date_estimated
    assert changes.is_empty


def test_a_real_date_replaces_an_estimated_one() -> None:
    undated = make_episode(1, published=NOW, date_estimated=True)
    state, _ = merge_feeds(ArchiveState(), [make_feed([undated])], NOW)
    dated = replace(undated, published=START, date_estimated=False, content_hash="dated")
    state, changes = merge_feeds(state, [make_feed([dated])], NOW)
    (episode,) = state.episodes()
    assert episode.published == START
    assert not episode.date_estimated
    assert changes.updated_episodes == {"lighthouse": (undated.id,)}


def test_podcast_metadata_change_marks_the_podcast_changed() -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1)])], NOW)
    renamed = make_feed([make_episode(1)], title="Lighthouse Radio")
    state, changes = merge_feeds(state, [renamed], NOW)
    assert changes.changed_podcasts == {"lighthouse"}
    assert changes.new_episodes == {} and changes.updated_episodes == {}
    record = state.get("lighthouse")
    assert record is not None and record.podcast.title == "Lighthouse Radio"


def test_a_new_episode_changes_only_its_podcast() -> None:
    feeds = [
        make_feed([make_episode(1, "alpha")], "alpha"),
        make_feed([make_episode(1, "beta")], "beta"),
    ]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    grown = make_feed([make_episode(1, "beta"), make_episode(2, "beta")], "beta")
    state, changes = merge_feeds(state, [feeds[0], grown], NOW)
    assert changes.changed_podcasts == {"beta"}
    assert changes.new_episodes == {"beta": ("beta-0002",)}
    assert changes.new_count == 1 and changes.updated_count == 0
    assert changes.new_per_podcast == {"beta": 1}
    assert episode_counts(state) == {"alpha": 1, "beta": 2}
    assert [p.podcast.slug for p in state.podcasts] == ["alpha", "beta"]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC"):
        merge_feeds(ArchiveState(), [], datetime(2024, 1, 1))


# --- slugs ----------------------------------------------------------------------------------


def _same_title_episodes() -> list[Episode]:
    day = START + timedelta(days=10)
    return [
        make_episode(1, title="Q&A", published=day),
        make_episode(2, title="Q&A", published=day + timedelta(days=7)),
        make_episode(3, title="Q&A", published=day),  # same date as 1
        make_episode(6, title="Q & A", published=day),  # same date again: needs the id hash
        make_episode(4, title="Page", published=day),  # would clash with listing pages
        make_episode(5, title="", published=day),
    ]


def test_slug_collisions_are_settled_by_date_then_id_hash() -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed(_same_title_episodes())], NOW)
    slugs = slugs_by_id(state)
    assert slugs["lighthouse-0001"] == "q-a"
    assert slugs["lighthouse-0003"] == "q-a-2024-01-11"
    assert slugs["lighthouse-0006"].startswith("q-a-2024-01-11-")
    assert slugs["lighthouse-0002"] == "q-a-2024-01-18"
    assert slugs["lighthouse-0004"] == "page-2024-01-11"
    assert slugs["lighthouse-0005"]  # never empty
    assert len(set(slugs.values())) == len(slugs)


@settings(max_examples=40, deadline=None)
@given(st.permutations(_same_title_episodes() + [make_episode(n) for n in range(7, 12)]))
def test_slugs_never_depend_on_feed_order(episodes: list[Episode]) -> None:
    expected, _ = merge_feeds(
        ArchiveState(), [make_feed(sorted(episodes, key=lambda e: e.id))], NOW
    )
    state, _ = merge_feeds(ArchiveState(), [make_feed(episodes)], NOW)
    assert slugs_by_id(state) == slugs_by_id(expected)


def test_a_later_episode_with_a_taken_title_gets_a_dated_slug() -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1, title="Storm")])], NOW)
    newer = make_episode(2, title="Storm")
    state, _ = merge_feeds(state, [make_feed([newer])], NOW)
    assert slugs_by_id(state) == {"lighthouse-0001": "storm", "lighthouse-0002": "storm-2024-01-03"}


def test_duplicate_ids_in_one_feed_keep_one_episode_regardless_of_order() -> None:
    a = make_episode(1, content_hash="a", title="First copy")
    b = make_episode(1, content_hash="b", title="Second copy")
    one, _ = merge_feeds(ArchiveState(), [make_feed([a, b])], NOW)
    other, _ = merge_feeds(ArchiveState(), [make_feed([b, a])], NOW)
    assert one == other
    assert len(list(one.episodes())) == 1


# --- files ----------------------------------------------------------------------------------


def _rich_episode() -> Episode:
    return make_episode(
        7,
        title="Ünïcode & <tags> \u2028 in titles",
        link="https://example.test/7",
        notes_html="<p>Hello <b>there</b></p>",
        text="Hello there",
        duration=3723,
        enclosure=Enclosure(url="https://example.test/7.mp3", type="audio/mpeg", length=1234),
        chapters=(Chapter(start=0.0, title="Intro"), Chapter(62.5, "Fog", "https://example.test")),
        people=(Person(name="Ada Keeper", slug="ada-keeper"), Person("Bo", "bo", role="guest")),
        transcripts=(Transcript(url="https://example.test/7.vtt", type="text/vtt"),),
        topics=("heroku",),
        explicit=False,
        number=7,
        season=2,
    )


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([_rich_episode(), make_episode(1)])], NOW)
    save_archive(tmp_path, state)
    assert load_archive(tmp_path) == state


def test_saving_twice_is_byte_identical_and_writes_nothing_the_second_time(tmp_path: Path) -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(n) for n in range(5)])], NOW)
    first = save_archive(tmp_path, state)
    path = archive_dir(tmp_path) / "lighthouse" / "2024.json"
    assert first == [path, path.with_name("podcast.json")]
    data, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert save_archive(tmp_path, load_archive(tmp_path)) == []
    assert path.read_bytes() == data
    assert path.stat().st_mtime_ns == mtime


def test_file_format_is_stable_sorted_and_readable() -> None:
    feed = make_feed([_rich_episode(), make_episode(1)])
    state, _ = merge_feeds(ArchiveState(), [feed], NOW)
    record = state.get("lighthouse")
    assert record is not None
    files = encode_podcast_files(record)
    assert sorted(files) == ["2024.json", "podcast.json"]
    for name, data in files.items():
        assert data == (DATA / "lighthouse" / name).read_bytes()
        assert data.endswith(b"}\n")
    assert "Ünïcode".encode() in files["2024.json"]  # not \u-escaped
    document = json.loads(files["2024.json"])
    assert [e["id"] for e in document["episodes"]] == ["lighthouse-0001", "lighthouse-0007"]
    assert document["episodes"][0]["first_seen"] == "2024-06-01T12:00:00Z"
    assert document["format"] == json.loads(files["podcast.json"])["format"] == 2


def test_only_changed_podcast_files_are_written(tmp_path: Path) -> None:
    feeds = [
        make_feed([make_episode(1, "alpha")], "alpha"),
        make_feed([make_episode(1, "beta")], "beta"),
    ]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    assert len(save_archive(tmp_path, state)) == 4  # podcast.json and 2024.json each
    grown = make_feed([make_episode(1, "beta"), make_episode(2, "beta")], "beta")
    state, _ = merge_feeds(state, [grown], NOW)
    assert save_archive(tmp_path, state) == [archive_dir(tmp_path) / "beta" / "2024.json"]


def test_save_can_be_limited_to_the_touched_podcasts(tmp_path: Path) -> None:
    feeds = [make_feed([make_episode(1, "alpha")], "alpha"), make_feed([], "beta")]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    grown = make_feed([make_episode(1, "alpha"), make_episode(2, "alpha")], "alpha")
    state, changes = merge_feeds(state, [grown], NOW)
    written = save_archive(tmp_path, state, only=changes.touched_podcasts)
    alpha, beta = archive_dir(tmp_path) / "alpha", archive_dir(tmp_path) / "beta"
    assert written == [alpha / "2024.json", alpha / "podcast.json"]
    assert not beta.exists()
    assert save_archive(tmp_path, state) == [beta / "podcast.json"]  # no episodes: no year
    assert load_archive(tmp_path) == state  # a podcast without episodes round-trips too


def test_missing_archive_is_empty(tmp_path: Path) -> None:
    assert load_archive(tmp_path) == ArchiveState()


def test_leftover_temp_files_are_ignored_and_cleaned(tmp_path: Path) -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1)])], NOW)
    save_archive(tmp_path, state)
    stale = archive_dir(tmp_path) / ".lighthouse.json.x1y2.tmp"
    stale.write_text('{"half": ')
    in_folder = archive_dir(tmp_path) / "lighthouse" / ".2024.json.x1y2.tmp"
    in_folder.write_text('{"half": ')
    assert load_archive(tmp_path) == state
    save_archive(tmp_path, state)
    assert not stale.exists()
    assert not in_folder.exists()


def test_lone_surrogates_survive_a_round_trip(tmp_path: Path) -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1, title="bad \udc80")])], NOW)
    save_archive(tmp_path, state)
    assert load_archive(tmp_path) == state


def _write_archive(tmp_path: Path, name: str, text: str) -> Path:
    path = archive_dir(tmp_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": 1,\n "podcast": {\n<<<<<<< HEAD\n', r"lighthouse\.json:3: not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"format": 9, "podcast": {}, "episodes": []}', "unsupported archive format"),
        ('{"format": 1, "podcast": {"slug": "lighthouse"}, "episodes": []}', "missing 'title'"),
        (
            '{"format": 1, "podcast": {"slug": "other", "title": "t", "feed_url": "u"},'
            ' "episodes": []}',
            "does not match the file name",
        ),
    ],
)
def test_a_corrupt_archive_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    _write_archive(tmp_path, "lighthouse.json", text)
    with pytest.raises(ArchiveError, match=message) as caught:
        load_archive(tmp_path)
    assert "lighthouse.json" in str(caught.value)


def _tampered(tmp_path: Path, **fields: object) -> str:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1)])], NOW)
    save_archive(tmp_path, state)
    path = archive_dir(tmp_path) / "lighthouse" / "2024.json"
    document = json.loads(path.read_text())
    document["episodes"][0].update(fields)
    path.write_text(json.dumps(document))
    with pytest.raises(ArchiveError) as caught:
        load_archive(tmp_path)
    return str(caught.value)


def test_wrong_field_types_name_the_field(tmp_path: Path) -> None:
    assert "episodes[0].duration" in _tampered(tmp_path, duration="long")
    assert "episodes[0].published" in _tampered(tmp_path, published="yesterday")
    assert "episodes[0].published" in _tampered(tmp_path, published="2024-05-01T12:00:00")
    assert "episodes[0].number" in _tampered(tmp_path, number=True)


def test_an_unsafe_episode_slug_is_refused(tmp_path: Path) -> None:
    assert "unusable slug" in _tampered(tmp_path, slug="../../etc")


def test_an_episode_filed_under_another_podcast_is_refused(tmp_path: Path) -> None:
    assert "belongs to podcast 'elsewhere'" in _tampered(tmp_path, podcast="elsewhere")


episode_text = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    title=episode_text,
    notes=episode_text,
    duration=st.none() | st.integers(min_value=0, max_value=10**7),
    topics=st.lists(st.sampled_from(["heroku", "dokku", "aws"]), unique=True).map(tuple),
    published=st.datetimes(
        min_value=datetime(1, 1, 2),  # naive bounds, as hypothesis wants them
        max_value=datetime(9999, 12, 30),
        timezones=st.just(UTC),
    ),
)
def test_any_episode_survives_save_and_load(
    tmp_path_factory: pytest.TempPathFactory,
    title: str,
    notes: str,
    duration: int | None,
    topics: tuple[str, ...],
    published: datetime,
) -> None:
    episode = make_episode(
        1, title=title, notes_html=notes, duration=duration, topics=topics, published=published
    )
    state, _ = merge_feeds(ArchiveState(), [make_feed([episode])], NOW)
    content = tmp_path_factory.mktemp("content")
    save_archive(content, state)
    assert load_archive(content) == state


# --- catalog --------------------------------------------------------------------------------


def test_catalog_sorts_and_dates_from_the_data() -> None:
    def own(n: int, slug: str) -> Episode:
        return make_episode(n, slug, title=f"{slug} {n}")

    feeds = [
        make_feed([own(1, "beta"), own(3, "beta")], "beta", "beta radio"),
        make_feed([own(2, "alpha"), own(3, "alpha")], "alpha", "Zebra talk"),
    ]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    catalog = build_catalog(state, make_config("alpha", "beta"), Overrides())
    assert [p.slug for p in catalog.podcasts] == ["beta", "alpha"]  # by title, case-blind
    assert [e.id for e in catalog.episodes] == [
        "alpha-0003",
        "beta-0003",
        "alpha-0002",
        "beta-0001",
    ]
    assert catalog.built_at == START + timedelta(days=3)
    assert catalog.site.title == "Casts"


def test_a_podcast_removed_from_feeds_yaml_leaves_the_site_but_not_the_disk(tmp_path: Path) -> None:
    feeds = [
        make_feed([make_episode(1, "alpha")], "alpha"),
        make_feed([make_episode(1, "beta")], "beta"),
    ]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    save_archive(tmp_path, state)
    catalog = build_catalog(load_archive(tmp_path), make_config("alpha"), Overrides())
    assert [p.slug for p in catalog.podcasts] == ["alpha"]
    assert {e.podcast for e in catalog.episodes} == {"alpha"}
    assert (archive_dir(tmp_path) / "beta" / "podcast.json").is_file()


def test_feeds_yaml_title_and_include_apply_to_archived_podcasts() -> None:
    episodes = [
        make_episode(1, topics=("heroku",)),
        make_episode(2),
        make_episode(3, topics=("gone",)),
    ]
    state, _ = merge_feeds(ArchiveState(), [make_feed(episodes)], NOW)
    config = make_config("lighthouse", include="topics", title="Harbour Lights")
    catalog = build_catalog(state, config, Overrides())
    assert [p.title for p in catalog.podcasts] == ["Harbour Lights"]
    assert [e.id for e in catalog.episodes] == ["lighthouse-0001"]  # off-topic ones hidden


def test_an_empty_catalog_has_no_build_date() -> None:
    catalog = build_catalog(ArchiveState(), make_config("lighthouse"), Overrides())
    assert catalog.episodes == () and catalog.built_at is None


def test_archive_state_helpers() -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1), make_episode(2)])], NOW)
    assert state.episode_count("lighthouse") == 2
    assert state.episode_count("nobody") == 0
    assert isinstance(state.get("lighthouse"), PodcastArchive)


def test_an_episode_published_in_two_feeds_is_shown_once() -> None:
    shared = Enclosure(url="https://cdn.example.test/joint.mp3", type="audio/mpeg")
    feeds = [
        make_feed([make_episode(1, "alpha", title="Joint show", enclosure=shared)], "alpha"),
        make_feed([make_episode(1, "beta", title="Joint show", enclosure=shared)], "beta"),
    ]
    state, _ = merge_feeds(ArchiveState(), feeds, NOW)
    catalog = build_catalog(state, make_config("alpha", "beta"), Overrides())
    (episode,) = catalog.episodes
    assert {episode.podcast, *(ref.podcast for ref in episode.also_in)} == {"alpha", "beta"}


titles = st.sampled_from(["Q&A", "q & a", "Page", "", "Ünïcode", "-", "Episode 1", "x" * 120])


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.tuples(titles, st.integers(min_value=0, max_value=5)), max_size=25),
    split=st.integers(min_value=0, max_value=25),
)
def test_slugs_are_unique_well_formed_and_fixed_once_given(
    items: list[tuple[str, int]], split: int
) -> None:
    episodes = [
        make_episode(n, title=title, published=START + timedelta(days=day))
        for n, (title, day) in enumerate(items)
    ]
    first, _ = merge_feeds(ArchiveState(), [make_feed(episodes[:split])], NOW)
    both, _ = merge_feeds(first, [make_feed(episodes[split:])], NOW)
    slugs = slugs_by_id(both)
    assert len(set(slugs.values())) == len(slugs) == len(episodes)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in slugs.values())
    assert not set(slugs.values()) & {"page", "feed", "index"}
    assert slugs_by_id(first).items() <= slugs.items()  # earlier slugs never move


def test_health_is_passed_through_and_unarchived_podcasts_are_absent() -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1)])], NOW)
    health = (FeedHealth(slug="never", title="Never", url="u", status=FetchStatus.FAILED),)
    catalog = build_catalog(state, make_config("lighthouse", "never"), Overrides(), health)
    assert [p.slug for p in catalog.podcasts] == ["lighthouse"]
    assert catalog.health == health


any_text = st.text(max_size=20)
maybe_text = st.none() | any_text
small_ints = st.integers(min_value=-(2**40), max_value=2**40)
nested = st.fixed_dictionaries(
    {
        "enclosure": st.none()
        | st.builds(Enclosure, url=any_text, type=any_text, length=st.none() | small_ints),
        "chapters": st.lists(
            st.builds(
                Chapter,
                start=st.floats(allow_nan=False, allow_infinity=False),
                title=any_text,
                url=maybe_text,
            ),
            max_size=3,
        ).map(tuple),
        "people": st.lists(
            st.builds(Person, name=any_text, slug=any_text, role=any_text, href=maybe_text),
            max_size=3,
        ).map(tuple),
        "transcripts": st.lists(
            st.builds(Transcript, url=any_text, type=any_text, language=maybe_text), max_size=2
        ).map(tuple),
        "number": st.none() | small_ints,
        "explicit": st.none() | st.booleans(),
        "date_estimated": st.booleans(),
        "image": maybe_text,
    }
)


@settings(max_examples=60, deadline=None)
@given(fields=nested)
def test_nested_fields_survive_save_and_load(
    tmp_path_factory: pytest.TempPathFactory, fields: dict[str, object]
) -> None:
    state, _ = merge_feeds(ArchiveState(), [make_feed([make_episode(1, **fields)])], NOW)
    content = tmp_path_factory.mktemp("content")
    save_archive(content, state)
    assert load_archive(content) == state
