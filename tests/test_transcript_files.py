"""Transcript files that episodes link to, read into timed turns: the shapes feeds link to
(WebVTT with voices and cue settings, SubRip, Podcasting 2.0 JSON, HTML) and hostile input."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from devcasts.ingest.transcript_files import (
    MAX_TEXT_CHARS,
    MAX_TURNS,
    TURN_CHARS,
    turns_from_file,
)
from devcasts.records import TranscriptTurn
from devcasts.util.transcript_types import transcript_format

VTT = b"""WEBVTT
Kind: captions
Language: en

NOTE
Made by a speech-to-text service; checked by hand.

STYLE
::cue(v[voice="Mo Okafor"]) { color: teal }

intro-1
00:00:00.000 --> 00:00:03.200 align:start position:10% line:85%
<v Mo Okafor>Welcome back to the show about <i>build pipelines</i>.

intro-2
00:00:03.200 --> 00:00:06.000
<v Mo Okafor>Today we &amp; our guest talk caching.</v>

00:00:06.000 --> 00:00:09.500
<v.guest Priya Raman><c.yellow>Thanks</c> for having me, Mo.

not a time --> at all
This cue is malformed and skipped.

01:02.250 --> 01:05.000
<v Mo Okafor>Let's start with <00:01:03.000>remote caches.
"""

SRT = """1
00:00:00,000 --> 00:00:02,400
HOST: Hello and welcome.

2
00:00:02,400 --> 00:00:05,100
This week: flaky tests.

3
00:00:05,100 --> 00:00:07,900
GUEST: Happy to be here,
really.

