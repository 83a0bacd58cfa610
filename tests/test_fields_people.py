"""People of an episode: the cache of cleaned names gives what a fresh reading gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devcasts.ingest import fields
from devcasts.records import RawPerson

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
