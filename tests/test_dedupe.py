"""catalog.dedupe.merge_across_feeds: one episode per real-world episode across podcasts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.catalog.dedupe import enclosure_key, merge_across_feeds, title_key
from devcasts.records import Enclosure, Episode, SourceRef

DAY = datetime(2024, 9, 2, 8, tzinfo=UTC)


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


def test_same_title_within_a_day_is_one_episode() -> None:
    first = episode("alpha", "1", title="Shipping on Fridays!", published=DAY)
    second = episode("beta", "2", title="shipping  on fridays", published=DAY + timedelta(hours=20))
    third = episode("gamma", "3", title="Shipping on Fridays", published=DAY + timedelta(days=3))
    result = merge_across_feeds([first, second, third])
    assert [e.id for e in result] == ["alpha-1", "gamma-3"]
    assert [ref.podcast for ref in result[0].also_in] == ["beta"]


def test_episodes_of_one_podcast_are_never_merged_here() -> None:
    first = episode("alpha", "1", title="Mailbag")
    second = episode("alpha", "2", title="Mailbag", published=DAY + timedelta(hours=1))
    assert merge_across_feeds([first, second]) == (first, second)


def test_a_chain_never_joins_two_episodes_of_one_podcast() -> None:
    shared = audio("https://cdn.example.com/shared.mp3")
    a1 = episode("alpha", "1", enclosure=shared)
    b1 = episode("beta", "1", enclosure=shared, title="Mailbag")
    a2 = episode("alpha", "2", title="Mailbag")
    result = merge_across_feeds([a1, b1, a2])
    assert {e.id for e in result} == {"alpha-1", "alpha-2"}


def test_survivor_is_the_first_seen_then_earliest_published() -> None:
    seen_early = episode("zeta", "1", title="Same", first_seen=DAY - timedelta(days=5))
    published_early = episode("alpha", "1", title="Same", published=DAY - timedelta(hours=2))
    (merged,) = merge_across_feeds([published_early, seen_early])
    assert merged.podcast == "zeta"
    (merged,) = merge_across_feeds([replace(seen_early, first_seen=None), published_early])
    assert merged.podcast == "alpha"


def test_sources_and_topics_are_gathered_on_the_survivor() -> None:
    first = episode("alpha", "1", title="Same", topics=("aws",), also_in=(SourceRef("old"),))
    second = episode("beta", "1", title="Same", topics=("kubernetes", "aws"), link=None)
    (merged,) = merge_across_feeds([first, second])
    assert merged.also_in == (SourceRef("beta", None), SourceRef("old"))
    assert merged.topics == ("aws", "kubernetes")


def test_keys() -> None:
    assert enclosure_key("https://CDN.example.com/a.mp3?x=1#t") == "cdn.example.com/a.mp3"
    assert title_key("  Déjà   Vu: Deploys!! ") == "deja vu deploys"


_PODCASTS = st.sampled_from(["alpha", "beta", "gamma"])
_TITLES = st.sampled_from(["One", "one!", "Two", "Three"])
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
            )
        )
    return result


@settings(max_examples=100, deadline=None)
@given(_episodes(), st.randoms(use_true_random=False))
def test_merge_properties(episodes: list[Episode], rng: object) -> None:
    result = merge_across_feeds(episodes)
    named = {e.id for e in result} | {
        (ref.podcast, ref.link)
        for e in result
        for ref in e.also_in  # type: ignore[misc]
    }
    for original in episodes:  # every source survives or is named
        assert original.id in named or (original.podcast, original.link) in named
    assert len(result) <= len(episodes)
    assert merge_across_feeds(result) == result  # idempotent
    shuffled = list(episodes)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert {e.id for e in merge_across_feeds(shuffled)} == {e.id for e in result}
