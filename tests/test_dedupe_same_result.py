"""dedupe's fast paths give what the plain, obviously right code gives.

The reference functions below are dedupe without its cheap keys and groups: every key through
urlsplit and NFKD, every pair of episodes compared. Any difference in a key, a pair's order or
a survivor shows up here.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from devcasts.catalog import dedupe
from devcasts.catalog.dedupe import enclosure_key, merge_across_feeds, title_key
from devcasts.records import Enclosure, Episode, SourceRef

DAY = datetime(2024, 9, 2, 8, tzinfo=UTC)


def reference_enclosure_key(url: str) -> str:
    parts = urlsplit(url)
    key = parts.netloc.lower() + parts.path
    if "://" in parts.query or parts.query.startswith("www."):
        key += "?" + parts.query
    return key


def reference_title_key(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def reference_merge(episodes: Sequence[Episode]) -> tuple[Episode, ...]:
    podcasts = [dedupe._podcasts(episode) for episode in episodes]
    parent = list(range(len(episodes)))

    def find(index: int) -> int:
        while parent[index] != index:
            index = parent[index]
        return index

    for first, second in reference_pairs(episodes):
        root_a, root_b = find(first), find(second)
        if root_a == root_b or podcasts[root_a] & podcasts[root_b]:
            continue
        root_a, root_b = min(root_a, root_b), max(root_a, root_b)
        parent[root_b] = root_a
        podcasts[root_a] |= podcasts[root_b]
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(episodes)):
        members[find(index)].append(index)
    survivors: dict[int, Episode] = {}
    for indexes in members.values():
        group = sorted((episodes[i] for i in indexes), key=dedupe._survivor_order)
        survivor_index = next(i for i in indexes if episodes[i] is group[0])
        survivors[survivor_index] = dedupe._merged(group[0], group[1:], {})
    return tuple(survivors[index] for index in sorted(survivors))


def reference_pairs(episodes: Sequence[Episode]) -> list[tuple[int, int]]:
    """Every pair in survivor order: first those with the same audio, then by title."""
    order = sorted(range(len(episodes)), key=lambda i: (dedupe._survivor_order(episodes[i]), i))

    def audio(index: int) -> str | None:
        enclosure = episodes[index].enclosure
        return None if enclosure is None else reference_enclosure_key(enclosure.url)

    def title(index: int) -> str | None:
        episode = episodes[index]
        key = dedupe.comparable_title(episode.title)
        if not dedupe.has_own_date(episode) or dedupe.is_generic_title(key):
            return None
        return key

    def identifying(key: str | None, of: object, most_podcasts: int) -> bool:
        counts = Counter(p for i in range(len(episodes)) if of(i) == key for p in podcasts[i])  # type: ignore[operator]
        return max(counts.values()) <= dedupe.MAX_PER_PODCAST and len(counts) <= most_podcasts

    podcasts = [dedupe._podcasts(episode) for episode in episodes]
    by_audio: list[tuple[int, int]] = []
    by_title: list[tuple[int, int]] = []
    for position, first in enumerate(order):
        for second in order[position + 1 :]:
            if episodes[first].podcast == episodes[second].podcast:
                continue
            key = audio(first)
            if key is not None and key == audio(second) and identifying(key, audio, 10**9):
                by_audio.append((first, second))
            key = title(first)
            if (
                key is not None
                and key == title(second)
                and identifying(key, title, dedupe.MAX_PODCASTS_PER_TITLE)
                and dedupe.same_title_evidence(episodes[first], episodes[second])
            ):
                by_title.append((first, second))
    return by_audio + by_title


# --- keys -----------------------------------------------------------------------------------

_URL_PARTS = st.sampled_from(
    ["http", "HTTPS", "h2+x.y-z", "1http", "://", "//", ":", "/", "?", "#", "@", ".", "[", "]",
     "[::1]", "a", "Z", "é", "\u2100", " ", "\t", "\n", "\x00", "%20", "cdn.Example.COM", "x.mp3",
     ":443", "user:pw@"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.lists(_URL_PARTS, max_size=12).map("".join), st.text(max_size=40)))
@example("https://CDN.example.com/a.mp3?x=1#t")
@example("http://host?query/with/slashes")
@example("http://host#frag?not-a-query")
@example("HTTP://h:80")
@example(" http://leading.space/x")
@example("http://ta\tb.example/x\n.mp3")
@example("http://[::1]/x.mp3")
@example("http://[::1/x.mp3")
@example("mailto:x")
@example("https:/one-slash/x")
@example("http://h/path with spaces ")
@example("http://r.example/redirect.mp3?http://e.example/1.mp3")
@example("http://r.example/x?www.e.example/1.mp3#f")
def test_enclosure_key_is_what_urlsplit_gives(url: str) -> None:
    try:
        expected = reference_enclosure_key(url)
    except ValueError:
        with pytest.raises(ValueError):
            enclosure_key(url)
        return
    assert enclosure_key(url) == expected


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=30), st.text(st.characters(max_codepoint=127), max_size=30)))
@example("  Déjà   Vu: Deploys!! ")
@example("snake_case__and--dashes")
@example("ﬁnal Straße ÅNGSTRÖM")
@example("\x1c\x1f tabs\tand\nnewlines\x0b")
def test_title_key_is_the_plain_fold(title: str) -> None:
    assert title_key(title) == reference_title_key(title)


# --- merge ----------------------------------------------------------------------------------

_PODCASTS = st.sampled_from(["alpha", "beta", "gamma", "delta"])
_TITLES = st.sampled_from(
    ["One", "one!", "ONE", "Três", "Episode 9: Tracing Spans Everywhere",
     "9: tracing spans everywhere", "Trés Grand Deploy Stories", "tres grand deploy stories"]
)  # fmt: skip
_URLS = st.sampled_from(
    ["https://c.example.com/1.mp3", "https://C.example.com/1.mp3?a", "http://c.example.com/2.mp3",
     "https://c.example.com/2.mp3#t", "https://d.example.com/1.mp3",
     "http://r.example/redirect.mp3?http://e.example/1.mp3", "http://r.example/redirect.mp3", None]
)  # fmt: skip


@st.composite
def _episodes(draw: st.DrawFn) -> list[Episode]:
    result = []
    for index in range(draw(st.integers(min_value=0, max_value=14))):
        podcast = draw(_PODCASTS)
        url = draw(_URLS)
        seen = draw(st.none() | st.integers(0, 80))
        refs = draw(st.lists(st.sampled_from(["alpha", "beta", "omega"]), max_size=1))
        result.append(
            Episode(
                id=f"{podcast}-{index}",
                podcast=podcast,
                guid=str(index),
                title=draw(_TITLES),
                published=DAY + timedelta(hours=draw(st.integers(0, 80))),
                link=f"https://{podcast}.example.com/{index}",
                enclosure=Enclosure(url, "audio/mpeg") if url else None,
                first_seen=None if seen is None else DAY + timedelta(hours=seen),
                duration=draw(st.none() | st.sampled_from([1200, 1210, 3000])),
                text=draw(
                    st.sampled_from(["", "short", "Notes long enough to prove sameness. " * 2])
                ),
                date_estimated=draw(st.booleans()),
                topics=tuple(draw(st.lists(st.sampled_from(["aws", "k8s"]), max_size=2))),
                also_in=tuple(SourceRef(ref) for ref in refs if ref != podcast),
            )
        )
    return result


@settings(max_examples=400, deadline=None)
@given(_episodes(), st.randoms(use_true_random=False))
def test_merge_gives_what_the_plain_merge_gives(episodes: list[Episode], rng: object) -> None:
    assert merge_across_feeds(episodes) == reference_merge(episodes)
    rng.shuffle(episodes)  # type: ignore[attr-defined]
    assert merge_across_feeds(episodes) == reference_merge(episodes)
