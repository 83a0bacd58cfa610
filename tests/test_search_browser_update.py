"""Updating the in-browser index from the previous build's files gives the bytes a build from
scratch gives, touching only the files of the documents that changed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_index import load_test_catalog

from devcasts.records import Catalog, Episode, Podcast, TranscriptTurn
from devcasts.search import browser_index
from devcasts.search.browser_index import (
    CHUNK_DOCS,
    BrowserIndex,
    IndexUpdate,
    build_browser_index,
    update_browser_index,
)
from devcasts.search.browser_state import IndexState

INDEX = "search-index/"
WORDS = [
    "Deploys",
    "deploying",
    "deploy",
    "Kubernetes",
    "kubernetes",
    "Postgres",
    "postgres",
    "canary",
    "Canaries",
    "rollback",
    "rollbacks",
    "zeppelin",
    "zebra",
    "zone",
    "zones",
    "zoning",
    "zap",
    "apple",
    "apples",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_test_catalog()


@pytest.fixture
def small_shards() -> Iterator[None]:
    """Shards of a few hundred bytes, so groups split and merge, and updates that change
    many of the few documents still go the incremental way."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(browser_index, "SHARD_BYTES", 300)
        patch.setattr(browser_index, "REBUILD_FRACTION", 1.0)
        yield


def update(
    previous: BrowserIndex | IndexUpdate,
    files: dict[str, bytes],
    catalog: Catalog,
    images: dict[str, str] | None = None,
) -> IndexUpdate:
    assert previous.state is not None
    return update_browser_index(catalog, images or {}, previous.state, files.get)


def files_after(update: IndexUpdate, before: dict[str, bytes]) -> dict[str, bytes]:
    """The folder after the update: what it wrote and what it kept; the rest is removed."""
    files = {path: before[path] for path in update.kept}
    files.update(update.written)
    return files


def episode_like(model: Episode, name: str, published_days: float, words: list[str]) -> Episode:
    return dataclasses.replace(
        model,
        id=name,
        guid=name,
        slug=name,
        title=" ".join(words[:3]).capitalize(),
        text=" ".join(words),
        summary=" ".join(words[:5]),
        published=model.published + timedelta(days=published_days),
        content_hash=hashlib.sha256(" ".join(words).encode()).hexdigest()[:12],
    )


def with_episodes(catalog: Catalog, episodes: list[Episode]) -> Catalog:
    ordered = sorted(episodes, key=lambda e: (e.published, e.id), reverse=True)
    return dataclasses.replace(catalog, episodes=tuple(ordered))


# --- random histories --------------------------------------------------------------------------

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12)
changes = st.one_of(
    st.tuples(st.just("new newest"), texts),
    st.tuples(st.just("new in the middle"), texts),
    st.tuples(st.just("edit newest"), texts),
    st.tuples(st.just("edit old"), texts),
    st.tuples(st.just("remove"), texts),
    st.tuples(st.just("new podcast"), texts),
)


def apply(catalog: Catalog, change: tuple[str, list[str]], step: int) -> Catalog:
    kind, words = change
    episodes = list(catalog.episodes)
    newest, name = episodes[0], f"added-{step}"
    if kind == "new newest":
        episodes.append(episode_like(newest, name, 1, words))
    elif kind == "new in the middle":
        middle = episodes[len(episodes) // 2]
        episodes.append(episode_like(middle, name, 0.5, words))
    elif kind == "edit newest":
        episodes[0] = episode_like(newest, newest.id, 0, words)
    elif kind == "edit old":
        at = len(episodes) - min(3, len(episodes))
        episodes[at] = episode_like(episodes[at], episodes[at].id, 0, words)
    elif kind == "remove":
        if len(episodes) > 1:
            del episodes[len(words) % len(episodes)]
    else:
        podcast = Podcast(slug=f"new-show-{step}", title=f"New show {step}", feed_url="n.xml")
        catalog = dataclasses.replace(catalog, podcasts=(*catalog.podcasts, podcast))
        episodes.append(
            dataclasses.replace(episode_like(newest, name, 1, words), podcast=podcast.slug)
        )
    return with_episodes(catalog, episodes)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(changes, min_size=1, max_size=4), size=st.integers(3, 40))
def test_an_update_gives_the_bytes_of_a_build_from_scratch(
    small_shards: None, catalog: Catalog, history: list[tuple[str, list[str]]], size: int
) -> None:
    current = with_episodes(catalog, list(catalog.episodes[:size]))
    built: BrowserIndex | IndexUpdate = build_browser_index(current)
    files = build_browser_index(current).files
    for step, change in enumerate(history):
        current = apply(current, change, step)
        updated = update(built, files, current)
        files = files_after(updated, files)
        scratch = build_browser_index(current)
        assert files == scratch.files, change[0]
        assert updated.state == scratch.state
        # From scratch only for a new podcast (the lists change), or when so many documents
        # come after the first changed one that updating costs more (REBUILD_FRACTION).
        many = updated.reason.endswith(" documents changed")
        assert updated.rebuilt == (change[0] == "new podcast" or many), updated.reason
        if change[0] in ("new newest", "edit newest"):  # what a scheduled build mostly sees
            assert not updated.rebuilt, updated.reason
        built = updated


# --- what an update touches ------------------------------------------------------------------


