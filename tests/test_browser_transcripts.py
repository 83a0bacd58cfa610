"""A linked transcript on the episode page, in headless Chromium: folded, its times seek the
player, readable and accessible at desktop and phone sizes, light and dark."""

# The sample site's fixtures come from test_browser: tests name them as their parameters.
# ruff: noqa: F811

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_browser import (  # noqa: F401 -- the sample site and its browser, as fixtures
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

pytestmark = pytest.mark.browser


def test_transcript_times_seek_the_player(page: Any, site_url: str) -> None:
    page.goto(site_url + CHAPTER_EPISODE)
    transcript = page.locator("details.linked-transcript")
    assert transcript.get_attribute("open") is None  # folded
    link = page.get_by_role("link", name="0:12", exact=True)
    assert not link.is_visible()
    page.get_by_text("Read the transcript").click()
    page.evaluate(
        "window.seeks = []; document.getElementById('player')"
        ".addEventListener('seeking', (event) => seeks.push(event.target.currentTime))"
    )
    link.click()
    page.wait_for_function("window.seeks.length > 0", timeout=30_000)
    assert page.evaluate("window.seeks")[0] in (12, 12.5)
    assert page.url.startswith(site_url + CHAPTER_EPISODE)  # the page stays
    # Hostile text is text: no script ran, and it reads as written.
    assert "</script><script>alert(1)</script>" in transcript.inner_text()
    assert page.errors == []


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_open_transcript_is_readable_and_accessible(
    page: Any,
    site_url: str,
    axe_script: Path,
    name: str,
    viewport: dict[str, int],
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(viewport)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(site_url + CHAPTER_EPISODE)
        page.get_by_text("Read the transcript").click()
        section = page.locator("section", has=page.locator("details.linked-transcript"))
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(ARTIFACTS / f"transcript-{name}-{scheme}.png"))
        assert serious_violations(page, axe_script) == []
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    assert page.errors == []
