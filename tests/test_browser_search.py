"""The search page in headless Chromium over the whole corpus built as a user would
(conftest.corpus_build, 4,000-odd real episodes), served on 127.0.0.1.

It asserts what a listener sees: no guessed matches, one ranking over every year, typos
corrected, shows found by name, counts that follow the query, and first results within the
request, byte and time budgets, on loopback and on a throttled link (9 Mbit/s, 60 ms).
The timings are written to test-artifacts/search-timing.json.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from conftest import CorpusBuild, start_server
from test_browser import ARTIFACTS, CHROMIUM, _local_only, browser, page

from devcasts.search.searcher import SearchRequest, search

__all__ = ["browser", "page"]  # the fixtures, shared with test_browser
pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)

BASE_PATH = "/devcasts/"
MAX_REQUESTS = 25  # before the first results show, the page's own files included
MAX_BYTES = 400_000
LOOPBACK_SECONDS = 1.0  # targets for the recorded figures, not asserted (see below)
THROTTLED_SECONDS = 3.0
THROTTLED = {  # a 9 Mbit/s link with 60 ms of latency, both ways
    "offline": False,
    "latency": 60,
    "downloadThroughput": 9_000_000 / 8,
    "uploadThroughput": 9_000_000 / 8,
}
RESULTS = "#search-results ol.search-list li"


@pytest.fixture(scope="module")
def site_url(corpus_build: CorpusBuild) -> Iterator[str]:
    url, server = start_server(corpus_build.site, BASE_PATH)
    yield url + "search/"
    server.shutdown()
    server.server_close()


def results(page: Any, url: str) -> str:
    """Open the search page at `url` and wait for its answer; the results' text."""
    page.goto(url)
    page.wait_for_function(
        """() => document.querySelector('#search-results ol.search-list li')
        || document.querySelector('#search-results').textContent.includes('No episodes')""",
        timeout=20_000,
    )
    return str(page.locator("#search-results").inner_text())


def episode_count(page: Any) -> int:
    """The count the status line gives ("35 episodes")."""
    for text in page.locator("#search-results p.search-status").all_inner_texts():
        if found := re.fullmatch(r"(\d+) episodes?", text.strip()):
            return int(found.group(1))
    raise AssertionError("no count shown")


def shown_titles(page: Any) -> list[str]:
    return [str(t) for t in page.locator(f"{RESULTS} h2").all_inner_texts()]


def terminal(corpus_build: CorpusBuild, query: str, limit: int = 5) -> Any:
    return search(corpus_build.root / "cache" / "index", SearchRequest(query, limit=limit))


# --- 1. no junk matches ---------------------------------------------------------------------


def test_a_word_no_episode_has_matches_nothing(page: Any, site_url: str) -> None:
    text = results(page, site_url + "?q=qqqxv")
    assert "No episodes match \u201cqqqxv\u201d." in text
    assert page.locator(RESULTS).count() == 0
    assert page.errors == []


@pytest.mark.parametrize("query", ["podman", "kubernetes", "John Siracusa"])
def test_results_are_the_terminals_not_prefix_guesses(
    page: Any, site_url: str, corpus_build: CorpusBuild, query: str
) -> None:
    results(page, site_url + "?q=" + query)
    answer = terminal(corpus_build, query)
    assert episode_count(page) == answer.total
    assert shown_titles(page)[:5] == [hit.title for hit in answer.hits]


# --- 2. one ranking over every year ------------------------------------------------------------


