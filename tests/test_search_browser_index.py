"""The in-browser index holds what the terminal's whoosh index holds: the same terms, document
frequencies, term frequencies and field lengths, in files a browser fetches a few at a time."""

from __future__ import annotations

import dataclasses
import json
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_index import load_test_catalog

from devcasts.records import Catalog, Enclosure, Episode
from devcasts.search import browser_index
from devcasts.search.browser_index import (
    CHUNK_DOCS,
    FIELDS,
    MAX_PREFIX,
    SHARD_BYTES,
    build_browser_index,
)
from devcasts.search.marker import INDEX_NAME
from devcasts.search.schema import FIELD_BOOSTS
from devcasts.search.writer import update_index

INDEX = "search-index/"


def stem(word: str) -> str:
    from whoosh.lang.porter import stem as porter_stem

    return str(porter_stem(word))  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_test_catalog()


@pytest.fixture(scope="module")
def files(catalog: Catalog) -> dict[str, bytes]:
    return build_browser_index(catalog).files


def meta_of(files: dict[str, bytes]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files[INDEX + "meta.json"])
    return data


# --- a reader, as static/search-engine.js reads --------------------------------------------


def read_varint(data: bytes, at: list[int]) -> int:
    value = shift = 0
    while True:
        byte = data[at[0]]
        at[0] += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value
        shift += 7


def read_shard(data: bytes) -> dict[str, dict[int, list[tuple[int, int, int]]]]:
    """term -> field number -> [(document, frequency, length code)], from a shard file as
    stored (compressed in zlib's format, as the browser's DecompressionStream reads it)."""
    data = zlib.decompress(data)
    assert data[:4] == b"DCT2"
    at = [4]
    terms: dict[str, dict[int, list[tuple[int, int, int]]]] = {}
    for _ in range(read_varint(data, at)):
        size = read_varint(data, at)
        term = data[at[0] : at[0] + size].decode("utf-8")
        at[0] += size
        fields: dict[int, list[tuple[int, int, int]]] = {}
        while (field := data[at[0]]) != 0xFF:
            at[0] += 1
            docs, doc = [], 0
            frequency, last, size = (read_varint(data, at) for _ in range(3))
            postings_end = at[0] + size
            for _ in range(frequency):
                doc += read_varint(data, at)
                count = read_varint(data, at)
                docs.append((doc, count, data[at[0]]))
                at[0] += 1
            assert docs and docs[-1][0] == last  # as written for the next build's update
            assert at[0] == postings_end
            fields[field] = docs
        at[0] += 1
        terms[term] = fields
    assert at[0] == len(data)
    return terms


def shard_for(meta: dict[str, Any], term: str) -> str | None:
    """The browser's rule: the longest prefix of the term that has a shard."""
    for size in range(min(len(term), meta["prefix"]), 0, -1):
        if term[:size] in meta["shards"]:
            return str(meta["shards"][term[:size]])
    return None


def all_postings(files: dict[str, bytes]) -> dict[tuple[str, int], list[tuple[int, int, int]]]:
    found = {}
    for path, data in files.items():
        if path.startswith(INDEX + "t/"):
            for term, fields in read_shard(data).items():
                for field, docs in fields.items():
                    found[(term, field)] = docs
    return found


def documents(files: dict[str, bytes]) -> list[list[Any]]:
    meta = meta_of(files)
    chunks = (meta["documents"] + CHUNK_DOCS - 1) // CHUNK_DOCS
    return [doc for n in range(chunks) for doc in json.loads(files[f"{INDEX}d/{n}.json"])]


# --- the same statistics as whoosh -----------------------------------------------------------


def test_postings_and_statistics_are_whooshs(
    catalog: Catalog, files: dict[str, bytes], tmp_path: Path
) -> None:
    from whoosh import index

    update_index(catalog, tmp_path / "index")
    ix = index.open_dir(str(tmp_path / "index"), indexname=INDEX_NAME)
    meta = meta_of(files)
    paths = [doc[0] for doc in documents(files)]
    ours = all_postings(files)
    with ix.reader() as reader:
        number_of = {
            reader.stored_fields(n)["url"].split("/devcasts/", 1)[1]: paths.index(
                reader.stored_fields(n)["url"].split("/devcasts/", 1)[1]
            )
            for n in reader.all_doc_ids()
        }
        assert meta["documents"] == reader.doc_count() == len(paths)
        for field_number, name in enumerate(FIELDS):
            field = meta["fields"][field_number]
            assert field["name"] == name and field["boost"] == FIELD_BOOSTS[name]
            assert field["average"] == pytest.approx(reader.field_length(name) / reader.doc_count())
            theirs = set(reader.lexicon(name))
            assert {t for (t, f) in ours if f == field_number} == {t.decode() for t in theirs}
            for term in theirs:
                expected = []
                postings = reader.postings(name, term)
                while postings.is_active():
                    doc = postings.id()
                    path = reader.stored_fields(doc)["url"].split("/devcasts/", 1)[1]
                    length = reader.doc_field_length(doc, name)
                    expected.append((number_of[path], int(postings.weight()), length))
                    postings.next()
                got = ours[(term.decode(), field_number)]
                decoded = [(doc, count, meta["lengths"][code]) for doc, count, code in got]
                assert decoded == sorted(expected), (name, term)


