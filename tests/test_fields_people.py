"""People of an episode: which author fields name people, one key per person, podcast:person's
attributes kept and republished, and a cache that gives what a fresh reading gives."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from conftest import make_episode
from hypothesis import given
from hypothesis import strategies as st

from devcasts.ingest import fields, people
from devcasts.model import SiteConfig
from devcasts.publish import feeds
from devcasts.records import Person, RawPerson

names = st.text(st.sampled_from("Ada Lovelace&,<b>éΩ ()@x.org"), max_size=30)
persons = st.lists(
    st.builds(RawPerson, name=names, role=st.sampled_from(["", "Guest", "host"]), href=names),
    max_size=3,
)
bases = st.sampled_from([None, "https://a.example/feed/", "https://b.example/show/"])


@given(persons, names, bases)
def test_people_are_the_same_cached_or_not(
    raw: list[RawPerson], author: str, base: str | None
) -> None:
    fields._people.cache_clear()
    fresh = fields.people(raw, author, base)
    assert fields.people(raw, author, base) == fresh
    assert fields.people(tuple(raw), author, base) == fresh


def test_the_base_is_part_of_the_cache_key() -> None:
    raw = [RawPerson(name="Ada Lovelace", href="ada")]
    first = fields.people(raw, "", "https://a.example/feed/")
    second = fields.people(raw, "", "https://b.example/show/")
    assert first[0].href == "https://a.example/feed/ada"
    assert second[0].href == "https://b.example/show/ada"


# --- which author fields name people ---------------------------------------------------------

DATA = Path(__file__).parent / "data" / "people"


def labeled_authors() -> list[tuple[str, str, tuple[str, ...]]]:
    """Author values seen in real feeds, each classified by hand, with the names it holds."""
    rows = []
    for line in (DATA / "authors.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        author, kind, names = line.split("\t")
        rows.append((author, kind, tuple(name for name in names.split(" | ") if name)))
    return rows


@pytest.mark.parametrize(("author", "kind", "names"), labeled_authors())
def test_real_author_fields_give_exactly_their_personal_names(
    author: str, kind: str, names: tuple[str, ...]
) -> None:
    assert fields.author_names(author) == names, kind


def test_the_labeled_authors_cover_every_kind() -> None:
    kinds = Counter(kind for _, kind, _ in labeled_authors())
    assert kinds["organisation"] >= 20
    assert {"person", "people", "credit", "handle", "word", "organisation-and-person"} <= set(kinds)


@pytest.mark.parametrize(
    ("author", "names"),
    [
        ("Northwind Audio Network", ()),
        ("Harbor Studios GmbH", ()),
        ("Acme Podcasts - Lena Brook", ("Lena Brook",)),
        ("Lena Brook | Acme Podcasts", ("Lena Brook",)),
        ("Lena Brook (lena@example.org)", ("Lena Brook",)),
        ("lena@example.org (Lena Brook)", ("Lena Brook",)),
        ("Ravi Menon and Lena Brook", ("Ravi Menon", "Lena Brook")),
        ("Ravi Menon, Lena Brook. Produced by Otto Kern", ("Ravi Menon", "Lena Brook")),
        ("Hosted by Otto Kern", ()),
        ("@lenabrook", ()),
        ("lenabrook42", ()),
        ("The Deploy Crew", ()),
        ("Lena", ()),
        ("LENA BROOK", ()),
        ("Ines van der Meer", ("Ines van der Meer",)),
        ("Sean O'Leary & Mairead McBride", ("Sean O'Leary", "Mairead McBride")),
        ("Anna Bell, Ben Cole, Cara Dunn, Dev Eze, Finn Gale", ()),  # a cast list
        ("Google Cloud Tech", ()),
        ("Monday Morning Ops", ()),
        ("Your Name Here", ()),
    ],
)
def test_author_shapes(author: str, names: tuple[str, ...]) -> None:
    assert fields.author_names(author) == names


def test_an_organisation_prefix_does_not_make_a_second_person() -> None:
    [alone] = fields.people((), "Mira Tal", None)
    [prefixed] = fields.people((), "Lantern Audio Media - Mira Tal", None)
    [accented] = fields.people((), "Míra Tál", None)
    assert alone.slug == prefixed.slug == accented.slug == "mira-tal"
    assert prefixed.name == "Mira Tal"
    assert people.person_key("Jérôme Léger") == people.person_key("jerome leger")


def test_a_declared_person_with_a_descriptor_shares_the_person_page() -> None:
    raw = [RawPerson(name="Mira Tal: Keeper of the Logs", role="host")]
    [declared] = fields.people(raw, "Mira Tal", None)
    assert declared.slug == "mira-tal"
    assert declared.name == "Mira Tal: Keeper of the Logs"  # the feed's own words, kept


def test_an_organisation_author_stays_the_publisher_not_a_person() -> None:
    assert fields.people((), "Jupiter Relay Broadcasting", None) == ()
    assert fields.people((), "you", None) == ()


def test_podcast_person_keeps_group_role_href_and_img() -> None:
    raw = RawPerson(
        name="Noor Haddad",
        role="Cover Art Designer",
        group="Visuals",
        href="/noor",
        img="noor.jpg",
    )
    [person] = fields.people([raw], "", "https://show.example/feed/")
    assert person.role == "cover art designer"
    assert person.group == "visuals"
    assert person.href == "https://show.example/noor"
    assert person.img == "https://show.example/feed/noor.jpg"


def test_a_person_without_a_group_has_none() -> None:
    [person] = fields.people([RawPerson(name="Noor Haddad")], "", None)
    assert person.group is None
    assert person.role == "host"


def test_our_feeds_republish_group_role_href_and_img() -> None:
    person = Person(
        "Noor Haddad", "noor-haddad", "guest", "https://noor.example/", "https://n.example/n.jpg",
        "Cast",
    )  # fmt: skip
    item = ET.Element("item")
    site = SiteConfig(title="t", base_url="https://x.example/")
    episode = make_episode("show", 1, people=(person,), chapters=())
    feeds._podcast_item_elements(item, site, episode)
    [element] = item.findall("{https://podcastindex.org/namespace/1.0}person")
    assert element.text == "Noor Haddad"
    assert element.attrib == {
        "role": "guest",
        "group": "cast",
        "href": "https://noor.example/",
        "img": "https://n.example/n.jpg",
    }


@given(st.text(max_size=200))
def test_author_names_are_bounded_and_name_shaped(author: str) -> None:
    names = fields.author_names(author)
    assert len(names) <= people.MAX_AUTHOR_NAMES
    assert all(people.looks_like_name(name) for name in names)
    assert len({people.person_key(name) for name in names}) == len(names)


name_words = st.sampled_from(["Ada", "Lovelace", "Grace", "Hopper", "Media", "The", "von", "C."])


@given(st.lists(name_words, min_size=1, max_size=6))
def test_a_name_with_a_stop_word_is_never_a_name(words: list[str]) -> None:
    text = " ".join(words)
    if any(word in ("Media", "The") for word in words):
        assert not people.looks_like_name(text)
