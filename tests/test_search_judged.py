"""Judged queries: the terminal search puts the episodes a listener wants first, on the offline
example and on a build of the real-world corpus (mean reciprocal rank of at least 0.9).

The judged sets are in tests/data/search/ (judged.yaml `examples:`, judged_corpus.yaml), and
`load_judged`, `episode_ids` and `reciprocal_rank` are meant to be reused by the browser's test,
so both searches are judged on the same data the same way.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CorpusBuild, archived_episodes, archived_podcasts

from devcasts.search.searcher import SearchRequest, search

DATA = Path(__file__).parent / "data" / "search"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
JUDGED_SETS = {  # name -> (file, list in it)
    "example": ("judged.yaml", "examples"),
    "corpus": ("judged_corpus.yaml", "queries"),
}
RANKED = 10  # a wanted episode below this rank counts as not found
MIN_MRR = 0.9


@dataclass(frozen=True)
class JudgedEpisode:
    title: str  # exactly as archived
    podcast: str | None = None  # the podcast's title; None: any podcast


@dataclass(frozen=True)
class JudgedQuery:
    query: str
    wanted: tuple[JudgedEpisode, ...]  # any of them first is a perfect answer


def load_judged(name: str) -> list[JudgedQuery]:
    """The judged set `name` ("example" or "corpus")."""
    file_name, key = JUDGED_SETS[name]
    entries = yaml.safe_load((DATA / file_name).read_text(encoding="utf-8"))[key]
    return [_judged_query(entry) for entry in entries]


def _judged_query(entry: dict[str, Any]) -> JudgedQuery:
    """An entry names its episodes by `title` or `top` (one) or `any` (several); each is a
    title of the entry's `podcast` or a {podcast, title} mapping of its own."""
    named = entry["any"] if "any" in entry else [entry.get("top") or entry["title"]]
    wanted = tuple(
        JudgedEpisode(item["title"], item["podcast"])
        if isinstance(item, dict)
        else JudgedEpisode(item, entry.get("podcast"))
        for item in named
    )
    return JudgedQuery(str(entry["query"]), wanted)


def episode_ids(archive: Path, judged: JudgedQuery) -> set[str]:
    """The ids of the judged episodes in an archive folder (content/archive/*.json): every copy,
    since a show published by two feeds is archived twice and the catalog keeps one copy."""
    archived = _archived_ids(archive)
    missing = [wanted for wanted in judged.wanted if wanted not in archived]
    assert not missing, f"{judged.query!r}: not in the archive: {missing}"
    return {episode for wanted in judged.wanted for episode in archived[wanted]}


_ARCHIVES: dict[Path, dict[JudgedEpisode, set[str]]] = {}


def _archived_ids(archive: Path) -> dict[JudgedEpisode, set[str]]:
    """(title, podcast title) and (title, any podcast) -> episode ids, read once per folder."""
    if archive not in _ARCHIVES:
        found: dict[JudgedEpisode, set[str]] = defaultdict(set)
        for podcast in archived_podcasts(archive):
            for episode in archived_episodes(archive, podcast["slug"]):
                found[JudgedEpisode(episode["title"], podcast["title"])].add(episode["id"])
                found[JudgedEpisode(episode["title"])].add(episode["id"])
        _ARCHIVES[archive] = dict(found)
    return _ARCHIVES[archive]


def reciprocal_rank(found_ids: Sequence[str], wanted_ids: Collection[str]) -> float:
    """1 / the rank of the first wanted episode among the first RANKED found, else 0."""
    for rank, found in enumerate(found_ids[:RANKED], 1):
        if found in wanted_ids:
            return 1 / rank
    return 0.0


def mean_reciprocal_rank(ranks: dict[str, float]) -> float:
    return sum(ranks.values()) / len(ranks)


def not_first(ranks: dict[str, float]) -> str:
    """The queries not answered at rank 1, one a line: "rank 3: query" (or "not in top 10")."""
    lines = [
        f"rank {round(1 / rr)}: {query}" if rr else f"not in top {RANKED}: {query}"
        for query, rr in ranks.items()
        if rr < 1
    ]
    return "\n".join(lines) or "every query at rank 1"


def terminal_ranks(index_dir: Path, archive: Path, judged: list[JudgedQuery]) -> dict[str, float]:
    """Each judged query -> the reciprocal rank the terminal's search gives it."""
    ranks = {}
    for case in judged:
        hits = search(index_dir, SearchRequest(case.query, limit=RANKED)).hits
        ranks[case.query] = reciprocal_rank([hit.id for hit in hits], episode_ids(archive, case))
    return ranks