def test_every_term_is_in_the_shard_its_prefix_names(files: dict[str, bytes]) -> None:
    meta = meta_of(files)
    for path, data in files.items():
        if not path.startswith(INDEX + "t/"):
            continue
        for term in read_shard(data):
            assert path == f"{INDEX}t/{shard_for(meta, term)}.bin", term


def test_big_shards_are_split_by_a_longer_prefix(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser_index, "SHARD_BYTES", 400)
    files = build_browser_index(catalog).files
    meta = meta_of(files)
    assert max(len(prefix) for prefix in meta["shards"]) > 1
    for prefix, key in meta["shards"].items():
        data = files[f"{INDEX}t/{key}.bin"]
        if len(read_shard(data)) > 1 and len(prefix) < MAX_PREFIX:
            assert len(zlib.decompress(data)) <= 400 + 64  # the limit is on the postings
        for term in read_shard(data):
            assert shard_for(meta, term) == key
    assert SHARD_BYTES > 400  # the real limit was only patched


def test_a_common_word_does_not_share_its_shard_with_its_neighbours(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every episode says "built", a few say "build": the four letters they share do not put
    the common word's postings in the file a search for the rarer one fetches."""
    monkeypatch.setattr(browser_index, "SHARD_BYTES", 200)
    said = [
        dataclasses.replace(e, text=f"{e.text} It was built to last.") for e in catalog.episodes
    ]
    files = build_browser_index(dataclasses.replace(catalog, episodes=tuple(said))).files
    meta = meta_of(files)
    rare, common = shard_for(meta, "build"), shard_for(meta, "built")
    assert rare is not None and common is not None and rare != common
    assert "built" not in read_shard(files[f"{INDEX}t/{rare}.bin"])


def test_documents_are_numbered_oldest_first_with_undated_first(catalog: Catalog) -> None:
    undated = dataclasses.replace(
        catalog.episodes[0], id="undated", slug="undated", date_estimated=True
    )
    # The catalog puts undated episodes last (newest first): the index reverses it.
    shuffled = dataclasses.replace(catalog, episodes=(*catalog.episodes, undated))
    docs = documents(build_browser_index(shuffled).files)
    assert docs[0][3] == "date unknown"
    dated = list(reversed(catalog.episodes))
    assert [d[1] for d in docs[1:]] == [e.title for e in dated]


def test_the_documents_carry_what_results_show(catalog: Catalog, files: dict[str, bytes]) -> None:
    meta = meta_of(files)
    docs = documents(files)
    newest = catalog.episodes[0]
    path, title, podcast, date, duration, summary, topics, image = docs[-1]
    assert (path, title) == (f"podcasts/{newest.podcast}/{newest.slug}/", newest.title)
    assert meta["podcasts"][podcast][0] == newest.podcast
    assert date.endswith(str(newest.published.year)) and duration.endswith("min")
    assert summary == newest.summary[: browser_index.SUMMARY_CHARS]
    assert [meta["topics"][t][0] for t in topics] == list(dict.fromkeys(newest.topics))
    assert image == ""  # no covers given


def test_each_document_ends_with_its_covers_path(catalog: Catalog) -> None:
    newest = catalog.episodes[0]
    images = {newest.id: "art/0a1b2c-96.jpg"}
    docs = documents(build_browser_index(catalog, images).files)
    assert docs[-1][-1] == "art/0a1b2c-96.jpg"
    assert {d[-1] for d in docs[:-1]} == {""}


def test_a_document_carries_its_audio_only_when_pages_may_link_to_it(catalog: Catalog) -> None:
    public, private, missing = catalog.episodes[:3]
    episodes = (
        dataclasses.replace(
            public, enclosure=Enclosure(" https://cdn.example.org/a.mp3 ", "audio/mpeg")
        ),
        dataclasses.replace(private, enclosure=Enclosure("http://10.0.0.7/b.mp3", "audio/mpeg")),
        dataclasses.replace(missing, enclosure=None),
    )
    docs = documents(build_browser_index(dataclasses.replace(catalog, episodes=episodes)).files)
    by_path = {doc[0]: doc for doc in docs}
    assert by_path[f"podcasts/{public.podcast}/{public.slug}/"][8:] == [
        "https://cdn.example.org/a.mp3"
    ]
    assert len(by_path[f"podcasts/{private.podcast}/{private.slug}/"]) == 8  # no audio
    assert len(by_path[f"podcasts/{missing.podcast}/{missing.slug}/"]) == 8


def test_facets_give_each_documents_podcast_and_topics(
    catalog: Catalog, files: dict[str, bytes]
) -> None:
    meta = meta_of(files)
    facets = zlib.decompress(files[INDEX + "facets.bin"])
    count = meta["documents"]
    size = (count + 7) // 8
    for number, episode in enumerate(reversed(catalog.episodes)):
        podcast = int.from_bytes(facets[2 * number : 2 * number + 2], "little")
        assert meta["podcasts"][podcast][0] == episode.podcast
        for t, (slug, _name) in enumerate(meta["topics"]):
            bits = facets[2 * count + t * size : 2 * count + (t + 1) * size]
            assert bool(bits[number >> 3] >> (number & 7) & 1) == (slug in episode.topics)


def test_entities_name_shows_people_and_topics_with_their_pages(
    catalog: Catalog, files: dict[str, bytes]
) -> None:
    entities = json.loads(files[INDEX + "entities.json"])
    kinds = {kind for kind, *_ in entities}
    assert kinds == {"show", "person", "topic"}
    shows = {name: (path, count) for kind, name, path, count in entities if kind == "show"}
    podcast = catalog.podcasts[0]
    published = sum(1 for e in catalog.episodes if e.podcast == podcast.slug)
    assert shows[podcast.title] == (f"podcasts/{podcast.slug}/", published)


def test_the_vocabulary_holds_title_and_notes_terms_with_their_frequency(
    files: dict[str, bytes],
) -> None:
    meta = meta_of(files)
    postings = all_postings(files)
    title, notes = FIELDS.index("title"), FIELDS.index("notes")
    for first, key in meta["vocabulary"].items():
        for term, frequency, *written in json.loads(files[f"{INDEX}v/{key}.json"]):
            assert term.startswith(first)
            expected = len(postings.get((term, title), [])) + len(postings.get((term, notes), []))
            assert frequency == expected > 0
            if written:  # the word as readers write it, when it is not the term itself
                assert written[0] != term and stem(written[0]) == term


# --- stable files ----------------------------------------------------------------------------


def test_the_same_catalog_gives_the_same_bytes(catalog: Catalog, files: dict[str, bytes]) -> None:
    assert build_browser_index(catalog).files == files


def test_a_new_episode_leaves_the_older_documents_files_alone(
    catalog: Catalog, files: dict[str, bytes]
) -> None:
    newest = catalog.episodes[0]
    new = dataclasses.replace(
        newest,
        id="brand-new",
        slug="brand-new",
        title="Zeppelin deploys",
        text="An airship of a deploy.",
        published=newest.published + timedelta(days=1),
    )
    after = build_browser_index(dataclasses.replace(catalog, episodes=(new, *catalog.episodes)))
    changed = {p for p in after.files if after.files[p] != files.get(p)}
    last_chunk = (len(catalog.episodes) - 1) // CHUNK_DOCS
    old_chunks = {f"{INDEX}d/{n}.json" for n in range(last_chunk)}
    assert not changed & old_chunks
    assert len(changed) < len(files) / 2


# --- hostile text -------------------------------------------------------------------------------

words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=words, notes=words)
def test_any_text_gives_readable_files(catalog: Catalog, title: str, notes: str) -> None:
    episode: Episode = dataclasses.replace(catalog.episodes[0], title=title, text=notes)
    built = build_browser_index(dataclasses.replace(catalog, episodes=(episode,))).files
    meta = meta_of(built)
    assert documents(built)[0][1] == title
    for path, data in built.items():
        if path.startswith(INDEX + "t/"):
            for term in read_shard(data):
                assert shard_for(meta, term) == path[len(INDEX) + 2 : -4]
        assert not path.removeprefix(INDEX).startswith(("/", "."))
