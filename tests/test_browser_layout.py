"""The layout in headless Chromium: a phone (390x844) and a desktop (1280x800), light and dark.

On a phone the header is one line (a search icon instead of the form), the home page shows
its topics and first episode within the first screens, nothing scrolls sideways, chapter
titles hang under their title and the health table stacks. Screenshots of the main pages go
to test-artifacts/layout-*.png.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, start_server
from test_browser import (  # its fixtures: the browser, a page that stays on 127.0.0.1
    ARTIFACTS,
    CHAPTER_EPISODE,
    DESKTOP,
    PHONE,
    axe_script,
    browser,
    page,
    serious_violations,
    site_root,
    site_url,
)

from devcasts.config.load import load_config

__all__ = ["axe_script", "browser", "page", "site_root", "site_url"]  # fixtures, used by name

pytestmark = pytest.mark.browser

HEADER_MAX = 64  # CSS px, at 390x844
FIRST_CARD_MAX = 900  # the first episode card starts within about one phone screen
PAGES = {
    "home": "",
    "podcast": "podcasts/ship-it-weekly/",
    "older-page": "podcasts/ship-it-weekly/page/2/",
    "popular": "topics/heroku/popular/",
    "episode": CHAPTER_EPISODE,
    "search": "search/?q=heroku",
    "health": "health/",
    "podcasts": "podcasts/",
    "topics": "topics/",
}


@pytest.fixture(scope="module")
def example_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The offline example (shows in the shapes real feeds have), built and served."""
    work = tmp_path_factory.mktemp("layout-example")
    shutil.copytree(ROOT / "examples", work / "examples")
    feeds = work / "examples" / "feeds.yaml"
    site = work / "site"
    build = [sys.executable, str(ROOT / "build.py"), "--feeds", str(feeds), "--out", str(site)]
    # in a process of its own: the build runs an event loop, and so does Playwright's page
    subprocess.run([*build, "--cache", str(work / "cache")], check=True, capture_output=True)
    url, server = start_server(site, load_config(feeds).site.base_path)
    yield url
    server.shutdown()
    server.server_close()


def box(page: Any, selector: str) -> dict[str, float]:
    found: dict[str, float] = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def test_phone_header_is_one_line_with_a_search_icon(page: Any, site_url: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(site_url)
    header = box(page, ".site-header")
    assert header["height"] <= HEADER_MAX
    title, nav, icon = (
        box(page, ".site-title"),
        box(page, ".site-header nav"),
        box(page, ".search-link"),
    )
    for part in (title, nav, icon):  # side by side, on one line
        assert part["y"] >= header["y"] and part["y"] + part["height"] <= header["height"] + 1
    assert title["x"] + title["width"] <= nav["x"] <= nav["x"] + nav["width"] <= icon["x"]
    assert icon["x"] + icon["width"] <= PHONE["width"] and icon["width"] >= 24
    assert not page.locator(".header-search").is_visible()
    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_url(f"{site_url}search/")
    assert page.get_by_role("searchbox", name="Search episodes").is_visible()
    assert page.errors == []


def test_desktop_header_keeps_the_full_search_form(page: Any, site_url: str) -> None:
    page.goto(site_url)
    assert page.locator(".header-search").is_visible()
    assert not page.locator(".search-link").is_visible()
    assert box(page, ".site-header")["height"] <= HEADER_MAX


@pytest.mark.parametrize("which", ["sample", "example"])
def test_phone_home_shows_topics_and_the_first_episode_early(
    page: Any, site_url: str, example_url: str, which: str
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(site_url if which == "sample" else example_url)
    assert box(page, ".site-header")["height"] <= HEADER_MAX
    assert box(page, ".episode-card")["y"] < FIRST_CARD_MAX
    topics = box(page, "#topics-heading")
    assert topics["y"] < 2 * PHONE["height"]
    assert box(page, ".topic-overview a")["y"] < 2 * PHONE["height"]
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_nothing_scrolls_sideways_on_a_phone(page: Any, site_url: str) -> None:
    page.set_viewport_size(PHONE)
    wide = {}
    for name, path in PAGES.items():
        page.goto(site_url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide[name] = overflow
    assert wide == {}
    assert page.errors == []


def test_a_wrapped_chapter_title_hangs_under_its_title(page: Any, site_url: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(site_url + CHAPTER_EPISODE)
    title = page.locator(".chapters .chapter-title").nth(1)
    title.evaluate("(node) => { node.textContent = 'Why we left, '.repeat(8).trim(); }")
    lines = title.evaluate(  # where each line of the title's text starts
        "(node) => { const range = document.createRange(); range.selectNodeContents(node);"
        " return Array.from(range.getClientRects(), (rect) => Math.round(rect.left)); }"
    )
    time_left = box(page, ".chapters li:nth-child(2) .chapter-time")["x"]
    assert len(lines) >= 2, "the title did not wrap"
    assert all(left == lines[0] for left in lines[1:])  # every line starts where the first does
    assert lines[0] > time_left + 30


def test_the_health_table_stacks_on_a_phone(page: Any, site_url: str, axe_script: Path) -> None:
    page.set_viewport_size(PHONE)
    page.goto(site_url + "health/")
    reason = page.locator("td.reason", has_text="HTTP 503")
    width = reason.bounding_box()["width"]
    assert width >= 0.8 * (PHONE["width"] - 2 * 16)  # a full row, not a squeezed column
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert serious_violations(page, axe_script) == []


def test_phone_pages_have_no_serious_accessibility_violations(
    page: Any, site_url: str, axe_script: Path
) -> None:
    page.set_viewport_size(PHONE)
    problems = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for name in ("home", "older-page", "popular", "podcasts", "topics"):
            page.goto(site_url + PAGES[name])
            if found := serious_violations(page, axe_script) + page.errors:
                problems[f"{scheme} {name}"] = found
            page.errors.clear()
    assert problems == {}


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_layout_screenshots(page: Any, site_url: str, size: str, viewport: dict[str, int]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(viewport)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for name in ("home", "podcast", "episode", "search", "health"):
            page.goto(site_url + PAGES[name])
            if name == "search":
                page.locator("#search-results ol").first.wait_for(timeout=30_000)
            shot = ARTIFACTS / f"layout-{name}-{size}-{scheme}.png"
            page.screenshot(path=str(shot), full_page=True)
    assert page.errors == []