def test_a_new_newest_episode_touches_only_its_terms_shards(catalog: Catalog) -> None:
    before = build_browser_index(catalog)
    new = episode_like(catalog.episodes[0], "brand-new", 1, ["zeppelin", "deploys"])
    after = update(before, before.files, with_episodes(catalog, [*catalog.episodes, new]))
    assert not after.rebuilt and after.readded == 1
    written = set(after.written)
    last_chunk = len(catalog.episodes) // CHUNK_DOCS
    expected_kinds = {"meta.json", "facets.bin", "entities.json", f"d/{last_chunk}.json"}
    others = {
        path.removeprefix(INDEX)
        for path in written
        if path.startswith((INDEX + "t/", INDEX + "v/"))
    }
    assert {path.removeprefix(INDEX) for path in written} - others <= expected_kinds
    meta = json.loads(after.written[INDEX + "meta.json"])
    assert 0 < len(others) <= 12  # a few shards, and the vocabulary of z and d
    assert len(after.kept) > len(before.files) - 20
    assert meta["documents"] == len(catalog.episodes) + 1
    assert (
        files_after(after, before.files)
        == build_browser_index(with_episodes(catalog, [*catalog.episodes, new])).files
    )


def test_nothing_new_writes_nothing_but_keeps_everything(catalog: Catalog) -> None:
    before = build_browser_index(catalog)
    after = update(before, before.files, catalog)
    assert not after.rebuilt and after.readded == 0
    assert after.written == {}
    assert sorted(after.kept) == sorted(before.files)


def test_a_cover_that_changes_rewrites_only_its_documents_chunk(catalog: Catalog) -> None:
    before = build_browser_index(catalog)
    oldest = catalog.episodes[-1]
    after = update(before, before.files, catalog, {oldest.id: "art/abc-96.jpg"})
    assert not after.rebuilt
    assert set(after.written) == {INDEX + "d/0.json", INDEX + "meta.json"}


def test_a_missing_or_changed_file_means_a_build_from_scratch(catalog: Catalog) -> None:
    before = build_browser_index(catalog)
    new = episode_like(catalog.episodes[0], "brand-new", 1, ["zeppelin", "deploys"])
    grown = with_episodes(catalog, [*catalog.episodes, new])
    for damage in ("remove", "change"):
        files = dict(before.files)
        for path in files:
            if path.startswith(INDEX + "t/z"):
                if damage == "remove":
                    del files[path]
                else:
                    files[path] += b"\0"
                break
        after = update(before, files, grown)
        assert after.rebuilt and "not as the last build wrote it" in after.reason
        assert after.written == build_browser_index(grown).files


def test_a_new_podcast_means_a_build_from_scratch(catalog: Catalog) -> None:
    before = build_browser_index(catalog)
    grown = apply(catalog, ("new podcast", ["zeppelin"]), 0)
    after = update(before, before.files, grown)
    assert after.rebuilt and after.reason == "the podcasts or topics changed"


def test_many_changed_documents_mean_a_build_from_scratch(catalog: Catalog) -> None:
    before = build_browser_index(catalog)
    old = catalog.episodes[-1]
    edited = [*catalog.episodes[:-1], episode_like(old, old.id, 0, ["zeppelin"])]
    after = update(before, before.files, with_episodes(catalog, edited))
    assert after.rebuilt and after.reason == f"{len(catalog.episodes)} documents changed"


def test_the_state_survives_its_file(catalog: Catalog) -> None:
    state = build_browser_index(catalog).state
    assert state is not None
    assert IndexState.from_bytes(state.to_bytes()) == state
    assert IndexState.from_bytes(b"{not json") is None
    assert IndexState.from_bytes(b'{"version": 0}') is None


def test_a_linked_transcript_that_arrives_indexes_its_episode_again(catalog: Catalog) -> None:
    before = build_browser_index(catalog)
    old = catalog.episodes[-1]
    spoken = dataclasses.replace(
        old,
        linked_transcript=(TranscriptTurn("Host", "A zeppelin over the datacenter."),),
        linked_transcript_url="https://example.org/t.vtt",
    )
    grown = with_episodes(catalog, [*catalog.episodes[:-1], spoken])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(browser_index, "REBUILD_FRACTION", 1.0)
        after = update(before, before.files, grown)
    assert not after.rebuilt and after.readded == len(catalog.episodes)
    assert files_after(after, before.files) == build_browser_index(grown).files


@given(
    st.lists(
        st.tuples(st.integers(1, 3000), st.integers(1, 400), st.integers(0, 255)),
        min_size=1,
        max_size=60,
    ),
    st.integers(0, 5),
)
def test_posting_lists_encode_as_the_tuples_they_hold(
    steps: list[tuple[int, int, int]], before: int
) -> None:
    """The compact postings a build from scratch keeps give back the postings put in, and the
    bytes the tuples would have been written as (gaps past one byte included)."""
    from devcasts.search.browser_index import PostingList, _encode_postings

    docs, doc = [], before
    for gap, frequency, code in steps:
        doc += gap
        docs.append((doc, frequency, code))
    compact = PostingList(*docs[0])
    for posting in docs[1:]:
        compact.append(*posting)
    assert list(compact) == docs and len(compact) == len(docs)
    assert (compact.first, compact.last) == (docs[0][0], docs[-1][0])
    expected, written = bytearray(), bytearray()
    _encode_postings(expected, docs, before)
    _encode_postings(written, compact, before)
    assert written == expected
