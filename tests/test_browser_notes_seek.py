"""A timestamp in the show notes seeks the player, in headless Chromium (as tests/test_browser.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import build_catalog, start_server
from test_browser import (  # its fixtures, the browser and a page that stays on 127.0.0.1
    BASE_PATH,
    CHAPTER_EPISODE,
    browser,
    page,
    site_config,
    with_local_audio,
    write_silence,
)

from devcasts.records import Catalog
from devcasts.site import urls
from devcasts.site.content_pages import load_content_pages
from devcasts.site.render import render_site
from devcasts.site.writer import SiteWriter

pytestmark = pytest.mark.browser
__all__ = ["browser", "page"]

NOTES = "<p>What we moved first.</p><p>(00:30) Back to the pager<br>Questions - 00:50</p>"


@pytest.fixture(scope="module")
def notes_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("notes-seek-site")
    url, server = start_server(root, BASE_PATH)
    write_silence(root / "media" / "silence.wav", 60)
    catalog = with_notes(with_local_audio(build_catalog(), url + "media/silence.wav"))
    content = tmp_path_factory.mktemp("content")
    config = site_config(catalog, content)
    pages = load_content_pages(config.content_dir, config.site.base_path)
    render_site(catalog, config, SiteWriter(root), pages)
    yield url
    server.shutdown()
    server.server_close()


def with_notes(catalog: Catalog) -> Catalog:
    episodes = tuple(
        dataclasses.replace(e, notes_html=NOTES) if urls.episode(e) == CHAPTER_EPISODE else e
        for e in catalog.episodes
    )
    return dataclasses.replace(catalog, episodes=episodes)


def test_a_timestamp_in_the_notes_seeks_the_player(page: Any, notes_site_url: str) -> None:
    page.goto(notes_site_url + CHAPTER_EPISODE)
    page.evaluate(
        "window.seeks = []; document.getElementById('player')"
        ".addEventListener('seeking', (event) => seeks.push(event.target.currentTime))"
    )
    page.locator(".notes a.seek", has_text="00:30").click()
    page.wait_for_function("window.seeks.length > 0", timeout=30_000)
    assert page.evaluate("window.seeks") == [30]
    assert page.url == f"{notes_site_url}{CHAPTER_EPISODE}#t=30"  # the moment, to share
    page.locator(".notes a.seek", has_text="00:50").click()
    page.wait_for_function("window.seeks.length > 1", timeout=30_000)
    assert page.evaluate("window.seeks")[-1] == 50
    assert page.errors == []
