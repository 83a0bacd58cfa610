"""The player bar in headless Chromium (as tests/test_browser.py): play buttons on cards and
search results, playing on across page loads, speed, skips, keys, #t= times, chapters, the
Media Session, remembered positions and a link to the moment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_browser import (  # its fixtures: the sample site, the browser, a page kept on 127.0.0.1
    ARTIFACTS,
    AUDIO_HOST,
    BASE_PATH,
    CHAPTER_EPISODE,
    PHONE,
    axe_script,
    browser,
    page,
    serious_violations,
    site_root,
    site_url,
)

pytestmark = pytest.mark.browser
__all__ = ["axe_script", "browser", "page", "site_root", "site_url"]

TITLE = "Moving from Heroku to Kubernetes"  # CHAPTER_EPISODE, whose audio is a local minute
SHOW = "Ship It Weekly"
STATE_KEY = f"devcasts:{BASE_PATH}:player"
POSITIONS_KEY = f"devcasts:{BASE_PATH}:positions"
WAIT = 30_000


def audio(page: Any, expression: str) -> Any:
    return page.evaluate(
        f"(() => {{ const a = document.getElementById('player'); return {expression}; }})()"
    )


def wait_playing(page: Any, after: float = 0.3) -> None:
    page.wait_for_function(
        f"(() => {{ const a = document.getElementById('player');"
        f" return !a.paused && a.currentTime > {after}; }})()",
        timeout=WAIT,
    )


def play_from_the_topic_page(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}topics/heroku/")
    page.get_by_role("button", name=f"Play {TITLE}", exact=True).first.click()
    wait_playing(page)


def test_play_from_a_card_then_another_page_resumes_near_where_it_was(
    page: Any, site_url: str
) -> None:
    audio_requests: list[str] = []
    page.on("request", lambda r: audio_requests.append(r.url) if AUDIO_HOST in r.url else None)
    page.goto(f"{site_url}topics/heroku/")
    assert page.locator("#player-bar").is_hidden()
    assert audio_requests == []  # nothing from the audio's host before play
    page.get_by_role("button", name=f"Play {TITLE}", exact=True).first.click()
    wait_playing(page)
    assert audio_requests  # now it loads
    bar = page.get_by_role("region", name="Player")
    assert bar.is_visible() and TITLE in bar.inner_text() and SHOW in bar.inner_text()
    page.get_by_role("button", name="Forward 30 seconds").click()
    page.wait_for_function("document.getElementById('player').currentTime > 30", timeout=WAIT)
    left_at = audio(page, "a.currentTime")

    page.get_by_role("link", name="Podcasts", exact=True).click()
    page.wait_for_url(f"{site_url}podcasts/")
    page.wait_for_function(
        "document.getElementById('player').currentTime > 0"
        " && !document.getElementById('player-bar').hidden",
        timeout=WAIT,
    )
    assert page.locator(".player-title").inner_text() == TITLE
    toggle = page.locator(".player-toggle")
    if toggle.inner_text().startswith("Resume at"):  # this browser wanted a click first
        toggle.click()
    wait_playing(page, after=left_at - 1)
    assert abs(audio(page, "a.currentTime") - left_at) < 4
    assert page.errors == []


def test_a_refused_resume_offers_one_click(page: Any, site_url: str) -> None:
    # The browser refuses the first play() as an autoplay policy would.
    page.add_init_script(
        "(() => { const play = HTMLMediaElement.prototype.play; let refused = false;"
        " HTMLMediaElement.prototype.play = function () { if (!refused) { refused = true;"
        " return Promise.reject(new DOMException('no gesture', 'NotAllowedError')); }"
        " return play.call(this); }; })()"
    )
    page.goto(f"{site_url}topics/heroku/")
    card = page.get_by_role("button", name=f"Play {TITLE}").first
    state = {
        "episode": {
            "audio": card.get_attribute("data-audio"),
            "page": BASE_PATH + CHAPTER_EPISODE,
            "title": TITLE,
            "show": SHOW,
        },
        "position": 20,
        "speed": 1,
        "playing": True,
    }
    page.evaluate(f"localStorage.setItem({json.dumps(STATE_KEY)}, {json.dumps(json.dumps(state))})")
    page.goto(f"{site_url}people/")
    resume = page.get_by_role("button", name="Resume at 0:20")
    resume.wait_for(timeout=WAIT)
    assert audio(page, "a.paused")
    resume.click()
    wait_playing(page, after=20)
    assert page.errors == []


def test_a_paused_episode_is_restored_without_a_request_until_play(
    page: Any, site_url: str
) -> None:
    page.goto(f"{site_url}topics/heroku/")
    card = page.get_by_role("button", name=f"Play {TITLE}", exact=True).first
    episode = {"audio": card.get_attribute("data-audio"), "page": BASE_PATH + CHAPTER_EPISODE}
    state = {"episode": {**episode, "title": TITLE, "show": SHOW}, "position": 20, "playing": False}
    page.evaluate(f"localStorage.setItem({json.dumps(STATE_KEY)}, {json.dumps(json.dumps(state))})")
    audio_requests: list[str] = []
    page.on("request", lambda r: audio_requests.append(r.url) if AUDIO_HOST in r.url else None)
    page.goto(f"{site_url}people/")
    page.locator(".player-title").wait_for(timeout=WAIT)
    assert page.locator(".player-toggle").inner_text() == "Play"
    assert audio(page, "a.currentTime") == 20 and audio(page, "a.paused")
    page.wait_for_timeout(500)
    assert audio_requests == []
    page.locator(".player-toggle").click()
    wait_playing(page, after=20)
    assert audio_requests
    assert page.errors == []


def test_speed_is_kept_and_skips_go_back_15_and_forward_30(page: Any, site_url: str) -> None:
    play_from_the_topic_page(page, site_url)
    page.get_by_label("Speed").select_option("1.5")
    assert audio(page, "a.playbackRate") == 1.5
    page.locator(".player-toggle").click()  # pause, so the skips are exact
    page.wait_for_function("document.getElementById('player').paused", timeout=WAIT)
    start = audio(page, "a.currentTime")
    page.get_by_role("button", name="Forward 30 seconds").click()
    assert audio(page, "a.currentTime") == pytest.approx(start + 30)
    page.get_by_role("button", name="Back 15 seconds").click()
    assert audio(page, "a.currentTime") == pytest.approx(start + 15)

    page.locator("main").click(position={"x": 5, "y": 5})  # keys go to the page, not a field
    page.keyboard.press("l")
    assert audio(page, "a.currentTime") == pytest.approx(start + 45)
    page.keyboard.press("ArrowLeft")
    assert audio(page, "a.currentTime") == pytest.approx(start + 30)
    page.keyboard.press("k")
    wait_playing(page)
    page.keyboard.press("k")
    page.wait_for_function("document.getElementById('player').paused", timeout=WAIT)

    page.get_by_role("link", name="Topics", exact=True).click()
    page.wait_for_url(f"{site_url}topics/")
    page.locator(".player-title").wait_for(timeout=WAIT)
    assert page.get_by_label("Speed").input_value() == "1.5"
    assert page.locator(".player-toggle").inner_text() == "Play"  # it was paused: it stays so
    page.locator(".player-toggle").click()
    wait_playing(page)
    assert audio(page, "a.playbackRate") == 1.5
    assert page.errors == []


def test_keys_leave_typing_alone(page: Any, site_url: str) -> None:
    play_from_the_topic_page(page, site_url)
    before = audio(page, "a.currentTime")
    page.get_by_role("searchbox", name="Search episodes").fill("kl j")
    assert audio(page, "a.currentTime") < before + 10  # no skip of 30 s while typing
    assert not audio(page, "a.paused")
    assert page.errors == []


@pytest.mark.parametrize(
    ("moment", "seconds"), [("42", 42), ("12:30", 750), ("0:25:05", 1505), ("0:07.5", 7.5)]
)
def test_a_time_in_the_address_cues_the_episode(
    page: Any, site_url: str, moment: str, seconds: float
) -> None:
    page.goto(f"{site_url}{CHAPTER_EPISODE}#t={moment}")
    page.wait_for_function(
        f"document.getElementById('player').currentTime === {seconds}", timeout=WAIT
    )
    assert audio(page, "a.paused")  # cued, not playing
    assert page.locator("#player-bar").is_visible()
    assert page.errors == []


def test_a_new_time_in_the_address_seeks_again(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}{CHAPTER_EPISODE}#t=10")
    page.wait_for_function("document.getElementById('player').currentTime === 10", timeout=WAIT)
    page.evaluate("location.hash = '#t=0:25'")
    page.wait_for_function("document.getElementById('player').currentTime === 25", timeout=WAIT)
    page.evaluate("location.hash = '#t=not-a-time'")
    assert audio(page, "a.currentTime") == 25
    assert page.errors == []


def test_a_chapter_plays_from_its_start_with_the_chapter_on_the_lock_screen(
    page: Any, site_url: str
) -> None:
    page.goto(site_url + CHAPTER_EPISODE)
    page.get_by_role("link", name="0:42 Why we left").click()
    wait_playing(page, after=42)
    assert page.url == site_url + CHAPTER_EPISODE
    assert page.locator("a.chapter[aria-current]").inner_text().endswith("Why we left")
    metadata = page.evaluate(
        "(() => { const m = navigator.mediaSession.metadata;"
        " return {title: m.title, artist: m.artist, album: m.album, art: m.artwork.length}; })()"
    )
    assert metadata == {"title": TITLE, "artist": SHOW, "album": "Why we left", "art": 1}
    assert page.evaluate("navigator.mediaSession.playbackState") in ("playing", "none")
    assert page.errors == []


def test_a_card_names_the_chapter_from_the_episodes_chapters_file(page: Any, site_url: str) -> None:
    play_from_the_topic_page(page, site_url)
    page.wait_for_function("navigator.mediaSession.metadata?.album === 'Welcome'", timeout=WAIT)
    page.evaluate("document.getElementById('player').currentTime = 45")  # past 0:42
    page.wait_for_function("navigator.mediaSession.metadata.album === 'Why we left'", timeout=WAIT)
    assert page.evaluate("navigator.mediaSession.metadata.title") == TITLE
    assert page.errors == []


def test_the_episode_page_plays_through_the_bar(page: Any, site_url: str) -> None:
    page.goto(site_url + CHAPTER_EPISODE)
    assert page.locator("audio").count() == 1  # the page's own, adopted by the bar
    page.locator(".player").get_by_role("button", name=f"Play {TITLE}").click()
    wait_playing(page)
    assert page.evaluate("navigator.mediaSession.metadata.title") == TITLE
    assert page.locator(".player .play-button .play-label").inner_text() == "Pause"
    page.locator(".player .play-button").click()
    page.wait_for_function("document.getElementById('player').paused", timeout=WAIT)
    assert page.errors == []


def test_a_card_offers_to_resume_where_the_listener_stopped(page: Any, site_url: str) -> None:
    play_from_the_topic_page(page, site_url)
    page.get_by_role("button", name="Forward 30 seconds").click()
    page.locator(".player-toggle").click()
    page.wait_for_function("document.getElementById('player').paused", timeout=WAIT)
    label = "Resume at " + page.evaluate(
        "(() => { const s = Math.floor(document.getElementById('player').currentTime);"
        " return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); })()"
    )
    page.get_by_role("button", name="Close the player").click()
    assert page.locator("#player-bar").is_hidden()
    page.reload()
    card = page.get_by_role("button", name=f"{label} {TITLE}").first
    card.wait_for(timeout=WAIT)
    assert card.locator(".play-label").inner_text() == label
    page.goto(site_url + CHAPTER_EPISODE)
    page.locator(".player").get_by_role("button", name=f"{label} {TITLE}").wait_for(timeout=WAIT)
    assert page.locator("#player-bar").is_hidden()  # closed: it stays closed
    assert page.errors == []


def test_copy_link_at_this_time(page: Any, site_url: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{site_url}{CHAPTER_EPISODE}#t=0:25:05")
    page.locator(".player-toggle").wait_for(timeout=WAIT)
    page.get_by_role("button", name="Copy link at this time").click()
    page.get_by_role("status").filter(has_text="Link copied").wait_for(timeout=WAIT)
    expected = f"{site_url}{CHAPTER_EPISODE}#t=25:05"
    assert page.locator(".player-copy").get_attribute("data-link") == expected
    assert page.evaluate("navigator.clipboard.readText()") == expected
    assert page.errors == []


def test_search_results_have_play_buttons(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}search/?q=Kubernetes")
    button = page.locator("#search-results").get_by_role("button", name=f"Play {TITLE}")
    button.wait_for(timeout=WAIT)
    button.click()
    wait_playing(page)
    assert page.locator(".player-title").inner_text() == TITLE
    assert page.locator(".player-title").get_attribute("href") == BASE_PATH + CHAPTER_EPISODE
    assert page.errors == []


def test_hostile_stored_state_is_ignored(page: Any, site_url: str) -> None:
    page.goto(site_url)
    state = {
        "episode": {
            "audio": "javascript:alert(1)",
            "page": "https://elsewhere.example/",
            "title": "x",
        },
        "position": 3,
        "playing": True,
    }
    page.evaluate(f"localStorage.setItem({json.dumps(STATE_KEY)}, {json.dumps(json.dumps(state))})")
    page.evaluate(f"localStorage.setItem({json.dumps(POSITIONS_KEY)}, '[not json')")
    page.reload()
    assert page.locator("#player-bar").is_hidden()
    assert page.errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_bar_is_accessible_and_fits_a_phone(
    page: Any, site_url: str, axe_script: Path, scheme: str
) -> None:
    page.emulate_media(color_scheme=scheme)
    play_from_the_topic_page(page, site_url)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"player-desktop-{scheme}.png"))
    assert serious_violations(page, axe_script) == []
    page.set_viewport_size(PHONE)
    page.goto(site_url + CHAPTER_EPISODE)
    page.locator(".player-title").wait_for(timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / f"player-phone-{scheme}.png"))
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    height = page.evaluate("document.getElementById('player-bar').offsetHeight")
    assert height < 0.2 * PHONE["height"]
    assert serious_violations(page, axe_script) == []
    assert page.errors == []
