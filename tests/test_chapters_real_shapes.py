"""Chapters in show notes, in the shapes real feeds write them (invented shows, our own words).

Each fixture copies the layout of a real feed's notes: where the stamps stand, which brackets
and bullets they wear, what runs together when a directory flattens the notes to one line.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devcasts.ingest.chapters import TITLE_LIMIT, chapters_from_html, chapters_from_text
from devcasts.ingest.sanitize import notes_to_html
from devcasts.records import Chapter

HOUR = 3600


def starts_and_titles(chapters: tuple[Chapter, ...]) -> list[tuple[float, str]]:
    return [(chapter.start, chapter.title) for chapter in chapters]


# --- one paragraph, stamps first -------------------------------------------------------------


def test_a_list_run_together_in_one_paragraph() -> None:
    notes = (
        "A gardener turned SRE joins us. (02:49) Introduction (04:01) Early career in ops "
        "(06:15) The pager years (19:30) What we got wrong"
    )
    assert starts_and_titles(chapters_from_text(notes, HOUR)) == [
        (169.0, "Introduction"),
        (241.0, "Early career in ops"),
        (375.0, "The pager years"),
        (1170.0, "What we got wrong"),
    ]


def test_a_heading_glued_to_the_first_stamp() -> None:
    notes = (
        "Show Highlights(0:00) Intro(1:01) Sponsor read(1:39) Why queues fill up"
        "(12:10) Backpressure in practice(31:05) Wrap-up"
    )
    assert starts_and_titles(chapters_from_text(notes, HOUR)) == [
        (0.0, "Intro"),
        (61.0, "Sponsor read"),
        (99.0, "Why queues fill up"),
        (730.0, "Backpressure in practice"),
        (1865.0, "Wrap-up"),
    ]


def test_timestamps_heading_and_trailing_ellipses() -> None:
    notes = (
        "Timestamps:(0:00) Introduction ...(1:54) Meet the guest ...(9:12) Scaling the team "
        "...(22:40) Closing thoughts"
    )
    assert [c.title for c in chapters_from_text(notes, HOUR)] == [
        "Introduction",
        "Meet the guest",
        "Scaling the team",
        "Closing thoughts",
    ]


def test_bulleted_square_bracket_stamps_run_together() -> None:
    notes = (
        "* [00:00:24] Intros* [00:05:25] The migration plan* [00:18:02] Rolling back"
        "* [00:41:10] Lightning round"
    )
    assert starts_and_titles(chapters_from_text(notes, HOUR)) == [
        (24.0, "Intros"),
        (325.0, "The migration plan"),
        (1082.0, "Rolling back"),
        (2470.0, "Lightning round"),
    ]


def test_notes_flattened_to_one_line_end_the_last_chapter_at_the_next_sentence() -> None:
    notes = (
        "We talk about build caches. Chapters (00:00) Welcome (03:20) Why builds are slow "
        "(15:45) Remote caches (40:10) Outro. Links: https://cache.example/docs Hosts: Ana"
    )
    assert starts_and_titles(chapters_from_text(notes, HOUR)) == [
        (0.0, "Welcome"),
        (200.0, "Why builds are slow"),
        (945.0, "Remote caches"),
        (2410.0, "Outro"),
    ]


def test_sanitized_notes_in_one_paragraph_give_chapters() -> None:
    html = notes_to_html(
        "<p>Sprint review, live.</p><p>Chapters:(00:00) Hello(02:10) Demo one – the new "
        "editor(09:30) Demo two(17:45) Questions</p>",
        None,
    )
    assert [c.start for c in chapters_from_html(html, 1200)] == [0.0, 130.0, 570.0, 1065.0]


# --- the stamp after the title ---------------------------------------------------------------


def test_stamps_after_their_titles_in_one_line() -> None:
    notes = "Marta's background (0:26) Introduction to usage pricing (4:18) Free tiers (11:02)"
    assert starts_and_titles(chapters_from_text(notes, HOUR)) == [
        (26.0, "Marta's background"),
        (258.0, "Introduction to usage pricing"),
        (662.0, "Free tiers"),
    ]


@pytest.mark.parametrize(
    "notes",
    [
        "Intro (02:49)\nThe rewrite (10:15)\nQuestions (31:40)",
        "Intro - 02:49\nThe rewrite - 10:15\nQuestions - 31:40",
        "Intro [02:49]\nThe rewrite [10:15]\nQuestions [31:40]",
    ],
)
def test_one_chapter_a_line_with_the_stamp_last(notes: str) -> None:
    assert starts_and_titles(chapters_from_text(notes, HOUR)) == [
        (169.0, "Intro"),
        (615.0, "The rewrite"),
        (1900.0, "Questions"),
    ]


def test_stamps_on_their_own_line_under_each_title() -> None:
    notes = (
        "Shownotes:\nIntro\n00:00:00\nA few words about the theme.\nThe old modems\n00:04:10\n"
        "Acoustic couplers — baud.\nPacket radio 00:21:33\nAX.25 — digipeaters.\nOutro\n00:58:00"
    )
    assert starts_and_titles(chapters_from_text(notes, HOUR)) == [
        (0.0, "Intro"),
        (250.0, "The old modems"),
        (1293.0, "Packet radio"),
        (3480.0, "Outro"),
    ]


def test_stamps_on_their_own_line_above_each_title() -> None:
    notes = "Chapters:\n00:00\nWelcome\n05:30\nThe main topic\n24:10\nGoodbye"
    assert [c.title for c in chapters_from_text(notes, HOUR)] == [
        "Welcome",
        "The main topic",
        "Goodbye",
    ]


# --- lists with flaws -------------------------------------------------------------------------

SPRUNGMARKEN = """Links zur Folge: https://example.org/notes
Sprungmarken
(00:00:00) Intro
(00:01:10) Warum wir über Prinzipien reden
(00:07:14) Wer hat sie erfunden?
(00:07:14) Info/Werbung
(00:08:14) Wer hat sie erfunden?
(00:04:02) Ein verirrter Zeitstempel
(00:20:00) SOLID: Single Responsibility
(00:29:30) SOLID: Open-Closed
(00:37:45) SOLID: Liskov
(00:46:05) SOLID: Interface Segregation
(00:52:40) SOLID: Dependency Inversion
(01:04:00) Was die Kritiker sagen
Hosts
Erika (https://example.org/erika)
"""


def test_a_repeated_topic_label_is_not_a_speaker() -> None:
    titles = [c.title for c in chapters_from_text(SPRUNGMARKEN, 3500)]
    assert titles.count("SOLID: Open-Closed") == 1
    assert len(titles) == 10


def test_a_duplicated_stamp_keeps_its_first_title_and_the_chapters_around_it() -> None:
    chapters = chapters_from_text(SPRUNGMARKEN, 3500)
    assert (434.0, "Wer hat sie erfunden?") in starts_and_titles(chapters)
    assert "Info/Werbung" not in [c.title for c in chapters]
    assert chapters[0] == Chapter(0.0, "Intro")


def test_one_stray_stamp_costs_only_itself() -> None:
    chapters = chapters_from_text(SPRUNGMARKEN, 3500)
    assert "Ein verirrter Zeitstempel" not in [c.title for c in chapters]
    assert [c.start for c in chapters][:5] == [0.0, 70.0, 434.0, 494.0, 1200.0]


def test_chapters_past_the_feeds_duration_are_kept() -> None:
    # The feed says 3500 s; the list runs to 1:04:00 (3840 s), in order.
    assert chapters_from_text(SPRUNGMARKEN, 3500)[-1] == Chapter(3840.0, "Was die Kritiker sagen")


# --- not chapters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notes",
    [
        "This was recorded at 10:30 on a rainy morning.\nWe went on until 12:15.",
        "Doors 18:30, first talk 19:00, drinks after 21:00.",
        "Doors open\n18:30\nFirst talk\n19:00\nSecond talk\n19:45",
        "Registration 9:00\nKeynote 9:30\nTalks 10:15\nLunch 12:00",
        "recorded at 10:30\nlunch at 12:45\nwrap-up at 16:00",
        "Meetup: Sat, Mar 4, 2023, 4:00 PM\nLunch together, Sat, Apr 29, 2023, 1:00 PM",
        "Next episode: Wednesday 9:30 P.M. Eastern\nLive stream: Thursday 4:00 PM",
        "Our dates:\n8 May: a reading in the park (16:30)\n9 May: a talk at the library (17:00)",
        "Last modified 09/09/2021 14:51:36\nBuilt 09/09/2021 14:52:10 by the generator",
        "Dauer: 1:24:35\nLaufzeit: 1:24:35",
    ],
)
def test_times_in_prose_are_not_chapters(notes: str) -> None:
    assert chapters_from_text(notes, HOUR) == ()


def test_a_timestamped_transcript_is_not_a_chapter_list() -> None:
    notes = (
        "[00:00:01] Alice Smith: Welcome back to the show.\n[00:00:09] Bob Jones: Thanks.\n"
        "[00:00:15] Alice Smith: So tell me about the outage.\n[00:00:30] Bob Jones: Well, DNS."
    )
    assert chapters_from_text(notes, HOUR) == ()


def test_a_transcript_with_the_stamp_after_the_speaker_is_not_a_chapter_list() -> None:
    notes = (
        "Ana [00:00:00]: Hey everyone, welcome. Bo [00:00:12]: Hi there. "
        "Ana [00:00:20]: Today we have a guest. Cy [00:01:05]: Thanks for having me."
    )
    assert chapters_from_text(notes, HOUR) == ()


# --- properties -------------------------------------------------------------------------------

_STAMP_TEXT = st.builds(
    lambda h, m, s, style: style.format(h=h, m=m, s=s),
    st.integers(0, 3),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(["({m:02d}:{s:02d})", "[{h:02d}:{m:02d}:{s:02d}]", "{m}:{s:02d}", " - "]),
)
_NOTES = st.lists(
    st.one_of(_STAMP_TEXT, st.text(max_size=30), st.sampled_from(["\n", ": ", "(", "]", "* "])),
    max_size=40,
).map("".join)


@given(_NOTES, st.one_of(st.none(), st.integers(min_value=0, max_value=20000)))
def test_chapters_from_stamp_shaped_text_are_sound(notes: str, duration: int | None) -> None:
    chapters = chapters_from_text(notes, duration)
    starts = [c.start for c in chapters]
    assert len(chapters) != 1
    assert starts == sorted(set(starts))  # strictly increasing
    assert all(0 < len(c.title) <= TITLE_LIMIT for c in chapters)
    assert all(c.title == c.title.strip() for c in chapters)


@given(st.text(max_size=300))
def test_chapters_from_any_html_never_raise(text: str) -> None:
    html = notes_to_html(text, None)
    chapters = chapters_from_html(html, None)
    assert [c.start for c in chapters] == sorted({c.start for c in chapters})
