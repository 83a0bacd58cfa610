"""People on the real feeds: no organisation or junk person, one key per person, guests found.

Every corpus feed is read as a build reads it. The author values of these feeds are classified
by hand in data/people/authors.tsv; the figures below were measured on the whole corpus.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from conftest import corpus_feeds

from devcasts.ingest.people import looks_like_name
from devcasts.records import Episode

pytestmark = pytest.mark.corpus

LABELS = Path(__file__).parent / "data" / "people" / "authors.tsv"
# Names the notes mention that are not guests of the episode (shows, companies, products, two
# hosts' first names, German nouns): found by hand on the corpus, never a person.
NOT_GUESTS = frozenset(
    {
        "Big Huge", "Elixir Phoenix", "Hibernating Rhinos", "Irishman Danny O'Dwyer",
        "Leiter der Friedhöfe", "Little Rock", "Mortal Kombat", "Sizzling Sam Sethi",
        "Sound Opinions", "Spotify Anchor", "Stephen Hackett Canvas", "Wolfgang Andy",
        "Home Assistant", "Federico Viticci", "Executive Producer", "Haas McCook",
    }
)  # fmt: skip


@cache
def corpus_episodes() -> tuple[tuple[str, Episode], ...]:
    """(feed file, episode) for every episode of every corpus feed."""
    return tuple((c.path.name, episode) for c in corpus_feeds() for episode in c.feed.episodes)


def labeled_authors() -> dict[str, tuple[str, tuple[str, ...]]]:
    rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            author, kind, names = line.split("\t")
            rows[author] = (kind, tuple(name for name in names.split(" | ") if name))
    return rows


def test_every_author_person_is_a_hand_labeled_personal_name() -> None:
    personal = {name for _, names in labeled_authors().values() for name in names}
    authors = {p.name for _, e in corpus_episodes() for p in e.people if p.role == "author"}
    assert authors, "the corpus credits authors"
    assert authors <= personal, sorted(authors - personal)


def test_no_organisation_handle_or_word_becomes_a_person() -> None:
    """Personas a feed declares with podcast:person ("Brian of London") stay: its own word."""
    kinds = {"organisation", "credit", "word", "e-mail", "cast-list", "handle"}
    publishers = {author for author, (kind, _) in labeled_authors().items() if kind in kinds}
    names = {person.name for _, episode in corpus_episodes() for person in episode.people}
    assert not names & publishers, sorted(names & publishers)
    assert len(publishers) >= 40  # the labeled set holds the real organisations and handles


def test_one_person_one_key() -> None:
    keys: dict[str, set[str]] = defaultdict(set)
    for _, episode in corpus_episodes():
        for person in episode.people:
            if person.name.startswith("Metaebene") or person.name == "Tim Pritlove":
                keys["Tim Pritlove"].add(person.slug)
            if person.name.startswith("Boo Bury"):
                keys["Boo Bury"].add(person.slug)
    assert keys == {"Tim Pritlove": {"tim-pritlove"}, "Boo Bury": {"boo-bury"}}


def test_guests_named_in_notes_are_found_and_name_shaped() -> None:
    guests: dict[str, set[str]] = defaultdict(set)
    credits = 0
    for feed, episode in corpus_episodes():
        for person in episode.people:
            if person.role == "guest" and person.name in episode.text:
                credits += 1
                guests[person.slug].add(feed)
                assert looks_like_name(person.name) or person.name in episode.text
    print(f"{credits} guest credits named in notes, {len(guests)} people")
    assert credits >= 250
    assert len(guests) >= 150


def test_known_non_guests_are_not_people() -> None:
    names = {person.name for _, episode in corpus_episodes() for person in episode.people}
    assert not names & NOT_GUESTS, sorted(names & NOT_GUESTS)


def test_a_host_of_one_show_is_the_same_person_as_a_guest_of_another() -> None:
    shows: dict[str, set[str]] = defaultdict(set)
    for feed, episode in corpus_episodes():
        for person in episode.people:
            if person.slug == "marco-arment":
                shows[person.role].add(feed.split("_")[0] + "_" + feed.split("_")[1][:8])
    assert shows["author"] and shows["guest"]
    assert not shows["author"] & shows["guest"]