def browser_results(site: Path, archive: Path, judged: list[JudgedQuery]) -> list[list[str]]:
    """Each judged query -> the ids of the browser search's first RANKED results."""
    from test_search_engine_js import run_engine

    ids = _page_ids(archive)
    answers = run_engine(site, [{"q": case.query, "show": RANKED} for case in judged])
    return [[ids[record["path"]] for record in answer["shown"]] for answer in answers]


def _page_ids(archive: Path) -> dict[str, str]:
    """Episode page path ("podcasts/<podcast>/<episode>/") -> episode id."""
    ids = {}
    for podcast in archived_podcasts(archive):
        for episode in archived_episodes(archive, podcast["slug"]):
            ids[f"podcasts/{podcast['slug']}/{episode['slug']}/"] = episode["id"]
    return ids


def compare_with_the_browser(build: Path, archive: Path, name: str) -> None:
    """The browser's answers to a judged set: MRR >= MIN_MRR, and its top 5 share at least 4
    episodes with the terminal's (all of them when the terminal finds fewer than 4)."""
    judged = load_judged(name)
    browser = browser_results(build / "site", archive, judged)
    ranks, apart = {}, {}
    for case, found in zip(judged, browser, strict=True):
        ranks[case.query] = reciprocal_rank(found, episode_ids(archive, case))
        hits = search(build / "cache" / "index", SearchRequest(case.query, limit=5)).hits
        terminal = [hit.id for hit in hits]
        shared = len(set(terminal) & set(found[:5]))
        if shared < min(4, len(terminal)):
            apart[case.query] = (terminal, found[:5])
    mrr = mean_reciprocal_rank(ranks)
    print(f"browser MRR {mrr:.3f} over the {name}; not first:\n{not_first(ranks)}")
    assert mrr >= MIN_MRR, f"browser MRR {mrr:.3f} over the {name}:\n{not_first(ranks)}"
    assert apart == {}


# --- the functions above ----------------------------------------------------------------------


def test_reciprocal_rank_counts_the_first_wanted_episode_within_the_first_ten() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"a"}) == 1
    assert reciprocal_rank(["a", "b", "c"], {"c", "b"}) == 1 / 2
    assert reciprocal_rank(["x"] * RANKED + ["a"], {"a"}) == 0
    assert reciprocal_rank([], {"a"}) == 0


@pytest.mark.parametrize("name", sorted(JUDGED_SETS))
def test_each_judged_set_has_twenty_distinct_queries(name: str) -> None:
    judged = load_judged(name)
    assert len(judged) == 20
    assert len({case.query for case in judged}) == 20
    assert all(case.wanted and all(w.title for w in case.wanted) for case in judged)


def test_an_entry_names_its_episodes_by_title_top_or_any() -> None:
    assert _judged_query({"query": "q", "title": "T"}).wanted == (JudgedEpisode("T"),)
    assert _judged_query({"query": "q", "podcast": "P", "top": "T"}).wanted == (
        JudgedEpisode("T", "P"),
    )
    mixed = {"query": "q", "podcast": "P", "any": ["A", {"podcast": "Q", "title": "B"}]}
    assert _judged_query(mixed).wanted == (JudgedEpisode("A", "P"), JudgedEpisode("B", "Q"))


# --- the example --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site built for real (a copy, so its archive starts empty); its folder."""
    from devcasts.cli.main import main

    root = tmp_path_factory.mktemp("example")
    work = root / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("archive"))
    flags = ["--out", str(root / "site"), "--cache", str(root / "cache")]
    assert main(["--feeds", str(work / "feeds.yaml"), *flags, "-q"]) == 0
    return root


def test_judged_queries_over_the_offline_example(example_build: Path) -> None:
    archive = example_build / "examples" / "content" / "archive"
    index_dir = example_build / "cache" / "index"
    ranks = terminal_ranks(index_dir, archive, load_judged("example"))
    mrr = mean_reciprocal_rank(ranks)
    assert mrr >= MIN_MRR, f"MRR {mrr:.3f} over the example; not first:\n{not_first(ranks)}"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_browser_agrees_with_the_terminal_over_the_example(example_build: Path) -> None:
    archive = example_build / "examples" / "content" / "archive"
    compare_with_the_browser(example_build, archive, "example")


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.slow
def test_judged_queries_over_the_corpus(corpus_build: CorpusBuild) -> None:
    ranks = terminal_ranks(
        corpus_build.root / "cache" / "index", corpus_build.archive, load_judged("corpus")
    )
    mrr = mean_reciprocal_rank(ranks)
    print(f"MRR {mrr:.3f} over the corpus; not first:\n{not_first(ranks)}")
    assert mrr >= MIN_MRR, f"MRR {mrr:.3f} over the corpus; not first:\n{not_first(ranks)}"


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_browser_agrees_with_the_terminal_over_the_corpus(corpus_build: CorpusBuild) -> None:
    compare_with_the_browser(corpus_build.root, corpus_build.archive, "corpus")
