"""static/search.js against real Pagefind shards, served on 127.0.0.1, run by Node."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_search_browser_index import page, write

from devcasts.errors import BuildError
from devcasts.search import browser_index
from devcasts.site.templates import THEME_DIR

HARNESS = Path(__file__).parent / "data" / "search" / "dom_harness.mjs"
BASE = "/devcasts/"
HOSTILE = "Old story <img src=x onerror=alert(1)>"  # shown as text, never as markup


def _missing_tools() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    try:
        browser_index.pagefind_executable()
    except BuildError:
        return "pagefind-bin is not installed"
    return None


needs_tools = pytest.mark.skipif(_missing_tools() is not None, reason=str(_missing_tools()))


def test_the_script_requests_nothing_outside_the_site() -> None:
    source = (THEME_DIR / "static/search.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)  # the contract comment
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", code)
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code and "eval(" not in code


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("served")
    site = root / BASE.strip("/")
    write(site, "podcasts/ship-it/dyno-day/index.html", page("Dyno day", "2023-04-01"))
    write(site, "podcasts/ship-it/edge-night/index.html", page("Edge night", "2023-09-09"))
    write(
        site,
        "podcasts/ops/k8s-spring/index.html",
        page("K8s spring", "2024-03-03", podcast="Ops Hour", topic="Kubernetes"),
    )
    write(
        site,
        "podcasts/ops/old-story/index.html",
        page("Old story &lt;img src=x onerror=alert(1)&gt;", "2022-06-06", podcast="Ops Hour"),
    )
    browser_index.build_browser_index(site, root / "cache", None)
    (site / "static").mkdir()
    shutil.copyfile(THEME_DIR / "static/search.js", site / "static/search.js")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


NODE = ["node", "--no-warnings", "--experimental-network-imports", str(HARNESS)]


def run_page(
    origin: str, search: str, base: str = BASE, index_missing: bool = False
) -> dict[str, Any]:
    result = subprocess.run(
        [*NODE, origin, base, search, "missing" if index_missing else ""],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs_tools
def test_relevance_search_merges_every_shard(served: str) -> None:
    shown = run_page(served, "?q=buildpacks")
    assert shown["problems"] == []
    assert len(shown["titles"]) == 4
    assert all(href.startswith(BASE + "podcasts/") for href in shown["hrefs"])
    assert any("buildpacks" in mark.lower() for mark in shown["marks"])
    podcasts, topics, sort = shown["filters"]
    assert podcasts == ["", "Ops Hour", "Ship It Weekly"]
    assert "Kubernetes" in topics and sort == ["", "newest"]


@needs_tools
def test_newest_first_across_years(served: str) -> None:
    shown = run_page(served, "?q=buildpacks&sort=newest")
    assert shown["problems"] == []
    assert shown["titles"] == [
        "K8s spring",
        "Edge night",
        "Dyno day",
        HOSTILE,
    ]


@needs_tools
def test_filters_alone_list_newest_first(served: str) -> None:
    shown = run_page(served, "?podcast=Ops+Hour")
    assert shown["titles"] == ["K8s spring", HOSTILE]


@needs_tools
def test_no_match_says_so(served: str) -> None:
    shown = run_page(served, "?q=zzzqqq")
    assert shown["titles"] == [] and shown["problems"] == []
    assert shown["status"] == ["No episodes match \u201czzzqqq\u201d."]


@needs_tools
def test_a_site_without_index_explains_instead_of_failing(served: str) -> None:
    result = subprocess.run(
        [*NODE, served, "/nowhere/", "?q=x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0  # the harness cannot even load search.js there
    shown = run_page(served, "?q=x", base=BASE, index_missing=True)
    assert shown["status"] and "not available" in shown["status"][0]
    assert shown["problems"] == []
