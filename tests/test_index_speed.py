"""What makes the index fast keeps it correct: the quick term path, phrases on the notes, the
fingerprints side file, a fresh index written a segment at a time, and an update that loads
none of the search modules."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_index import ids, load_test_catalog
from whoosh import fields, index, scoring
from whoosh.analysis.analyzers import StandardAnalyzer, StemmingAnalyzer
from whoosh.analysis.filters import STOP_WORDS

from devcasts.records import Catalog
from devcasts.search import schema as index_schema
from devcasts.search import searcher as searcher_module
from devcasts.search import writer as index_writer
from devcasts.search.marker import INDEX_NAME
from devcasts.search.searcher import SearchRequest, search
from devcasts.search.writer import update_index

WORDS = st.sampled_from(
    ["Deploying", "deploys", "the", "a", "I", "to", "Heroku's", "fly.io", "v1.2", "x*y", "İstanbul"]
)
TEXT = st.one_of(
    st.text(max_size=120),
    st.lists(WORDS, max_size=30).map(" ".join),
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_test_catalog()


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_fast_text_indexes_exactly_what_the_analyzer_would(text: str) -> None:
    schema = index_schema.build_schema()
    references = {
        "title": fields.TEXT(analyzer=StemmingAnalyzer()),
        "people": fields.TEXT(analyzer=StandardAnalyzer(stoplist=None)),
    }
    for name, reference in references.items():
        assert sorted(schema[name].index(text)) == sorted(reference.index(text)), name
    frequencies = index_schema.FastText(stem=True, stoplist=STOP_WORDS, phrase=False)
    reference = fields.TEXT(analyzer=StemmingAnalyzer(), phrase=False)
    assert sorted(frequencies.index(text)) == sorted(reference.index(text))


@pytest.fixture(scope="module")
def phrase_index(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    notes = (
        "We moved the billing worker to a queue, then to the edge. "
        "Later the team argued about queue depth alarms."
    )
    episodes = tuple(
        dataclasses.replace(e, text=notes, summary="") if e.id == "so-07" else e
        for e in catalog.episodes
    )
    index_dir = tmp_path_factory.mktemp("phrases") / "index"
    update_index(dataclasses.replace(catalog, episodes=episodes), index_dir)
    return index_dir


@pytest.mark.parametrize(
    ("phrase", "found"),
    [
        ('"billing worker"', True),
        ('"billing workers"', True),  # stemmed, as whoosh phrases are
        ('"worker billing"', False),
        ('"queue depth alarms"', True),
        ('"queue alarms"', False),
        ('"queue alarms"~2', True),
        ('"moved billing"', True),  # stop words between do not count, as in whoosh
        ('notes:"the edge"', True),
        ('"edge later team"', True),
        ('"edge billing"', False),
    ],
)
def test_phrases_on_the_notes(phrase_index: Path, phrase: str, found: bool) -> None:
    assert ("so-07" in ids(phrase_index, phrase, limit=100)) is found


def test_a_phrase_snippet_marks_its_words(phrase_index: Path) -> None:
    hit = search(phrase_index, SearchRequest('"billing worker"')).hits[0]
    assert hit.id == "so-07"
    assert {text.lower() for text, match in hit.snippet if match} == {"billing", "worker"}


def test_missing_fingerprints_mean_a_rebuild(catalog: Catalog, tmp_path: Path) -> None:
    update_index(catalog, tmp_path)
    (tmp_path / index_writer.PRINTS_NAME).unlink()
    report = update_index(catalog, tmp_path)
    assert report.rebuilt and report.added == len(catalog.episodes)
    assert ids(tmp_path, "caddy") == ["so-07"]


def test_fingerprints_that_disagree_with_the_index_mean_a_rebuild(
    catalog: Catalog, tmp_path: Path
) -> None:
    update_index(catalog, tmp_path)
    (tmp_path / index_writer.PRINTS_NAME).write_text('{"so-07": "x"}', encoding="utf-8")
    assert update_index(catalog, tmp_path).rebuilt
    assert update_index(catalog, tmp_path).added == 0


def test_an_update_rewrites_the_fingerprints(catalog: Catalog, tmp_path: Path) -> None:
    update_index(catalog, tmp_path)
    fewer = dataclasses.replace(catalog, episodes=catalog.episodes[1:])
    assert update_index(fewer, tmp_path).removed == 1
    report = update_index(fewer, tmp_path)
    assert (report.added, report.updated, report.removed, report.rebuilt) == (0, 0, 0, False)


def test_a_failure_while_writing_a_fresh_index_leaves_it_to_be_rebuilt(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_writer, "SEGMENT_DOCS", 10)  # fails after a committed segment
    real_document = index_writer.episode_document

    def failing_document(names: Any, episode: Any) -> dict[str, Any]:
        if episode.id == "so-07":
            raise ValueError("a document that cannot be written")
        return real_document(names, episode)

    monkeypatch.setattr(index_writer, "episode_document", failing_document)
    with pytest.raises(ValueError, match="cannot be written"):
        update_index(catalog, tmp_path)
    assert not (tmp_path / index_writer.PRINTS_NAME).exists()
    monkeypatch.setattr(index_writer, "episode_document", real_document)
    report = update_index(catalog, tmp_path)  # the lock was released
    assert report.rebuilt and report.added == len(catalog.episodes)
    assert ids(tmp_path, "caddy") == ["so-07"]


def test_many_small_updates_merge_segments_and_keep_every_episode(
    catalog: Catalog, tmp_path: Path
) -> None:
    episodes = list(catalog.episodes)
    update_index(dataclasses.replace(catalog, episodes=tuple(episodes[:20])), tmp_path)
    for count in range(21, len(episodes) + 1, 3):
        shown = dataclasses.replace(catalog, episodes=tuple(episodes[:count]))
        assert not update_index(shown, tmp_path).rebuilt
    update_index(catalog, tmp_path)
    toc_segments = {p.stem for p in tmp_path.glob("*.trm")}
    assert len(toc_segments) < len(range(21, len(episodes) + 1, 3))  # some were merged
    everything = search(tmp_path, SearchRequest("", limit=1000, podcast=None, lang="en"))
    assert {h.id for h in everything.hits} == {e.id for e in episodes if e.language == "en"}
    assert ids(tmp_path, "caddy") == ["so-07"]


def test_a_match_past_the_stored_notes_still_ranks_with_the_summary_as_snippet(
    catalog: Catalog, tmp_path: Path
) -> None:
    filler = "plain words about nothing in particular " * 400  # past STORED_NOTES_CHARS
    assert len(filler) > index_writer.STORED_NOTES_CHARS
    long_notes = dataclasses.replace(
        catalog,
        episodes=tuple(
            dataclasses.replace(
                e, text=filler + "the marmoset appears late", summary="A short summary."
            )
            if e.id == "so-07"
            else e
            for e in catalog.episodes
        ),
    )
    update_index(long_notes, tmp_path)
    hit = search(tmp_path, SearchRequest("marmoset")).hits[0]
    assert hit.id == "so-07"
    assert hit.snippet == (("A short summary.", False),)


def test_a_fresh_index_split_into_many_segments_finds_the_same(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_index(catalog, tmp_path / "one")
    monkeypatch.setattr(index_writer, "SEGMENT_DOCS", 10)
    report = update_index(catalog, tmp_path / "many")
    assert report.rebuilt and report.added == len(catalog.episodes)
    assert len({p.stem for p in (tmp_path / "many").glob("*.trm")}) > 3  # not merged
    for query in (
        "caddy",
        "kubernetes NOT aws",
        '"deploy previews"',
        "heroku OR dokku",
        "topic:dokku",
    ):
        one = search(tmp_path / "one", SearchRequest(query, limit=100))
        many = search(tmp_path / "many", SearchRequest(query, limit=100))
        assert [h.id for h in many.hits] == [h.id for h in one.hits], query
        assert many.total == one.total
    update = update_index(catalog, tmp_path / "many")
    assert (update.added, update.updated, update.rebuilt) == (0, 0, False)


def test_updating_the_index_loads_none_of_the_search_modules(tmp_path: Path) -> None:
    """A build writes the index with the schema alone: no query parser, searcher or
    highlighter (they cost a build's index update a few milliseconds to import)."""
    catalog = tmp_path / "catalog.pickle"  # not test_index's loader: it imports the searcher
    catalog.write_bytes(pickle.dumps(load_test_catalog()))
    probe = (
        "import pickle, sys; from pathlib import Path;"
        "from devcasts.search.writer import update_index;"
        "update_index(pickle.loads(Path(sys.argv[1]).read_bytes()), Path(sys.argv[2]));"
        "print(' '.join(sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(catalog), str(tmp_path / "index")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    loaded = set(result.stdout.split())
    search_only = {
        "devcasts.search.searcher",
        "whoosh.qparser",
        "whoosh.searching",
        "whoosh.highlight",
        "whoosh.sorting",
    }
    assert "whoosh.writing" in loaded
    assert not search_only & loaded


def test_field_lengths_read_a_segment_at_a_time_score_as_whoosh_does(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_writer, "SEGMENT_DOCS", 10)
    update_index(catalog, tmp_path)
    queries = ("heroku", "deploy postgres", "kubernetes NOT aws", '"deploy previews"', "dokku~1")

    def ranked() -> dict[str, list[tuple[str, float]]]:
        return {
            query: [(hit.id, hit.score) for hit in search(tmp_path, SearchRequest(query, 100)).hits]
            for query in queries
        }

    with index.open_dir(str(tmp_path), indexname=INDEX_NAME).reader() as reader:
        segment = reader.leaf_readers()[0][0]
        lengths = searcher_module._field_lengths(segment, "notes")
        assert lengths is not None  # the table, not whoosh's per-document reads, is tested
        assert [lengths(n) for n in range(10)] == [
            segment.doc_field_length(n, "notes", 0) or 0 for n in range(10)
        ]
    with_tables = ranked()
    monkeypatch.setattr(searcher_module, "LengthTableBM25F", scoring.BM25F)
    assert with_tables == ranked()
    assert all(with_tables.values())
