"""catalog.dedupe.merge_across_feeds: one episode per real-world episode across podcasts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.catalog.dedupe import (
    comparable_title,
    enclosure_key,
    is_generic_title,
    merge_across_feeds,
    title_key,
)
from devcasts.records import Chapter, Enclosure, Episode, Person, SourceRef

DAY = datetime(2024, 9, 2, 8, tzinfo=UTC)
TITLE = "Shipping on Fridays, Safely"


def episode(podcast: str, ident: str, title: str = "", **fields: object) -> Episode:
    defaults: dict[str, object] = {
        "id": f"{podcast}-{ident}",
        "podcast": podcast,
        "guid": ident,
        "title": title or f"{podcast} episode {ident}",
        "published": DAY,
        "link": f"https://{podcast}.example.com/{ident}",
    }
    return Episode(**{**defaults, **fields})  # type: ignore[arg-type]


def audio(url: str) -> Enclosure:
    return Enclosure(url=url, type="audio/mpeg")


def test_same_enclosure_ignoring_query_string_is_one_episode() -> None:
    first = episode("alpha", "1", enclosure=audio("https://cdn.example.com/x.mp3?feed=alpha"))
    second = episode("beta", "9", enclosure=audio("http://CDN.example.com/x.mp3?feed=beta"))
    (merged,) = merge_across_feeds([first, second])
    assert merged.id == "alpha-1"
    assert merged.also_in == (SourceRef("beta", "https://beta.example.com/9"),)


def test_a_redirect_whose_query_is_the_file_keeps_it() -> None:
    redirect = "http://www.podtrac.example/pts/redirect.mp3?http://shows.example.org/"
    first = episode("alpha", "1", enclosure=audio(redirect + "first.mp3"))
    second = episode("beta", "1", enclosure=audio(redirect + "second.mp3"))
    assert merge_across_feeds([first, second]) == (first, second)
    assert enclosure_key(redirect + "a.mp3") == "www.podtrac.example/pts/redirect.mp3?" + (
        "http://shows.example.org/a.mp3"
    )


def test_same_title_within_a_day_is_one_episode() -> None:
    first = episode("alpha", "1", title=TITLE + "!", published=DAY)
    second = episode("beta", "2", title=TITLE.lower(), published=DAY + timedelta(hours=20))
    third = episode("gamma", "3", title=TITLE, published=DAY + timedelta(days=3))
    result = merge_across_feeds([first, second, third])
    assert [e.id for e in result] == ["alpha-1", "gamma-3"]
    assert [ref.podcast for ref in result[0].also_in] == ["beta"]


def test_same_title_days_apart_needs_the_same_duration_or_notes() -> None:
    notes = "We talk about feature flags, canary releases and the friday freeze at length."
    first = episode("alpha", "1", title=TITLE, duration=3600, text=notes)
    by_duration = episode(
        "beta", "1", title=TITLE, published=DAY + timedelta(days=9), duration=3605
    )
    by_notes = episode("gamma", "1", title=TITLE, published=DAY + timedelta(days=12), text=notes)
    neither = episode("delta", "1", title=TITLE, published=DAY + timedelta(days=30), duration=900)
    result = merge_across_feeds([first, by_duration, by_notes, neither])
    assert [e.id for e in result] == ["alpha-1", "delta-1"]
    assert {ref.podcast for ref in result[0].also_in} == {"beta", "gamma"}


@pytest.mark.parametrize(
    "title",
    ["Episode 1", "Trailer", "Weekly news", "Episode", "Untitled episode", "a", "#12 Kubernetes",
     "Bonus: Q&A", "Hello World", "1", "Ep. 7 - Intro"],
)  # fmt: skip
def test_a_generic_title_with_other_audio_is_never_the_same_episode(title: str) -> None:
    first = episode("alpha", "1", title=title, enclosure=audio("https://a.example/1.mp3"))
    second = episode("beta", "1", title=title, enclosure=audio("https://b.example/1.mp3"))
    assert is_generic_title(comparable_title(title))
    assert merge_across_feeds([first, second]) == (first, second)


def test_undated_items_are_never_the_same_by_title() -> None:
    first = episode("alpha", "1", title=TITLE, date_estimated=True, duration=60)
    second = episode("beta", "1", title=TITLE, date_estimated=True, duration=60)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    third = episode("gamma", "1", title=TITLE, published=epoch, duration=60)
    fourth = episode("delta", "1", title=TITLE, published=epoch, duration=60)
    assert merge_across_feeds([first, second, third, fourth]) == (first, second, third, fourth)


def test_a_title_one_show_repeats_identifies_nothing() -> None:
    weekly = "Platform Engineering Standup"
    repeated = [
        episode("alpha", str(n), title=weekly, published=DAY + timedelta(days=7 * n))
        for n in range(3)
    ]
    other = episode("beta", "1", title=weekly)
    assert merge_across_feeds([*repeated, other]) == (*repeated, other)


def test_numbered_prefixes_compare_equal() -> None:
    expected = "378 rust safe for marketing"
    for title in ("Episode 378: Rust, Safe for Marketing", "378: Rust, Safe for Marketing",
                  "#378 - Rust, Safe for Marketing", "Ep. 378 Rust, Safe for Marketing",
                  "E378: Rust, Safe for Marketing", "Episode #0378 | Rust, Safe for Marketing"):  # fmt: skip
        assert comparable_title(title) == expected, title
    assert comparable_title("3D printing for rust") == "3d printing for rust"
    assert comparable_title("Episode 378") == "378"
    assert comparable_title("Episodes of note") == "episodes of note"


def test_an_ad_free_copy_under_a_prefixed_title_is_merged() -> None:
    main = episode("main", "1", title="Episode 412: Caching All the Things",
                   enclosure=audio("https://cdn.example/main/412.mp3"))  # fmt: skip
    ad_free = episode("members", "1", title="412: Caching All the Things",
                      published=DAY + timedelta(hours=3),
                      enclosure=audio("https://cdn.example/members/412.mp3"))  # fmt: skip
    (merged,) = merge_across_feeds([main, ad_free])
    assert merged.also_in == (SourceRef("members", "https://members.example.com/1"),)


def test_episodes_of_one_podcast_are_never_merged_here() -> None:
    first = episode("alpha", "1", title=TITLE)
    second = episode("alpha", "2", title=TITLE, published=DAY + timedelta(hours=1))
    assert merge_across_feeds([first, second]) == (first, second)


def test_a_chain_never_joins_two_episodes_of_one_podcast() -> None:
    shared = audio("https://cdn.example.com/shared.mp3")
    a1 = episode("alpha", "1", enclosure=shared)
    b1 = episode("beta", "1", enclosure=shared, title=TITLE)
    a2 = episode("alpha", "2", title=TITLE)
    result = merge_across_feeds([a1, b1, a2])
    assert {e.id for e in result} == {"alpha-1", "alpha-2"}


def test_survivor_is_the_first_seen_then_earliest_published() -> None:
    seen_early = episode("zeta", "1", title=TITLE, first_seen=DAY - timedelta(days=5))
    published_early = episode("alpha", "1", title=TITLE, published=DAY - timedelta(hours=2))
    (merged,) = merge_across_feeds([published_early, seen_early])
    assert merged.podcast == "zeta"
    (merged,) = merge_across_feeds([replace(seen_early, first_seen=None), published_early])
    assert merged.podcast == "alpha"


def test_sources_and_topics_are_gathered_on_the_survivor() -> None:
    first = episode("alpha", "1", title=TITLE, topics=("aws",), also_in=(SourceRef("old"),))
    second = episode("beta", "1", title=TITLE, topics=("kubernetes", "aws"), link=None)
    (merged,) = merge_across_feeds([first, second])
    assert merged.also_in == (SourceRef("beta", None), SourceRef("old"))
    assert merged.topics == ("aws", "kubernetes")


def test_a_merged_copy_can_give_new_evidence_when_merged_again() -> None:
    shared = audio("https://cdn.example.com/shared.mp3")
    bare = episode("alpha", "1", title=TITLE, enclosure=shared)
    timed = episode("beta", "1", title="Other words entirely", enclosure=shared, duration=600)
    later = episode("gamma", "1", title=TITLE, published=DAY + timedelta(days=5), duration=600)
    once = merge_across_feeds([bare, timed, later])
    assert len(once) == 2  # the bare copy had no duration: the title alone proves nothing
    (twice,) = merge_across_feeds(once)
    assert [ref.podcast for ref in twice.also_in] == ["beta", "gamma"]


def test_the_merged_episode_takes_the_best_of_each_copy() -> None:
    shared = audio("https://cdn.example.com/shared.mp3")
    stub = episode("alpha", "1", enclosure=shared, first_seen=DAY - timedelta(days=1),
                   image="https://alpha.example/show.png", text="Short.", notes_html="<p>Short.</p>",
                   people=(Person("Ada Host", "ada-host"),))  # fmt: skip
    chapters = tuple(Chapter(60.0 * n, f"Part {n}") for n in range(13))
    rich = episode("beta", "1", enclosure=shared, duration=3600, number=42, season=2,
                   chapters=chapters, image="https://beta.example/ep42.png",
                   text="Long notes " * 20, notes_html="<p>Long notes</p>", summary="Long notes",
                   people=(Person("Ada Host", "ada-host"), Person("Bo Guest", "bo-guest", "guest")),
                   chapters_url="https://beta.example/42.json")  # fmt: skip
    shows = {"alpha": "https://alpha.example/show.png", "beta": "https://beta.example/show.png"}
    (merged,) = merge_across_feeds([stub, rich], shows)
    assert (merged.id, merged.slug, merged.link) == (stub.id, stub.slug, stub.link)
    assert merged.chapters == chapters
    assert merged.text == rich.text and merged.notes_html == rich.notes_html
    assert merged.summary == rich.summary
    assert [p.slug for p in merged.people] == ["ada-host", "bo-guest"]
    assert (merged.duration, merged.number, merged.season) == (3600, 42, 2)
    assert merged.image == "https://beta.example/ep42.png"  # its own, not the show's
    assert merged.chapters_url == "https://beta.example/42.json"


def test_keys() -> None:
    assert enclosure_key("https://CDN.example.com/a.mp3?x=1#t") == "cdn.example.com/a.mp3"
    assert title_key("  Déjà   Vu: Deploys!! ") == "deja vu deploys"


_PODCASTS = st.sampled_from(["alpha", "beta", "gamma"])
_TITLES = st.sampled_from(["One", "one!", "Episode 3: Build Caches Explained",
                           "3: build caches explained", "Three Rivers of Telemetry"])  # fmt: skip
_URLS = st.sampled_from(["https://c.example.com/1.mp3", "https://c.example.com/1.mp3?a", None])


@st.composite
def _episodes(draw: st.DrawFn) -> list[Episode]:
    count = draw(st.integers(min_value=0, max_value=8))
    result = []
    for index in range(count):
        url = draw(_URLS)
        result.append(
            episode(
                draw(_PODCASTS),
                str(index),
                title=draw(_TITLES),
                published=DAY + timedelta(hours=draw(st.integers(0, 60))),
                enclosure=audio(url) if url else None,
                duration=draw(st.none() | st.sampled_from([600, 605, 900])),
                date_estimated=draw(st.booleans()),
            )
        )
    return result


@settings(max_examples=100, deadline=None)
@given(_episodes(), st.randoms(use_true_random=False))
def test_merge_properties(episodes: list[Episode], rng: object) -> None:
    result = merge_across_feeds(episodes)
    named = {e.id for e in result} | {(ref.podcast, ref.link) for e in result for ref in e.also_in}
    for original in episodes:  # every source survives or is named
        assert original.id in named or (original.podcast, original.link) in named
    assert len(result) <= len(episodes)
    # Merging the result again respects the merges made (one page per podcast and episode).
    # It may join more: a merged copy's best-of duration or notes can be new evidence.
    again = merge_across_feeds(result)
    for merged in again:
        podcasts = [merged.podcast, *(ref.podcast for ref in merged.also_in)]
        assert len(podcasts) == len(set(podcasts))
    assert {e.id for e in again} <= {e.id for e in result}
    shuffled = list(episodes)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert set(merge_across_feeds(shuffled)) == set(result)
