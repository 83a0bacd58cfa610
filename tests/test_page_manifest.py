"""A manifest (the pages' or the feeds'): each file's fingerprint, a group's kept as text."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from devcasts.site.page_output import Fingerprints, Manifest
from devcasts.site.writer import SiteWriter

# Keys and paths come from urls.py; the manifest must not rely on it (any text, tabs and
# line breaks included, comes back as it went).
_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
_PAGES = st.dictionaries(_TEXT, _TEXT, max_size=4)


@given(pages=_PAGES, groups=st.dictionaries(_TEXT, st.tuples(st.text("0123456789abcdef"), _PAGES)))
def test_a_manifest_reads_back_as_it_was_written(
    pages: dict[str, str], groups: dict[str, tuple[str, dict[str, str]]]
) -> None:
    written = Fingerprints(
        pages, {key: (fingerprint, json.dumps(own)) for key, (fingerprint, own) in groups.items()}
    )
    read = _round_trip(written)
    assert read == written
    assert {key: read.group_pages(key) for key in read.groups} == {
        key: own for key, (_, own) in groups.items()
    }


def test_a_damaged_manifest_reads_as_none_and_a_damaged_group_as_empty(tmp_path: Path) -> None:
    writer = SiteWriter(tmp_path)
    manifest = Manifest(writer, ".manifest", "code")
    manifest.save(Fingerprints({"a.html": "1"}, {"#g": ("2", '{"b.html": "3"}')}), Fingerprints())
    header, _, body = (tmp_path / ".manifest").read_bytes().partition(b"\n")
    (tmp_path / ".manifest").write_bytes(header + b"\n" + body.replace(b"\t", b" "))
    assert manifest.read() == Fingerprints()  # every page is rendered again
    assert Fingerprints({}, {"#g": ("2", "{not json")}).group_pages("#g") == {}
    assert Fingerprints({}, {"#g": ("2", '{"b.html": 3}')}).group_pages("#g") == {}


def _round_trip(fingerprints: Fingerprints) -> Fingerprints:
    folder = Path("/nonexistent")  # encode and decode only: nothing is written
    manifest = Manifest(SiteWriter(folder), ".manifest", "code")
    data = manifest._file().encode(fingerprints)
    assert data is not None
    read = manifest._file().decode(data, Fingerprints)
    assert read is not None
    return read