4
00:01:15,500 --> 00:01:18,000
HOST: So, where do flakes come from?
""".replace("\n", "\r\n").encode()

JSON = json.dumps(
    {
        "version": "1.0.0",
        "segments": [
            {"startTime": 0.5, "endTime": 2.0, "speaker": "Lin", "body": "Ready?"},
            {"startTime": 2.0, "endTime": 3.1, "speaker": "Lin", "body": "Rolling."},
            {"startTime": 3.1, "endTime": 9.0, "speaker": "Sam", "body": "Okay, <b>go</b>."},
            {"startTime": "soon", "speaker": "Sam", "body": "no time, left out"},
            {"startTime": 10, "speaker": 7, "body": ["not", "text"]},
            "not a segment",
            {"startTime": 1e300, "body": "past any episode's end"},
        ],
    }
).encode()

HTML = b"""<!doctype html><html><head><title>Episode 12</title>
<script>alert(1)</script></head><body>
<cite>Nadia:</cite>
<time>0:00</time>
<p>This is the transcript of episode twelve &amp; its <a href="x">notes</a>.</p>
<cite>Tomas:</cite>
<time>1:02:03</time>
<p>Glad to be here.</p>
<p>[01:03:00] Nadia Perez: And a turn pasted in another shape.</p>
</body></html>"""


def test_vtt_voices_cue_settings_notes_and_malformed_cues() -> None:
    assert turns_from_file(VTT, "text/vtt") == (
        TranscriptTurn(
            "Mo Okafor",
            "Welcome back to the show about build pipelines. Today we & our guest talk caching.",
            0.0,
        ),
        TranscriptTurn("Priya Raman", "Thanks for having me, Mo.", 6.0),
        TranscriptTurn("Mo Okafor", "Let's start with remote caches.", 62.25),
    )


def test_srt_comma_decimals_crlf_and_speakers_named_in_the_text() -> None:
    assert turns_from_file(SRT, "application/x-subrip") == (
        TranscriptTurn("HOST", "Hello and welcome. This week: flaky tests.", 0.0),
        TranscriptTurn("GUEST", "Happy to be here, really.", 5.1),
        TranscriptTurn("HOST", "So, where do flakes come from?", 75.5),
    )


def test_a_name_said_once_is_not_a_speaker() -> None:
    srt = b"1\n00:00:01,000 --> 00:00:02,000\nNote: this is text\n"
    assert turns_from_file(srt, "application/srt") == (
        TranscriptTurn("", "Note: this is text", 1.0),
    )


def test_json_segments() -> None:
    assert turns_from_file(JSON, "application/json") == (
        TranscriptTurn("Lin", "Ready? Rolling.", 0.5),
        TranscriptTurn("Sam", "Okay, go.", 3.1),
    )


def test_html_speakers_times_and_pasted_turns() -> None:
    assert turns_from_file(HTML, "text/html") == (
        TranscriptTurn("Nadia", "This is the transcript of episode twelve & its notes.", 0.0),
        TranscriptTurn("Tomas", "Glad to be here.", 3723.0),
        TranscriptTurn("Nadia Perez", "And a turn pasted in another shape.", 3780.0),
    )


def test_plain_text_keeps_angle_brackets_as_text() -> None:
    text = b"Ana:\n00:10\nWe compared <div> soup & tag soup.\nAnd then lunch.\n"
    assert turns_from_file(text, "text/plain") == (
        TranscriptTurn("Ana", "We compared <div> soup & tag soup.", 10.0),
        TranscriptTurn("Ana", "And then lunch.", None),
    )


def test_the_body_wins_over_a_wrong_type() -> None:
    assert turns_from_file(VTT, "text/plain")[0].speaker == "Mo Okafor"
    assert turns_from_file(JSON, "text/html")[0].speaker == "Lin"
    assert turns_from_file(SRT.decode().encode("utf-8-sig"), "")[0].start == 0.0


def test_formats_from_types_and_extensions() -> None:
    assert transcript_format("text/vtt") == "vtt"
    assert transcript_format("application/x-subrip; charset=utf-8") == "srt"
    assert transcript_format("application/srt") == "srt"
    assert transcript_format("", "https://cdn.example.net/ep/1.srt?dl=1") == "srt"
    assert transcript_format("text/html") == "html"
    assert transcript_format("text/plain") == "text"
    assert transcript_format("audio/mpeg", "https://cdn.example.net/ep/1.mp3") is None


def test_captions_are_joined_into_paragraphs() -> None:
    cues = "".join(
        f"{n}\n00:{n // 60:02d}:{n % 60:02d},000 --> 00:{n // 60:02d}:{n % 60:02d},900\n"
        f"Line number {n} of a long monologue.\n\n"
        for n in range(600)
    ).encode()
    turns = turns_from_file(cues, "application/x-subrip")
    assert 20 < len(turns) < 60
    assert all(len(turn.text) <= TURN_CHARS for turn in turns)
    assert [turn.start for turn in turns] == sorted(turn.start or 0 for turn in turns)


def test_sizes_are_bounded() -> None:
    body = "".join(
        f'{{"startTime": {n}, "speaker": "S{n % 2}", "body": "{"word " * 200}"}},'
        for n in range(5000)
    )
    turns = turns_from_file(f'{{"segments": [{body[:-1]}]}}'.encode(), "application/json")
    assert len(turns) <= MAX_TURNS
    assert sum(len(turn.text) for turn in turns) <= MAX_TEXT_CHARS + 2 * TURN_CHARS
    assert turns_from_file(b"<p>" + b"a" * 10_000_000, "text/html")  # cut, not read whole


@given(
    st.binary(max_size=4000),
    st.sampled_from(
        ["text/vtt", "application/srt", "application/json", "text/html", "text/plain", ""]
    ),
)
def test_any_bytes_give_plain_timed_turns(body: bytes, mime: str) -> None:
    turns = turns_from_file(body, mime)
    _check(turns)


_CUE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=80)


@given(
    st.lists(st.tuples(st.integers(0, 400_000), st.text(max_size=12), _CUE_TEXT), max_size=40),
    st.sampled_from(["vtt", "srt", "json"]),
)
def test_any_cues_in_any_format_give_plain_ordered_turns(
    cues: list[tuple[int, str, str]], kind: str
) -> None:
    cues = sorted(cues)
    if kind == "json":
        segments = [
            {"startTime": ms / 1000, "speaker": who, "body": text} for ms, who, text in cues
        ]
        body = json.dumps({"segments": segments}).encode()
    else:
        sep = "." if kind == "vtt" else ","
        blocks = [
            f"{n}\n{_clock(ms, sep)} --> {_clock(ms + 500, sep)}\n<v {who}>{text}\n"
            for n, (ms, who, text) in enumerate(cues)
        ]
        body = (("WEBVTT\n\n" if kind == "vtt" else "") + "\n".join(blocks)).encode()
    turns = turns_from_file(body, {"vtt": "text/vtt", "srt": "application/srt"}.get(kind, ""))
    _check(turns)
    starts = [turn.start for turn in turns if turn.start is not None]
    assert starts == sorted(starts)


def _clock(ms: int, sep: str) -> str:
    seconds, millis = divmod(ms, 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}{millis:03d}"


def _check(turns: tuple[TranscriptTurn, ...]) -> None:
    assert len(turns) <= MAX_TURNS
    for turn in turns:
        assert turn.text and turn.text == turn.text.strip()
        assert not any(ord(c) < 32 for c in turn.text + turn.speaker)
        assert len(turn.speaker) <= 61  # plain text: pages escape it
        assert turn.start is None or 0 <= turn.start <= 100 * 3600
