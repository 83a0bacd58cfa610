"""Chapters from timestamps in notes, from Podlove Simple Chapters, and as JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devcasts.ingest.chapters import (
    _longest_rising,
    chapters_from_html,
    chapters_from_psc,
    chapters_from_text,
    parse_timestamp,
)
from devcasts.ingest.sanitize import notes_to_html
from devcasts.records import Chapter, RawChapter
from devcasts.site.chapters import MAX_SEEK_LINKS, chapters_json, seek_links

DATA = Path(__file__).parent / "data" / "sanitize"


# --- parse_timestamp ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1:02:03", 3723.0),
        ("02:49", 169.0),
        ("1:02:03.500", 3723.5),
        ("93.5", 93.5),
        ("00:01:02.5", 62.5),
        ("0", 0.0),
        (" 12:34 ", 754.0),
        ("75:00", 4500.0),
        ("01:02:03,250", 3723.25),
        ("100:00:00", 360000.0),
    ],
)
def test_parse_timestamp(value: str, seconds: float) -> None:
    assert parse_timestamp(value) == seconds


@pytest.mark.parametrize(
    "value", ["", "abc", "-1", "1:60", "1:02:60", "1:2:3:4", "12:", ":30", "1e3", "nan", "inf"]
)
def test_parse_timestamp_rejects(value: str) -> None:
    assert parse_timestamp(value) is None


@given(
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=999),
)
def test_parse_timestamp_round_trips(hours: int, minutes: int, seconds: int, millis: int) -> None:
    written = f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    whole = hours * 3600 + minutes * 60 + seconds
    total = whole + millis / 1000
    assert parse_timestamp(written) == pytest.approx(total, abs=1e-9)
    assert parse_timestamp(f"{hours * 60 + minutes}:{seconds:02d}") == whole
    assert parse_timestamp(str(total)) == pytest.approx(total, abs=1e-9)


@given(st.text(max_size=20))
def test_parse_timestamp_never_raises(value: str) -> None:
    result = parse_timestamp(value)
    assert result is None or result >= 0


# --- chapters in show notes -----------------------------------------------------------------

ALL_FORMS = """Welcome to the show about shipping small apps.

