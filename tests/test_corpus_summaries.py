"""Summaries and pasted transcripts on the real feeds of the corpus.

Before summaries were edited (ingest/summary.py), a build of the corpus showed, among 4785
archived episodes: 65 summaries opening with a "Show Notes" heading, 23 with a link to the
mp3, 27 with a producer list, 3 with a hosting footer, 81 with the title repeated as a
heading, 584 with a heading glued to its paragraph, and 404 holding sponsor or affiliate text.
The corpus holds no transcript pasted into notes; its look-alikes (chapter lists with label
prefixes, "WP:" link lists, "Label: description" lists) must stay in the notes.
"""

from __future__ import annotations

import itertools
import re
from functools import cache

import pytest
from conftest import corpus_feeds

from devcasts.records import Episode
from devcasts.util.text import slugify

pytestmark = pytest.mark.corpus


_OPENING_BOILERPLATE = {
    "show notes heading": re.compile(r"^\W*(?:links (?:&|and) )?show ?notes\b", re.IGNORECASE),
    "mp3 link": re.compile(r"direct \[?link\]? to the mp3|download the mp3", re.IGNORECASE),
    "producer list": re.compile(r"\bproducers?:", re.IGNORECASE),
    "hosting footer": re.compile(r"hosted on \w+\. see", re.IGNORECASE),
}
_SPONSOR = re.compile(r"sponsored by|affiliate links?|\bsponsors?:|promo code", re.IGNORECASE)
_UNMARKED_LATIN_END = re.compile(r"[A-Za-zÀ-ÿ0-9]$")


@cache
def corpus_episodes() -> tuple[Episode, ...]:
    return tuple(episode for corpus_feed in corpus_feeds() for episode in corpus_feed.feed.episodes)


def episodes_of(feed: str) -> list[Episode]:
    return [e for e in corpus_episodes() if e.podcast == slugify(feed)]


def test_no_summary_opens_with_boilerplate() -> None:
    found = {
        kind: [e.title for e in corpus_episodes() if pattern.search(e.summary[:120])]
        for kind, pattern in _OPENING_BOILERPLATE.items()
    }
    assert found == {kind: [] for kind in _OPENING_BOILERPLATE}


def test_no_summary_holds_sponsor_or_affiliate_text() -> None:
    assert [e.summary for e in corpus_episodes() if _SPONSOR.search(e.summary)] == []


def test_no_heading_is_glued_to_its_paragraph() -> None:
    glued = []
    for episode in corpus_episodes():
        lines = episode.text.splitlines()[:9]
        for heading, paragraph in itertools.pairwise(lines):
            joined = heading + " " + paragraph[:15]
            if (
                len(heading) < 100
                and _UNMARKED_LATIN_END.search(heading)
                and paragraph[:1].isupper()
                and joined in episode.summary
            ):
                glued.append(joined)
    assert glued == []


def test_a_subtitle_heading_keeps_its_sentence_break() -> None:
    summaries = [e.summary for e in episodes_of("argl_chaosradio-express_psc-chapters.xml")]
    assert any("Netzwerkrealität. Das Internet" in s for s in summaries)


def test_notes_that_open_with_links_give_way_to_a_real_subtitle() -> None:
    episodes = episodes_of("jb_coder-radio_2025-06.xml")
    latest = next(e for e in episodes if e.title.startswith("620:"))
    assert latest.summary.startswith("Mike sits down with Sunil Pai of Cloudflare")
    assert not any(e.summary.startswith("Coder's Socials") for e in episodes)


def test_credits_first_notes_do_not_open_their_summary() -> None:
    for feed in ("partytime_no-agenda.xml", "partytime_podcasting20.xml"):
        for episode in episodes_of(feed):
            assert not episode.summary.lower().startswith(("show notes", "shownotes")), episode
            assert episode.title.split(":")[-1].strip(' "') not in episode.summary[:60]


def test_summaries_stay_short() -> None:
    assert max(len(e.summary) for e in corpus_episodes()) <= 300


def test_no_look_alike_of_a_transcript_is_cut_out_of_real_notes() -> None:
    assert [e.title for e in corpus_episodes() if e.transcript_turns] == []