def dates_shown(page: Any) -> list[datetime]:
    metas = page.locator(f"{RESULTS} .search-meta").all_inner_texts()
    found = [re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", meta) for meta in metas]
    return [datetime.strptime(m.group(0), "%d %b %Y") for m in found if m]


def test_newest_first_is_ordered_by_date_over_every_result(page: Any, site_url: str) -> None:
    results(page, site_url + "?q=docker&sort=newest")
    dates = dates_shown(page)
    assert len(dates) == 10 and dates == sorted(dates, reverse=True)
    page.locator("button.search-more").click()
    page.locator(f"{RESULTS}:nth-child(20)").wait_for()
    dates = dates_shown(page)
    assert len(dates) == 20 and dates == sorted(dates, reverse=True)


def test_newest_first_within_a_podcast(page: Any, site_url: str) -> None:
    results(page, site_url + "?q=linux&podcast=coder-radio&sort=newest")
    dates = dates_shown(page)
    assert len(dates) == 10 and dates == sorted(dates, reverse=True)


# --- 3. typos ----------------------------------------------------------------------------------


def test_a_typo_shows_the_results_of_the_right_spelling(page: Any, site_url: str) -> None:
    text = results(page, site_url + "?q=kuberentes")
    assert "Showing results for \u201ckubernetes\u201d" in text
    right = page.context.new_page()
    results(right, site_url + "?q=kubernetes")
    assert shown_titles(page) == shown_titles(right) != []
    page.get_by_role("link", name="\u201ckuberentes\u201d").click()  # search instead for it
    page.wait_for_function(
        "() => document.querySelector('#search-results').textContent.includes('No episodes')"
    )
    assert (
        "No episodes match \u201ckuberentes\u201d." in page.locator("#search-results").inner_text()
    )
    assert "exact=1" in page.url


# --- 4. shows, people and topics -----------------------------------------------------------------


def test_a_show_is_found_by_its_name_above_its_episodes(page: Any, site_url: str) -> None:
    results(page, site_url + "?q=Coder%20Radio")
    first = page.locator("#search-results .search-entities a").first
    assert "Coder Radio" in first.inner_text() and "Show" in first.inner_text()
    assert first.get_attribute("href") == BASE_PATH + "podcasts/coder-radio/"
    # The row comes before the episodes.
    order = page.evaluate(
        "() => [...document.querySelectorAll('#search-results > *')].map(e => e.className)"
    )
    assert order.index("search-entities") < order.index("search-list")


# --- 6. filter counts follow the query ---------------------------------------------------------


def option_counts(page: Any, name: str) -> dict[str, int]:
    """Each option's value -> the count its label gives ("Coder Radio (18)")."""
    options = page.locator(f"select[name={name}] option")
    counts = {}
    for n in range(options.count()):
        label = re.fullmatch(r".+ \((\d+)\)", options.nth(n).inner_text())
        if label:
            counts[str(options.nth(n).get_attribute("value"))] = int(label.group(1))
    return counts


def test_the_filters_count_what_the_query_finds(page: Any, site_url: str) -> None:
    results(page, site_url + "?q=docker")
    total = episode_count(page)
    # The counts come after the first results (the facets are fetched once they are shown).
    page.wait_for_function(
        "() => document.querySelectorAll('select[name=podcast] option').length > 1"
    )
    podcasts = option_counts(page, "podcast")
    assert sum(podcasts.values()) == total
    show, count = max(podcasts.items(), key=lambda item: item[1])
    page.locator("select[name=podcast]").select_option(value=show)
    page.wait_for_function(
        f"() => document.querySelector('#search-results').textContent.includes('{count} episode')"
    )
    topics = option_counts(page, "topic")
    assert topics and all(n <= count for n in topics.values())


# --- 5. fast first results --------------------------------------------------------------------


def test_nothing_of_the_index_loads_until_the_box_is_used(page: Any, site_url: str) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(site_url)
    page.wait_for_load_state("networkidle")
    assert not [url for url in asked if "search-index/" in url or "search-engine" in url]
    page.get_by_role("searchbox", name="Search episodes").fill("docker")
    page.locator(RESULTS).first.wait_for()
    assert any("search-index/meta.json" in url for url in asked)
    assert page.errors == []


def first_results(browser: Any, url: str, throttled: bool) -> dict[str, float]:
    """Open `url` in a fresh context (cold cache); seconds from navigation to the first
    results, and the requests and bytes fetched before them."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.route("**/*", _local_only)
    if throttled:
        cdp = context.new_cdp_session(tab)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", THROTTLED)
    tab.goto(url)
    tab.locator(f"{RESULTS} h2 a").first.wait_for(timeout=30_000)
    seconds = tab.evaluate("() => performance.now()") / 1000
    entries = tab.evaluate(
        "() => [performance.getEntriesByType('navigation')[0],"
        " ...performance.getEntriesByType('resource')]"
        ".map(e => [e.name, e.transferSize || e.encodedBodySize || 0, e.responseEnd])"
    )
    context.close()
    before = [e for e in entries if e[2] / 1000 <= seconds]
    return {
        "seconds": round(seconds, 3),
        "requests": len(before),
        "bytes": sum(int(e[1]) for e in before),
    }


def test_first_results_within_the_budgets(browser: Any, site_url: str) -> None:
    url = site_url + "?q=kubernetes%20postgres"
    figures = {}
    for name, throttled in (("loopback", False), ("throttled", True)):
        tries = [first_results(browser, url, throttled) for _ in range(3)]
        figures[name] = min(tries, key=lambda t: t["seconds"])  # the machine's noise aside
    ARTIFACTS.mkdir(exist_ok=True)
    record = {"query": "kubernetes postgres", "when": time.strftime("%Y-%m-%d"), **figures}
    (ARTIFACTS / "search-timing.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record))
    # Requests and bytes are the budgets asserted here. The seconds (targets LOOPBACK_SECONDS
    # and THROTTLED_SECONDS) depend on the machine's load: they are recorded in
    # test-artifacts/search-timing.json and judged in benchmarks/, not by a timed test.
    for measured in figures.values():
        assert measured["requests"] <= MAX_REQUESTS
        assert measured["bytes"] <= MAX_BYTES