(00:00) Introduction
02:49 - Why we left the old host
[05:10] Pricing, again –
12:34 Topic with no separator
15:00 – Topic after an en dash
- 20:00 Bulleted topic
* 25:30 | Piped topic
[1:02:03] Wrap-up
"""


def test_every_written_form_is_a_chapter() -> None:
    assert chapters_from_text(ALL_FORMS, 4000) == (
        Chapter(0.0, "Introduction"),
        Chapter(169.0, "Why we left the old host"),
        Chapter(310.0, "Pricing, again"),
        Chapter(754.0, "Topic with no separator"),
        Chapter(900.0, "Topic after an en dash"),
        Chapter(1200.0, "Bulleted topic"),
        Chapter(1530.0, "Piped topic"),
        Chapter(3723.0, "Wrap-up"),
    )


def test_three_part_stamps_with_hours() -> None:
    notes = "00:00:00 Intro\n00:10:05 Databases\n01:15:00 Questions"
    assert [c.start for c in chapters_from_text(notes, None)] == [0.0, 605.0, 4500.0]


def test_time_ranges_start_chapters_at_their_beginning() -> None:
    notes = "(00:00-02:49) Intro\n02:49 – 10:00 The interview\n[10:00 - 12:00] Outro"
    assert chapters_from_text(notes, 720) == (
        Chapter(0.0, "Intro"),
        Chapter(169.0, "The interview"),
        Chapter(600.0, "Outro"),
    )


def test_a_single_timestamp_is_not_a_chapter_list() -> None:
    assert chapters_from_text("Recorded live.\n12:30 Meet the guests at the bar", 3600) == ()


def test_stamps_must_increase() -> None:
    notes = "10:00 Later\n05:00 Earlier"
    assert chapters_from_text(notes, 3600) == ()


def test_the_longest_increasing_run_wins() -> None:
    notes = "30:00 Stray mention\n00:00 Intro\n05:00 Topic\n09:00 Outro"
    assert [c.title for c in chapters_from_text(notes, 3600)] == ["Intro", "Topic", "Outro"]


def test_two_part_stamps_are_minutes_when_they_fit() -> None:
    notes = "00:00 Intro\n12:00 Middle\n45:30 End"
    assert [c.start for c in chapters_from_text(notes, 3000)] == [0.0, 720.0, 2730.0]


def test_two_part_stamps_are_hours_when_only_that_makes_sense() -> None:
    notes = "00:00 Intro\n00:45 Part one\n01:30 Part two\n02:15 Questions"
    three_hours = 3 * 3600
    starts = [c.start for c in chapters_from_text(notes, three_hours)]
    assert starts == [0.0, 2700.0, 5400.0, 8100.0]


def test_two_part_stamps_without_duration_are_minutes() -> None:
    notes = "00:00 Intro\n00:45 Part one\n01:30 Part two"
    assert [c.start for c in chapters_from_text(notes, None)] == [0.0, 45.0, 90.0]


def test_short_episode_keeps_minutes_even_with_small_stamps() -> None:
    notes = "00:00 Cold open\n00:30 Headlines\n01:45 Sign-off"
    assert [c.start for c in chapters_from_text(notes, 180)] == [0.0, 30.0, 105.0]


def test_chapters_after_the_feeds_duration_are_kept_in_order() -> None:
    notes = "00:00 Intro\n10:00 Topic\n41:00 Questions from listeners"
    assert [c.start for c in chapters_from_text(notes, 1800)] == [0.0, 600.0, 2460.0]


def test_times_of_day_and_scores_are_not_chapters() -> None:
    notes = "Doors open at 19:30 and the talk starts at 20:00.\nFinal score 3:1.\nJohn 3:16"
    assert chapters_from_text(notes, 3600) == ()


def test_chapter_links_become_urls() -> None:
    notes = (
        "00:00 Intro\n"
        "03:00 Docs at https://docs.example/start?utm_source=show\n"
        "07:00 [The release notes](https://releases.example/v2)\n"
        "09:00 https://only.example/link"
    )
    assert chapters_from_text(notes, 900) == (
        Chapter(0.0, "Intro"),
        Chapter(180.0, "Docs at", "https://docs.example/start"),
        Chapter(420.0, "The release notes", "https://releases.example/v2"),
        Chapter(540.0, "https://only.example/link", "https://only.example/link"),
    )


def test_chapter_titles_are_plain_text() -> None:
    notes = "00:00 <b>Intro</b> &amp; welcome\n01:00 Next &lt;part&gt;\n02:00 Part (two)"
    titles = [c.title for c in chapters_from_text(notes, 600)]
    assert titles == ["Intro & welcome", "Next <part>", "Part (two)"]


def test_chapters_from_html_keep_their_links() -> None:
    html = notes_to_html(
        "<p>00:00 Intro<br>02:30 <a href='https://host.example/pricing'>Pricing</a> talk<br>"
        "05:00 Wrap-up</p>",
        None,
    )
    assert chapters_from_html(html, 600) == (
        Chapter(0.0, "Intro"),
        Chapter(150.0, "Pricing talk", "https://host.example/pricing"),
        Chapter(300.0, "Wrap-up"),
    )


def test_a_pasted_transcript_is_not_a_chapter_list() -> None:
    html = (DATA / "long_notes.html").read_text("utf-8")
    assert chapters_from_html(notes_to_html(html, None), 140 * 60) == ()


def test_titles_with_a_colon_are_still_chapters() -> None:
    notes = "00:00 Team one: the monolith\n10:00 Team two: websockets\n20:00 Team three: back"
    assert len(chapters_from_text(notes, 1800)) == 3


@given(st.text(max_size=400), st.one_of(st.none(), st.integers(min_value=0, max_value=20000)))
def test_chapters_from_any_text_are_increasing_and_in_bounds(
    text: str, duration: int | None
) -> None:
    chapters = chapters_from_text(text, duration)
    assert len(chapters) != 1
    starts = [c.start for c in chapters]
    assert starts == sorted(set(starts))
    assert all(c.title for c in chapters)


# --- Podlove Simple Chapters ----------------------------------------------------------------


def test_psc_chapters() -> None:
    raw = (
        RawChapter("00:00:00.000", "Opening"),
        RawChapter("00:05:30.5", " The   <i>news</i> ", "https://news.example/?fbclid=x"),
        RawChapter("bogus", "Skipped"),
        RawChapter("12:00", "Minutes"),
        RawChapter("90", "Seconds only"),
        RawChapter("00:05:30.5", "Same start, later duplicate"),
        RawChapter("00:20:00", "Bad link", "javascript:alert(1)"),
    )
    assert chapters_from_psc(raw) == (
        Chapter(0.0, "Opening"),
        Chapter(90.0, "Seconds only"),
        Chapter(330.5, "The news", "https://news.example/"),
        Chapter(720.0, "Minutes"),
        Chapter(1200.0, "Bad link"),
    )


def test_psc_relative_links_resolve_against_the_episode() -> None:
    raw = (RawChapter("0", "Intro", "/notes#intro"), RawChapter("60", "Next", "notes#next"))
    assert [c.url for c in chapters_from_psc(raw, "https://show.example/ep/4")] == [
        "https://show.example/notes#intro",
        "https://show.example/ep/notes#next",
    ]
    assert [c.url for c in chapters_from_psc(raw)] == [None, None]


# --- JSON chapters --------------------------------------------------------------------------


def test_chapters_json_format() -> None:
    chapters = (Chapter(0.0, "Intro"), Chapter(62.5, "Links", "https://x.example/"))
    document = chapters_json(chapters, "Episode 4")
    assert json.dumps(document) == (
        '{"version": "1.2.0", "title": "Episode 4", "chapters": ['
        '{"startTime": 0, "title": "Intro"}, '
        '{"startTime": 62.5, "title": "Links", "url": "https://x.example/"}]}'
    )


def test_chapters_json_without_title() -> None:
    assert chapters_json([Chapter(3.0, "Only")]) == {
        "version": "1.2.0",
        "chapters": [{"startTime": 3, "title": "Only"}],
    }


@given(st.lists(st.floats(min_value=0, max_value=1e6), max_size=5))
def test_chapters_json_times_are_ints_when_whole(starts: list[float]) -> None:
    document = chapters_json([Chapter(s, "t") for s in starts])
    entries = document["chapters"]
    assert isinstance(entries, list)
    for entry, start in zip(entries, starts, strict=True):
        time = entry["startTime"]
        assert time == pytest.approx(start, abs=0.001)
        assert isinstance(time, int) == (round(start, 3) == int(round(start, 3)))


# --- the longest rising sequence -----------------------------------------------------------


def longest_rising_length_the_long_way(starts: list[int]) -> int:
    best = [1] * len(starts)
    for index, start in enumerate(starts):
        for earlier in range(index):
            if starts[earlier] < start:
                best[index] = max(best[index], best[earlier] + 1)
    return max(best, default=0)


@given(st.lists(st.integers(min_value=0, max_value=6), max_size=12))
def test_longest_rising_is_a_longest_rising_subsequence(starts: list[int]) -> None:
    chapters = [Chapter(float(start), f"c{index}", None) for index, start in enumerate(starts)]
    rising = _longest_rising(chapters)
    assert len(rising) == longest_rising_length_the_long_way(starts)
    assert [c.start for c in rising] == sorted({c.start for c in rising})
    positions = [chapters.index(c) for c in rising]
    assert positions == sorted(positions)


def test_chapters_after_prose_with_and_without_colons() -> None:
    text = "Intro: what we cover\nNo colon here\n00:00 Start\nmore prose\n05:10 - Middle: part 2"
    assert chapters_from_text(text, None) == (
        Chapter(0.0, "Start", None),
        Chapter(310.0, "Middle: part 2", None),
    )


# --- timestamps in show notes seek the player -----------------------------------------------


def test_stamps_in_notes_become_seek_links() -> None:
    html = notes_to_html("<p>(00:00) Intro<br>02:49 The rewrite<br>Questions - 31:40</p>", None)
    linked = str(seek_links(html))
    assert '(<a class="seek" href="#t=0">00:00</a>) Intro' in linked
    assert '<a class="seek" href="#t=169">02:49</a> The rewrite' in linked
    assert 'Questions - <a class="seek" href="#t=1900">31:40</a>' in linked


def test_times_of_day_links_and_code_are_left_alone() -> None:
    html = notes_to_html(
        "<p>Recorded at 10:30. Doors 18:30, first talk 19:00.</p><p>8 May: a reading (16:30)</p>"
        "<p>Live 4:00 PM</p><p><code>12:00</code> <a href='https://x.example/a'>see 12:34</a></p>",
        None,
    )
    assert str(seek_links(html)) == html


def test_two_part_stamps_follow_the_chapters_reading_as_hours() -> None:
    html = notes_to_html("<ul><li>00:45 Part one</li><li>01:30 Part two</li></ul>", None)
    chapters = (Chapter(2700.0, "Part one"), Chapter(5400.0, "Part two"))
    assert 'href="#t=2700"' in seek_links(html, chapters)
    assert 'href="#t=45"' in seek_links(html)


_NOTES_PIECES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            *("(12:34)", "[01:02:03]", "00:45 ", " - 59:59", "at 10:30", " PM", "&amp;"),
            *("<p>", "</p>", "<br>", "<code>", "</code>", "<a href='https://x.example/'>", "</a>"),
        ]
    ),
)


@given(st.lists(_NOTES_PIECES, max_size=30).map("".join))
def test_seek_links_only_add_links(text: str) -> None:
    html = notes_to_html(text, None)
    linked = str(seek_links(html))
    without = re.sub(r'<a class="seek" href="#t=\d+">([^<]*)</a>', r"\1", linked)
    assert without == html
    assert linked.count("<a ") - html.count("<a ") == linked.count('class="seek"')


def test_seek_links_stop_at_their_limit() -> None:
    html = "<p>" + "(1:00) a " * (MAX_SEEK_LINKS + 500) + "</p>"
    assert str(seek_links(html)).count('class="seek"') == MAX_SEEK_LINKS


# --- chapters the notes already show --------------------------------------------------------

# Shapes shows write their chapters in: stamp first in parentheses, a dash after the stamp,
# stamp last, each on its own line or paragraph.
_WRITTEN_CHAPTERS = [
    "<p>(00:00) Hello and news<br>(04:10) Moving off the old PaaS<br>(31:05) Listener mail</p>",
    "<p>Chapters:</p><ul><li>00:00 - Hello and news</li><li>04:10 - Moving off the old PaaS"
    "</li><li>31:05 - Listener mail</li></ul>",
    "<p>Hello and news - 0:00</p><p>Moving off the old PaaS - 4:10</p><p>Listener mail - 31:05</p>",
]
_THOSE_CHAPTERS = (
    Chapter(0.0, "Hello and news"),
    Chapter(250.0, "Moving off the old PaaS"),
    Chapter(1865.0, "Listener mail"),
)


@pytest.mark.parametrize("notes", _WRITTEN_CHAPTERS)
def test_notes_that_list_every_chapter_show_them_once(notes: str) -> None:
    from devcasts.site.chapters import notes_show_chapters

    linked = seek_links(notes, _THOSE_CHAPTERS)
    assert notes_show_chapters(linked, _THOSE_CHAPTERS)
    # the same notes before the stamps became links do not count: nothing there seeks
    assert not notes_show_chapters(notes, _THOSE_CHAPTERS)


def test_chapters_the_notes_do_not_hold_keep_their_list() -> None:
    from devcasts.site.chapters import notes_show_chapters

    linked = seek_links(_WRITTEN_CHAPTERS[0], _THOSE_CHAPTERS)
    # a chapter file with other titles, a chapter the notes skip, a chapter with its own link
    renamed = (*_THOSE_CHAPTERS[:2], Chapter(1865.0, "Questions from listeners"))
    extra = (*_THOSE_CHAPTERS, Chapter(2400.0, "Outro"))
    linked_chapter = (*_THOSE_CHAPTERS[:2], Chapter(1865.0, "Listener mail", "https://x.example/m"))
    for chapters in (renamed, extra, linked_chapter, ()):
        assert not notes_show_chapters(linked, chapters)
    # stamps the notes do not make links of (no separator) leave the list in place
    plain = "<p>Hello and news 0:00</p><p>Moving off the old PaaS 4:10</p>"
    assert not notes_show_chapters(seek_links(plain, _THOSE_CHAPTERS), _THOSE_CHAPTERS[:2])
    # notes that only mention a time of day hold no chapter
    assert not notes_show_chapters(seek_links("<p>Live at 10:30 tomorrow.</p>"), _THOSE_CHAPTERS)
