"""Covers in headless Chromium: a site built with covers fetched from one local server (the
feed's image host) and served by another (the site): every request a page makes goes to the
site, every image has its size before it loads, nothing shifts, in light and dark, wide and
narrow. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, npm_file, start_server
from test_artwork import _Server, serve_images, write_site

from devcasts.config.load import load_config
from devcasts.pipeline import BuildOptions, build

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
BASE_PATH = "/art/"  # the test site's base_url: https://example.github.io/art/
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The covers test site, built with the image host up, then served with it down."""
    folder = tmp_path_factory.mktemp("covers-site")
    images = _Server()
    thread = threading.Thread(target=images.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    serve_images(images)
    write_site(folder, images)
    options = BuildOptions(
        out_dir=folder / "site", cache_dir=folder / "cache", allow_private_network=True
    )
    build(load_config(folder / "feeds.yaml"), options)
    images.shutdown()
    images.server_close()
    url, server = start_server(folder / "site", BASE_PATH)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site_url: str) -> Iterator[Any]:
    """Started after the site is built: the build runs its own event loop."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield launched
        launched.close()


def open_page(browser: Any, site_url: str, viewport: dict[str, int], scheme: str) -> Any:
    """A page that records every request (and lets through only the site's own)."""
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    tab = context.new_page()
    tab.requests = []
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))

    def route(request_route: Any) -> None:
        url = request_route.request.url
        tab.requests.append(url)
        if url.startswith(site_url.removesuffix(BASE_PATH)):
            request_route.continue_()
        else:
            request_route.abort()

    tab.route("**/*", route)
    # Layout shifts, as the browser reports them, from the first paint on.
    tab.add_init_script(
        "window.shifts = 0; new PerformanceObserver((list) => { for (const e of list.getEntries())"
        " { if (!e.hadRecentInput) window.shifts += e.value; } })"
        ".observe({type: 'layout-shift', buffered: true});"
    )
    return tab


PAGES = {
    "home": "",
    "podcasts": "podcasts/",
    "podcast": "podcasts/render-farm-radio/",
    "episode": "podcasts/render-farm-radio/12-remote-caches-that-stay-warm/",
}


def load_every_image(page: Any) -> None:
    """Scroll to the end so lazy images load too, then wait for every image."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function(
        # Images in a hidden part (the player bar before anything plays) never load: lazy.
        "() => [...document.images].filter((img) => img.checkVisibility())"
        ".every((img) => img.complete)",
        timeout=20_000,
    )
    page.evaluate("window.scrollTo(0, 0)")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_covers_come_from_the_site_with_their_size_and_shift_nothing(
    browser: Any, site_url: str, viewport: dict[str, int], scheme: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = "desktop" if viewport == DESKTOP else "phone"
    for name, path in PAGES.items():
        page = open_page(browser, site_url, viewport, scheme)
        page.goto(site_url + path)
        load_every_image(page)
        origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in page.requests}
        assert origins == {site_url.removesuffix(BASE_PATH)}, page.requests
        images = page.evaluate(
            """() => [...document.images].filter((img) => img.checkVisibility()).map((img) => ({
                src: img.currentSrc, width: img.getAttribute('width'),
                height: img.getAttribute('height'), natural: img.naturalWidth,
                shown: img.getBoundingClientRect().width, alt: img.getAttribute('alt')}))"""
        )
        assert images, name
        for image in images:
            assert image["width"] and image["height"], image
            assert image["natural"] > 0, image  # it loaded
            assert image["alt"] is not None, image
            assert re.search(r"/art/art/[0-9a-f]{20}-\d+\.webp$", image["src"]), image
            assert image["natural"] >= image["shown"] * 0.99, image  # never blown up at 1x
        assert page.evaluate("window.shifts") < 0.01, name
        assert page.errors == []
        page.screenshot(path=str(ARTIFACTS / f"covers-{name}-{width}-{scheme}.png"))
        page.context.close()


def test_search_results_show_covers_from_the_site(browser: Any, site_url: str) -> None:
    page = open_page(browser, site_url, DESKTOP, "light")
    page.goto(site_url + "search/?q=caches")
    result = page.locator("#search-results ol.search-list li").first
    result.wait_for(timeout=20_000)
    img = result.locator("picture.card-art img")
    assert img.get_attribute("width") == "96" and img.get_attribute("height") == "96"
    assert re.search(r"/art/art/[0-9a-f]{20}-96\.jpg$", img.get_attribute("src") or "")
    load_every_image(page)
    assert page.evaluate("document.querySelector('.search-result img').naturalWidth") > 0
    assert {urlsplit(u).netloc for u in page.requests} == {urlsplit(site_url).netloc}
    page.screenshot(path=str(ARTIFACTS / "covers-search-desktop-light.png"))
    page.context.close()


def test_no_serious_accessibility_problems_with_covers(browser: Any, site_url: str) -> None:
    axe = npm_file("axe-core@4", "axe.min.js", "DEVCASTS_AXE_JS")
    for path in PAGES.values():
        page = open_page(browser, site_url, DESKTOP, "light")
        page.goto(site_url + path)
        page.add_script_tag(path=str(axe))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], (path, serious)
        page.context.close()
