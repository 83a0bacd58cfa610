"""Search scoring: field lengths read a segment at a time give whoosh's own BM25F scores."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from test_index import load_test_catalog
from whoosh import scoring
from whoosh.reading import SegmentReader

from devcasts.records import Catalog
from devcasts.search import schema as index_schema
from devcasts.search import searcher as search_index
from devcasts.search.searcher import SearchRequest, search
from devcasts.search.writer import update_index

QUERIES = [
    "kubernetes",
    "heroku OR fly",
    '"zero downtime"',
    "postgres NOT pgbouncer",
    "title:deploy",
    "person:okafor",
    "pgbuoncer",  # no match: the suggestion and fuzzy retries score too
    "",
]
SCORED_FIELDS = ("title", "tags", "people", "podcast", "notes")


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index whose second segment rewrote a few episodes (so lengths differ per segment)."""
    index_dir = tmp_path_factory.mktemp("scoring") / "index"
    catalog = load_test_catalog()
    update_index(catalog, index_dir)
    update_index(_with_longer_notes(catalog, every=3), index_dir)
    with search_index._open_for_search(index_dir, index_schema.build_schema()).reader() as reader:
        assert len(reader.leaf_readers()) == 2  # type: ignore[no-untyped-call]
    return index_dir


def _with_longer_notes(catalog: Catalog, every: int) -> Catalog:
    episodes = tuple(
        dataclasses.replace(
            e, text=e.text + " kubernetes heroku" * (n % 5), content_hash=e.content_hash + "-v2"
        )
        if n % every == 0
        else e
        for n, e in enumerate(catalog.episodes)
    )
    return dataclasses.replace(catalog, episodes=episodes)


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_search_answers_exactly_as_with_whoosh_bm25f(
    two_segments: Path, text: str, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = SearchRequest(text, limit=50, sort=sort, lang="en" if not text else None)
    ours = search(two_segments, request)
    monkeypatch.setattr(search_index, "_BM25F", scoring.BM25F)
    theirs = search(two_segments, request)
    assert ours == theirs
    assert ours.hits or ours.suggestion or not text


def test_field_lengths_match_doc_field_length_for_every_document(two_segments: Path) -> None:
    ix = search_index._open_for_search(two_segments, index_schema.build_schema())
    with ix.reader() as reader:  # type: ignore[no-untyped-call]
        for leaf, _ in reader.leaf_readers():  # type: ignore[no-untyped-call]
            assert isinstance(leaf, SegmentReader)
            for fieldname in SCORED_FIELDS:
                lengths = search_index._field_lengths(leaf, leaf.segment(), fieldname)
                assert lengths is not None
                for docnum in range(leaf.doc_count_all() + 1):
                    assert lengths(docnum) == leaf.doc_field_length(docnum, fieldname, 1)


def test_an_unreadable_length_column_leaves_whoosh_to_read_lengths(two_segments: Path) -> None:
    ix = search_index._open_for_search(two_segments, index_schema.build_schema())
    with ix.reader() as reader:  # type: ignore[no-untyped-call]
        leaf, _ = reader.leaf_readers()[0]  # type: ignore[no-untyped-call]
        assert search_index._field_lengths(leaf, leaf.segment(), "no_such_field") is None


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
    search_only = {"whoosh.qparser", "whoosh.searching", "whoosh.highlight", "whoosh.sorting"}
    assert "whoosh.writing" in loaded
    assert not search_only & loaded
