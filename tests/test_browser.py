"""The rendered site in headless Chromium, served on 127.0.0.1 under a base path.

Needs Debian's chromium at /usr/bin/chromium and Playwright for Python (never a downloaded
browser); axe-core comes from npm into .cache/npm. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import dataclasses
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, build_catalog, npm_file, start_server

from devcasts.model import Config
from devcasts.records import Catalog, Enclosure
from devcasts.search.browser_index import build_browser_index
from devcasts.site import urls
from devcasts.site.content_pages import load_content_pages
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
BASE_PATH = "/devcasts/"
CHAPTER_EPISODE = "podcasts/ship-it-weekly/episode-1/"
# Pages link out only to public hosts (util/links.py), so the test audio is served under a
# name the browser maps to 127.0.0.1 itself: no lookup leaves the machine.
AUDIO_HOST = "media.devcasts.test"
LAUNCH_ARGS = [
    "--no-sandbox",
    f"--host-resolver-rules=MAP {AUDIO_HOST} 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)


def write_silence(path: Path, seconds: int) -> None:
    """A tiny WAV (8 kHz, 8-bit mono) the player can load and seek in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(1)
        audio.setframerate(8000)
        audio.writeframes(b"\x80" * 8000 * seconds)


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-site")


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory, site_root: Path) -> Iterator[str]:
    """The sample site, its chapter episode's audio served by the same local server."""
    url, server = start_server(site_root, BASE_PATH)  # module-wide, unlike served_site
    write_silence(site_root / "media" / "silence.wav", 60)
    catalog = with_local_audio(build_catalog(), url + "media/silence.wav")
    content = tmp_path_factory.mktemp("content")
    config = site_config(catalog, content)
    pages = load_content_pages(config.content_dir, config.site.base_path)
    writer = SiteWriter(site_root)
    render_site(catalog, config, writer, pages)
    for relpath, data in build_browser_index(catalog).files.items():
        writer.write(relpath, data)
    yield url
    server.shutdown()
    server.server_close()


def with_local_audio(catalog: Catalog, audio_url: str) -> Catalog:
    """The chapter episode's audio at `audio_url` (on 127.0.0.1), named by AUDIO_HOST."""
    audio_url = audio_url.replace("://127.0.0.1:", f"://{AUDIO_HOST}:", 1)
    episodes = tuple(
        dataclasses.replace(e, enclosure=Enclosure(audio_url, "audio/wav"))
        if urls.episode(e) == CHAPTER_EPISODE
        else e
        for e in catalog.episodes
    )
    return dataclasses.replace(catalog, episodes=episodes)


def site_config(catalog: Catalog, content: Path) -> Config:
    (content / "about.md").write_text("---\ntitle: About\n---\nInvented shows for tests.\n")
    return Config(
        catalog.site, catalog.topics, (), content / "feeds.yaml", content, ROOT / "templates"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that may talk to 127.0.0.1 only and records every console error."""
    context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("dialog", lambda dialog: tab.errors.append(f"dialog: {dialog.message}"))
    tab.route("**/*", _local_only)
    yield tab
    context.close()


def _local_only(route: Any) -> None:
    if route.request.url.startswith(("http://127.0.0.1:", f"http://{AUDIO_HOST}:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture(scope="module")
def axe_script() -> Path:
    return npm_file("axe-core@4", "axe.min.js", "DEVCASTS_AXE_JS")


def serious_violations(page: Any, axe_script: Path) -> list[str]:
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_home_to_topic_to_episode_and_a_chapter_seeks_the_player(page: Any, site_url: str) -> None:
    page.goto(site_url)
    page.get_by_role("link", name="Heroku", exact=True).first.click()
    page.wait_for_url(f"{site_url}topics/heroku/")
    page.get_by_role("link", name="Moving from Heroku to Kubernetes").first.click()
    page.wait_for_url(site_url + CHAPTER_EPISODE)
    audio = page.locator("audio#player")
    assert audio.get_attribute("preload") == "none" and audio.get_attribute("controls") is not None
    # Where each seek went, as it starts: the position itself moves on while the audio plays.
    page.evaluate(
        "window.seeks = []; document.getElementById('player')"
        ".addEventListener('seeking', (event) => seeks.push(event.target.currentTime))"
    )
    page.get_by_role("link", name="0:42 Why we left").click()
    page.wait_for_function("window.seeks.length > 0", timeout=30_000)
    assert page.evaluate("window.seeks") == [42.5]
    assert page.url == site_url + CHAPTER_EPISODE  # the link did not navigate away
    assert page.errors == []


def test_search_finds_an_episode(page: Any, site_url: str, axe_script: Path) -> None:
    page.goto(site_url)
    page.get_by_role("searchbox", name="Search episodes").fill("Kubernetes")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site_url}search/?q=Kubernetes")
    result = page.locator(f'#search-results ol a[href$="{CHAPTER_EPISODE}"]')
    result.first.wait_for(timeout=30_000)
    assert "Moving from Heroku to Kubernetes" in result.first.inner_text()
    assert serious_violations(page, axe_script) == []
    assert page.errors == []


def test_a_time_in_the_address_cues_the_player(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}{CHAPTER_EPISODE}#t=30")
    page.wait_for_function("document.getElementById('player').currentTime === 30", timeout=30_000)
    assert page.evaluate("document.getElementById('player').paused")  # cued, not playing
    assert page.errors == []


def test_no_console_errors_and_no_serious_accessibility_violations(
    page: Any, site_url: str, axe_script: Path
) -> None:
    paths = ["", CHAPTER_EPISODE, "podcasts/hostile-show/episode-1/", "topics/heroku/popular/"]
    paths += ["podcasts/ship-it-weekly/page/2/", "people/", "health/", "about/", "404.html"]
    problems: dict[str, list[str]] = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for path in paths:
            page.goto(site_url + path)
            if found := serious_violations(page, axe_script) + page.errors:
                problems[f"{scheme} {path}"] = found
            page.errors.clear()
    assert problems == {}


def test_axe_does_report_a_serious_violation(page: Any, axe_script: Path) -> None:
    page.set_content("<!doctype html><html><body><img src='data:,'><a href='#'></a></body></html>")
    assert any(v.startswith("image-alt") for v in serious_violations(page, axe_script))


def test_keyboard_reaches_the_skip_link_first(page: Any, site_url: str) -> None:
    page.goto(site_url + CHAPTER_EPISODE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_and_no_sideways_scrolling(
    page: Any, site_url: str, name: str, viewport: dict[str, int]
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(viewport)
    for label, path in (("home", ""), ("episode", CHAPTER_EPISODE)):
        page.goto(site_url + path)
        page.screenshot(path=str(ARTIFACTS / f"{label}-{name}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{label} scrolls sideways at {name} width"
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(ARTIFACTS / f"episode-{name}-dark.png"), full_page=True)
    assert page.errors == []
