"""The offline example, built through the command line and browsed in headless Chromium.

The example folder is copied first, so the build's archive never touches the repository.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, npm_file, start_server
from test_browser import CHROMIUM, LAUNCH_ARGS, serious_violations
from test_render import broken_links

from devcasts.cli.main import main
from devcasts.config.load import load_config

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    """(site URL on 127.0.0.1, site folder, base URL from the example's feeds.yaml)."""
    work = tmp_path_factory.mktemp("example")
    shutil.copytree(ROOT / "examples", work / "examples")
    feeds = work / "examples" / "feeds.yaml"
    site = work / "site"
    assert main(["--feeds", str(feeds), "--out", str(site), "--cache", str(work / "cache")]) == 0
    base_url = load_config(feeds).site.base_url
    url, server = start_server(site, load_config(feeds).site.base_path)
    yield url, site, base_url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(example: tuple[str, Path, str]) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        tab.errors = []
        tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        tab.route("**/*", _local_only)
        yield tab
        browser.close()


def _local_only(route: Any) -> None:
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


def test_every_link_of_the_example_site_resolves(example: tuple[str, Path, str]) -> None:
    _, site, base_url = example
    assert len(list(site.glob("podcasts/*/*/index.html"))) >= 20
    assert broken_links(site, base_url) == []


def test_browse_and_search_the_example(page: Any, example: tuple[str, Path, str]) -> None:
    url = example[0]
    axe = npm_file("axe-core@4", "axe.min.js", "DEVCASTS_AXE_JS")
    page.goto(url)
    assert serious_violations(page, axe) == []
    page.goto(url + "topics/")
    page.get_by_role("link", name="Dokku", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/topics/dokku/$"))
    page.locator("ol.episodes a").first.click()
    page.wait_for_url(re.compile(r".*/podcasts/[^/]+/[^/]+/$"))
    assert page.locator("audio[controls][preload=none]").count() == 1
    assert serious_violations(page, axe) == []
    page.goto(url + "search/?q=Dokku")
    page.locator("#search-results ol a").first.wait_for(timeout=30_000)
    assert "Dokku" in page.locator("#search-results").inner_text()
    assert serious_violations(page, axe) == []
    assert page.errors == []
