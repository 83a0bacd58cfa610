"""static/search-engine.js under Node, over the browser index of the invented archive: the
same answers as the terminal's search, no guessed matches, typos, the fallback, filters and
the shows-people-topics row."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_index import DATA, load_test_catalog

from devcasts.records import Catalog
from devcasts.search.browser_index import build_browser_index
from devcasts.search.searcher import SearchRequest, search
from devcasts.search.writer import update_index
from devcasts.site import urls
from devcasts.site.templates import THEME_DIR

RUNNER = DATA / "engine_runner.mjs"
STATIC = THEME_DIR / "static"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_engine(site: Path, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each request ({"q": ..., "podcast", "topic", "sort"}) answered by a fresh engine."""
    requests_file = site.parent / "requests.json"
    requests_file.write_text(json.dumps(requests), encoding="utf-8")
    done = subprocess.run(
        ["node", str(RUNNER), str(site), str(STATIC), str(requests_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers


def write_site(catalog: Catalog, site: Path) -> Path:
    for relpath, data in build_browser_index(catalog).files.items():
        target = site / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return site


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_test_catalog()


@pytest.fixture(scope="module")
def site(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_site(catalog, tmp_path_factory.mktemp("engine") / "site")


@pytest.fixture(scope="module")
def index_dir(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("terminal") / "index"
    update_index(catalog, folder)
    return folder


def path_of(catalog: Catalog, episode_id: str) -> str:
    return next(urls.episode(e) for e in catalog.episodes if e.id == episode_id)


def terminal_paths(catalog: Catalog, index_dir: Path, query: str, limit: int = 5) -> list[str]:
    hits = search(index_dir, SearchRequest(query, limit=limit)).hits
    return [path_of(catalog, hit.id) for hit in hits]


# --- the same answers as the terminal -----------------------------------------------------------

JUDGED = yaml.safe_load((DATA / "judged.yaml").read_text(encoding="utf-8"))["queries"]
MORE_QUERIES = [
    "heroku OR render",
    "kubernetes -aws",
    "title:postgres",
    "blue-green",
    "Maya Lindqvist",
    "deploy",
    "the",
    "pgbuoncer",
    "pgbouncer postgres egress",
]


def test_the_browser_ranks_as_the_terminal_does(
    catalog: Catalog, site: Path, index_dir: Path
) -> None:
    queries = [case["query"] for case in JUDGED] + MORE_QUERIES
    answers = run_engine(site, [{"q": q, "show": 5} for q in queries])
    differ = {}
    for query, answer in zip(queries, answers, strict=True):
        browser = [record["path"] for record in answer["shown"]]
        terminal = terminal_paths(catalog, index_dir, query)
        if browser != terminal:
            differ[query] = (terminal, browser)
    assert differ == {}


def test_judged_queries_reach_a_mean_reciprocal_rank_of_at_least_0_9(
    catalog: Catalog, site: Path
) -> None:
    answers = run_engine(site, [{"q": case["query"], "show": 10} for case in JUDGED])
    ranks = []
    for case, answer in zip(JUDGED, answers, strict=True):
        wanted = {path_of(catalog, i) for i in ([case["top"]] if "top" in case else case["any"])}
        found = [record["path"] for record in answer["shown"]]
        rank = next((n for n, path in enumerate(found, 1) if path in wanted), None)
        ranks.append(1 / rank if rank else 0.0)
    assert sum(ranks) / len(ranks) >= 0.9


# --- no guesses -------------------------------------------------------------------------------


def test_unknown_words_and_bare_prefixes_match_nothing(site: Path) -> None:
    nonsense, prefix, inner = run_engine(site, [{"q": "qqqxv"}, {"q": "kube"}, {"q": "ubernetes"}])
    for answer in (nonsense, prefix, inner):
        assert answer["total"] == 0 and answer["paths"] == []
        assert answer["partial"] is None
    assert nonsense["suggestion"] is None


def test_a_word_matches_only_itself_not_longer_words(catalog: Catalog, site: Path) -> None:
    (answer,) = run_engine(site, [{"q": "pod"}])
    texts = {urls.episode(e): f"{e.title} {e.text}".lower() for e in catalog.episodes}
    for path in answer["paths"]:
        assert re.search(r"\bpods?\b", texts[path]), path


# --- typos and the fallback ----------------------------------------------------------------------


def test_a_typo_is_corrected_from_the_vocabulary(catalog: Catalog, site: Path) -> None:
    typo, right, exact = run_engine(
        site, [{"q": "kuberentes"}, {"q": "kubernetes"}, {"q": "kuberentes", "exact": True}]
    )
    assert typo["suggestion"] == "kubernetes" and typo["corrected"] is True
    assert typo["paths"] == right["paths"] and right["suggestion"] is None
    assert exact["total"] == 0 and exact["suggestion"] is None  # as typed, when asked


def test_the_suggestion_is_the_terminals(catalog: Catalog, site: Path, index_dir: Path) -> None:
    typos = ["pgbuoncer", "kuberentes", "canery", "dokuu"]
    answers = run_engine(site, [{"q": q} for q in typos])
    for query, answer in zip(typos, answers, strict=True):
        response = search(index_dir, SearchRequest(query))
        assert answer["suggestion"] == response.suggestion, query


def test_without_a_full_match_the_episodes_with_most_words_come_first(
    catalog: Catalog, site: Path, index_dir: Path
) -> None:
    query = "pgbouncer postgres egress"
    (answer,) = run_engine(site, [{"q": query}])
    response = search(index_dir, SearchRequest(query, limit=100))
    assert answer["partial"] == {"matched": 2, "words": 3}
    assert response.partial == (2, 3)
    assert answer["paths"] == [path_of(catalog, hit.id) for hit in response.hits]


def test_a_query_that_says_and_is_not_relaxed(site: Path) -> None:
    (answer,) = run_engine(site, [{"q": "pgbouncer AND egress"}])
    assert answer["total"] == 0 and answer["partial"] is None


# --- filters, order, the row of shows, people and topics --------------------------------------


def test_filter_counts_follow_the_query(catalog: Catalog, site: Path) -> None:
    plain, narrowed = run_engine(
        site, [{"q": "deploy"}, {"q": "deploy", "podcast": "deploy-friday"}]
    )
    assert sum(plain["counts"]["podcast"].values()) == plain["total"]
    matching = {urls.episode(e): e for e in catalog.episodes}
    expected: dict[str, int] = {}
    for path in plain["paths"]:
        expected[matching[path].podcast] = expected.get(matching[path].podcast, 0) + 1
    assert plain["counts"]["podcast"] == expected
    assert narrowed["total"] == expected["deploy-friday"]
    assert all(matching[p].podcast == "deploy-friday" for p in narrowed["paths"])
    # The topic list of a narrowed search counts within that podcast only.
    topics: dict[str, int] = {}
    for path in narrowed["paths"]:
        for topic in dict.fromkeys(matching[path].topics):
            topics[topic] = topics.get(topic, 0) + 1
    assert narrowed["counts"]["topic"] == topics


def test_newest_first_is_by_date_over_every_result(catalog: Catalog, site: Path) -> None:
    (answer,) = run_engine(site, [{"q": "deploy", "sort": "newest"}])
    published = {urls.episode(e): e.published for e in catalog.episodes}
    dates = [published[path] for path in answer["paths"]]
    assert len(dates) > 10 and dates == sorted(dates, reverse=True)


def test_filters_alone_list_newest_first(catalog: Catalog, site: Path) -> None:
    (answer,) = run_engine(site, [{"q": "", "topic": "dokku"}])
    expected = [urls.episode(e) for e in catalog.episodes if "dokku" in e.topics]
    assert answer["paths"] == expected


def test_shows_people_and_topics_are_found_by_name(site: Path) -> None:
    show, person, topic, none = run_engine(
        site, [{"q": "Deploy Friday"}, {"q": "maya lindqvist"}, {"q": "kubernetes"}, {"q": "of"}]
    )
    assert show["entities"][0]["kind"] == "show" and show["entities"][0]["name"] == "Deploy Friday"
    assert show["entities"][0]["path"] == "podcasts/deploy-friday/"
    assert person["entities"][0]["name"] == "Maya Lindqvist"
    assert [e["name"] for e in topic["entities"]] == ["Kubernetes"]
    assert none["entities"] == []


def test_the_first_results_fetch_a_few_small_files(site: Path) -> None:
    (answer,) = run_engine(site, [{"q": "kubernetes postgres"}])
    fetched = answer["fetched"]
    assert all(path.startswith("/search-index/") for path in fetched)
    assert len(fetched) <= 18
    assert sum((site / path.lstrip("/")).stat().st_size for path in fetched) < 150_000


def test_the_facets_wait_for_a_filter_or_the_counts(site: Path) -> None:
    """facets.bin grows by two bytes and more per episode: the first results of a plain
    search do without it; a filtered search needs it at once."""
    plain, filtered = run_engine(
        site, [{"q": "deploy"}, {"q": "deploy", "podcast": "deploy-friday"}]
    )
    assert "/search-index/facets.bin" not in plain["fetched"]
    assert plain["counts"]["podcast"]  # counted all the same, when asked
    assert "/search-index/facets.bin" in filtered["fetched"]


# --- the scripts ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["search.js", "search-engine.js", "stem.js"])
def test_the_scripts_request_nothing_outside_the_site(name: str) -> None:
    source = (STATIC / name).read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", code)
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code and "eval(" not in code
