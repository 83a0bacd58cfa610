"""Guests named in show notes: a labeled set of sentences, the shapes one by one, and limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.ingest import fields, guests
from devcasts.records import RawPerson

DATA = Path(__file__).parent / "data" / "people" / "guest_sentences.tsv"


def labeled_sentences() -> list[tuple[str, frozenset[str]]]:
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        sentence, names = line.split("\t")
        rows.append((sentence, frozenset(name for name in names.split(" | ") if name)))
    return rows


def test_the_labeled_set_is_large_and_has_negatives() -> None:
    rows = labeled_sentences()
    assert len(rows) >= 150
    assert sum(1 for _, names in rows if not names) >= 50
    assert len({sentence for sentence, _ in rows}) == len(rows)


def test_precision_and_recall_on_the_labeled_sentences() -> None:
    found = expected = right = 0
    wrong: list[tuple[str, set[str]]] = []
    for sentence, names in labeled_sentences():
        got = set(guests.guests_in_notes(sentence))
        found += len(got)
        expected += len(names)
        right += len(got & names)
        if got - names:
            wrong.append((sentence, got - names))
    precision, recall = right / found, right / expected
    print(f"precision {precision:.3f} recall {recall:.3f} ({right}/{found}, {right}/{expected})")
    assert precision >= 0.95, wrong
    assert recall >= 0.8


@pytest.mark.parametrize(
    ("notes", "names"),
    [
        ("Today's guest is Ida Marsh.", ("Ida Marsh",)),
        ("Kit Rowe welcomes Ida Marsh to the show.", ("Ida Marsh",)),
        ("Host Kit Rowe connects with Ida Marsh.", ("Ida Marsh",)),
        ("Kit and Lou chat with Ida Marsh about caching.", ("Ida Marsh",)),
        ("Kit sits down with Ida Marsh from Grainline.io.", ("Ida Marsh",)),
        ("Special Guests: Ida Marsh and Ole Berg.", ("Ida Marsh", "Ole Berg")),
        ("We're joined by Ida Marsh, Ole Berg, and Uma Rao.", ("Ida Marsh", "Ole Berg", "Uma Rao")),
        ("Ida Marsh joins us to talk about queues.", ("Ida Marsh",)),
        ("Zu Gast ist Dr. Ida Marsh.", ("Ida Marsh",)),
        ("We welcome Ida Marsh. Sponsored By: Grainline.", ("Ida Marsh",)),
        ("Notes Connected with Ida Marsh, Ole Berg", ()),  # a show's title in a link list
        ("Ida Marsh from Grainline Labs joins us.", ()),  # which words are the name is unclear
        ("We talk with Grainline Labs about queues.", ()),
        ("We chat with Ida Marsh Orbit Tools team.", ()),  # a run of capitalised words
        ("Lead engineer Ida Marsh joins us.", ("Ida Marsh",)),
        ("We sit down with Cedar Valley organisers.", ()),
        ("I'm Ida Marsh and this is the show.", ()),
        ("Welcome to the show!", ()),
    ],
)
def test_shapes(notes: str, names: tuple[str, ...]) -> None:
    assert guests.guests_in_notes(notes) == names


def test_a_guest_is_a_person_with_role_guest_beside_the_credited_hosts() -> None:
    hosts = [RawPerson(name="Kit Rowe", role="host")]
    people = fields.episode_people(hosts, "", None, "Kit Rowe welcomes Ida Marsh.")
    assert [(p.name, p.slug, p.role) for p in people] == [
        ("Kit Rowe", "kit-rowe", "host"),
        ("Ida Marsh", "ida-marsh", "guest"),
    ]


def test_guests_the_feed_credits_itself_win_over_the_notes() -> None:
    declared = [RawPerson(name="Ida Marsh", role="guest")]
    notes = "Today's guest is Ida Marhs, and we welcome Ole Berg."  # a typo, and a second name
    people = fields.episode_people(declared, "", None, notes)
    assert [(p.name, p.role) for p in people] == [("Ida Marsh", "guest")]


def test_a_host_named_in_the_notes_stays_a_host() -> None:
    notes = "In conversation with Kit Rowe. Ida Marsh explains her work."
    people = fields.episode_people((), "Lantern Media - Kit Rowe", None, notes)
    assert [(p.name, p.role) for p in people] == [("Kit Rowe", "author")]


def test_two_hosts_first_names_side_by_side_are_not_a_guest() -> None:
    notes = "In this episode interviewed Lou Kit about testing."  # two hosts' first names
    people = fields.episode_people((), "Kit Rowe, Lou Berg", None, notes)
    assert [p.name for p in people] == ["Kit Rowe", "Lou Berg"]


def test_the_same_guest_on_three_shows_has_one_slug() -> None:
    notes = (
        "Today's guest is Ida Marsh.",
        "We welcome IDA Marsh... no, we welcome Ida Marsh!",
        "Ida Marsh joins the show to talk about logs.",
    )
    slugs = {
        person.slug
        for text in notes
        for person in fields.episode_people((), "", None, text)
        if person.role == "guest"
    }
    assert slugs == {"ida-marsh"}


_PIECES = st.sampled_from(
    ["Ada ", "Lovelace", " joins us", "Today's guest is ", "We welcome ", ", ", " and ",
     "Dr. ", "von ", "Media ", ". ", "Special Guests: ", "x", "É", "\n", "O'", "-"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=80).map("".join))
def test_never_raises_and_is_bounded(notes: str) -> None:
    names = guests.guests_in_notes(notes)
    assert len(names) <= guests.MAX_GUESTS
    assert len({name.casefold() for name in names}) == len(names)
    assert all(2 <= len(name.split()) <= 4 for name in names)


@given(st.text(max_size=300))
def test_any_text_gives_name_shaped_guests(notes: str) -> None:
    for name in guests.guests_in_notes(notes):
        assert name in " ".join(notes.split())


def test_long_notes_are_read_only_near_the_top() -> None:
    notes = "x " * guests.SCAN_CHARS + "Today's guest is Ida Marsh."
    assert guests.guests_in_notes(notes) == ()
