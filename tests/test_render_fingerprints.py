"""Fingerprints that let a build skip pages and feeds: they must change whenever the output would."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from conftest import BUILT_AT, ROOT, make_episode
from hypothesis import given
from hypothesis import strategies as st
from test_feeds_out import sample_catalog
from test_render_incremental import newer_episode

from devcasts.ingest.normalize import content_hash
from devcasts.publish import feeds as feeds_out
from devcasts.publish.feeds import FEEDS_MANIFEST, feed_documents, plan_feeds, write_feeds
from devcasts.records import (
    BOOKKEEPING,
    Catalog,
    Chapter,
    Enclosure,
    Episode,
    Person,
    Podcast,
    SourceRef,
    Transcript,
    TranscriptTurn,
)
from devcasts.site import pages, render
from devcasts.site.chapters import indented_json
from devcasts.site.page_output import episode_digest
from devcasts.site.templates import THEME_DIR
from devcasts.site.writer import SiteWriter
from devcasts.util.episode_dates import newest_first_key

# A different value for every field normalize's content hash covers (the search indexes
# trust it with them).
_EDITS: dict[str, object] = {
    "link": "https://elsewhere.example.org/",
    "summary": "Another summary.",
    "notes_html": "<p>Other notes.</p>",
    "text": "Other notes, long enough to be folded. " * 400,
    "duration": 99,
    "enclosure": Enclosure("https://media.example.org/other.mp3", "audio/mpeg", 1),
    "chapters": (Chapter(0.0, "Intro"), Chapter(60.0, "Renamed chapter")),
    "chapters_url": "https://example.org/chapters.json",
    "people": (Person("Grace Sample", "grace-sample", "guest"),),
    "transcripts": (Transcript("https://example.org/1.vtt", "text/vtt"),),
    "language": "de",
    "categories": ("Other",),
    "image": "https://example.org/cover.png",
    "number": 7,
    "season": 2,
    "explicit": True,
}
_TURN = TranscriptTurn("Host", "Hello there.", 1.0)
# And for the fields set after it: by the archive, the catalog (overrides, merging across
# feeds, linked files) or the dates' rules.
_LATER_EDITS: dict[str, object] = {
    "id": "another-id",
    "podcast": "another-show",
    "title": "Curated title",
    "published": make_episode("show", 9).published,
    "topics": ("kubernetes",),
    "episode_type": "bonus",
    "date_estimated": True,
    "date_clamped": True,
    "content_hash": "edited",
    "slug": "another-slug",
    "also_in": (),
    "featured": True,
    "linked_chapters": (Chapter(5.0, "From the file"),),
    "linked_chapters_url": "https://example.org/other-chapters.json",
    "utc_offset": 60,
    "transcript_turns": (_TURN,),
    "linked_transcript": (_TURN,),
    "linked_transcript_url": "https://example.org/2.vtt",
}
_BOOKKEEPING_EDITS: dict[str, object] = {
    "guid": "urn:other",
    "first_seen": make_episode("show", 9).published,
    "last_seen": make_episode("show", 9).published,
    "dropped": make_episode("show", 9).published,
}


def _hashed(episode: Episode) -> Episode:
    """The episode as normalize leaves it: its content hash matches its fields."""
    return dataclasses.replace(episode, content_hash=content_hash(episode))


def _sample() -> Episode:
    other = SourceRef("other-show", "https://other.example.org/1")
    return _hashed(make_episode("show", 1, topics=("heroku",), also_in=(other,)))


def test_every_field_of_an_episode_has_an_edit_here() -> None:
    given = [f.name for f in dataclasses.fields(Episode) if f.init]
    assert sorted(given) == sorted({**_EDITS, **_LATER_EDITS, **_BOOKKEEPING_EDITS})
    assert set(_BOOKKEEPING_EDITS) == BOOKKEEPING


@pytest.mark.parametrize("name", sorted(_EDITS.keys() - {"text"}))  # made from notes_html
def test_the_content_hash_covers_every_field_of_the_feed(name: str) -> None:
    episode = _hashed(make_episode("show", 1))
    edited = _hashed(dataclasses.replace(episode, **{name: _EDITS[name]}))  # type: ignore[arg-type]
    assert edited.content_hash != episode.content_hash


@pytest.mark.parametrize("name", sorted({**_EDITS, **_LATER_EDITS}))
def test_every_field_but_the_bookkeeping_changes_the_fingerprint_on_its_own(name: str) -> None:
    episode = _sample()
    value = {**_EDITS, **_LATER_EDITS}[name]
    edited = dataclasses.replace(episode, **{name: value})  # type: ignore[arg-type]
    assert edited.fingerprint != episode.fingerprint
    assert episode_digest(edited) != episode_digest(episode)


def test_the_bookkeeping_does_not_change_the_fingerprint() -> None:
    episode = _sample()
    moved = dataclasses.replace(episode, **_BOOKKEEPING_EDITS)  # type: ignore[arg-type]
    assert moved.fingerprint == episode.fingerprint
    assert episode_digest(moved) == episode_digest(episode)


def test_a_changed_copy_works_out_its_own_fingerprint() -> None:
    """The memo is not copied by replace(): a copy made after the fingerprint was asked
    for has the fingerprint of its own fields."""
    episode = _sample()
    assert episode.fingerprint  # worked out, and kept in the record
    edited = dataclasses.replace(episode, title="Another title")
    assert edited.fingerprint == dataclasses.replace(_sample(), title="Another title").fingerprint
    assert edited.fingerprint != episode.fingerprint
    assert edited == dataclasses.replace(_sample(), title="Another title")  # not compared


def test_what_is_shown_with_an_episode_is_in_its_digest() -> None:
    episode = _sample()
    covers = {episode_digest(episode, cover) for cover in (None, "cover-a", "cover-b")}
    assert len(covers) == 3
    assert episode_digest(episode, "cover-a") == episode_digest(episode, "cover-a")


def test_fields_never_shown_stay_out_of_pages_and_feeds() -> None:
    """guid, first_seen and last_seen are left out of fingerprints: nothing may show them."""
    sources = [*THEME_DIR.rglob("*.html")]
    sources += [_module_path(name) for name in _RENDERING_MODULES]
    pattern = re.compile(r"\.(?:" + "|".join(sorted(BOOKKEEPING)) + r")\b")  # episode.guid
    shown = {str(path.relative_to(ROOT)) for path in sources if pattern.search(path.read_text())}
    assert shown == set()


# The modules whose code shapes a page or a feed (render.py's _MODULES, feeds_out's own).
_RENDERING_MODULES = (
    "site.render", "site.pages", "site.discovery", "site.filters", "site.content_pages",
    "publish.feeds", "site.chapters", "site.urls",
)  # fmt: skip


# Modules whose code is not fingerprinted: errors, the writer, the fork check and the cache
# files shape no byte.
_PLUMBING = frozenset({"errors", "site.writer", "util.processes", "util.cache", "util.atomic"})


def _module_path(name: str) -> Path:
    """src/devcasts/<package>/<module>.py for "package.module"."""
    return ROOT / "src" / "devcasts" / f"{name.replace('.', '/')}.py"


def _devcasts_imports(name: str) -> set[str]:
    """The devcasts modules (as "package.module") that devcasts.<name> imports."""
    tree = ast.parse(_module_path(name).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.module.startswith("devcasts."):
            module = node.module.removeprefix("devcasts.")
            if _module_path(module).is_file():
                found.add(module)
            else:  # from devcasts.package import module
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("module", "digest_only"),
    [(render, frozenset()), (feeds_out, frozenset({"site.page_output"}))],  # feeds use its digest()
)
def test_the_code_of_every_module_that_shapes_the_output_is_fingerprinted(
    module: ModuleType, digest_only: frozenset[str]
) -> None:
    fingerprinted = {
        (code if isinstance(code, str) else code.__name__).removeprefix("devcasts.")
        for code in module._CODE
    }
    shaping: set[str] = set()
    todo = [module.__name__.removeprefix("devcasts.")]
    while todo:
        name = todo.pop()
        if name not in shaping and name not in _PLUMBING | digest_only:
            shaping.add(name)
            todo += _devcasts_imports(name)
    assert {"site.render", "publish.feeds"} & shaping  # the walk found the module itself
    assert shaping - fingerprinted == set()


# --- feeds ---------------------------------------------------------------------------------


def _write(catalog: Catalog, out: Path) -> SiteWriter:
    writer = SiteWriter(out)
    write_feeds(catalog, writer)
    return writer


def _files(out: Path) -> dict[str, bytes]:
    return dict(feed_documents_on_disk(out))


def feed_documents_on_disk(out: Path) -> list[tuple[str, bytes]]:
    return sorted(
        (p.relative_to(out).as_posix(), p.read_bytes())
        for p in out.rglob("*")
        if p.is_file() and p.name != FEEDS_MANIFEST
    )


def test_written_feeds_are_the_feed_documents(tmp_path: Path) -> None:
    catalog = sample_catalog()
    _write(catalog, tmp_path)
    assert _files(tmp_path) == dict(feed_documents(catalog))


def test_unchanged_feeds_are_kept_without_being_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = sample_catalog()
    _write(catalog, tmp_path)
    built: list[object] = []
    real_rss, real_json = feeds_out.rss_feed, feeds_out.json_feed
    monkeypatch.setattr(feeds_out, "rss_feed", lambda *a: built.append(a) or real_rss(*a))
    monkeypatch.setattr(feeds_out, "json_feed", lambda *a: built.append(a) or real_json(*a))
    writer = _write(catalog, tmp_path)
    assert built == [] and writer.changed == []
    assert set(writer.seen) == {path for path, _ in feed_documents(catalog)} | {FEEDS_MANIFEST}


def test_feeds_planned_from_the_live_site_are_written_into_the_next_one(tmp_path: Path) -> None:
    """The indexing child plans the feeds from the live site (plan_feeds) while the build
    renders into its spare tree; writing that plan gives what planning there gives, and a
    feed to keep that the tree lacks after all is built then."""
    catalog = sample_catalog()
    live, spare, fresh = tmp_path / "live", tmp_path / "spare", tmp_path / "fresh"
    live.mkdir()
    _write(catalog, live)
    newer = _with_a_new_episode(catalog)
    update = plan_feeds(newer, live)
    assert update.built and set(update.built) < set(update.fingerprints)  # some kept
    kept = sorted(set(update.fingerprints) - set(update.built))
    shutil.copytree(live, spare)
    (spare / kept[0]).unlink()
    write_feeds(newer, SiteWriter(spare), update)
    fresh.mkdir()
    _write(newer, fresh)
    assert _files(spare) == _files(fresh) == dict(feed_documents(newer))


def _with_a_new_episode(catalog: Catalog) -> Catalog:
    """One more episode, newest, in the first topic only."""
    added = newer_episode(catalog.episodes[0], "brand-new", 1, "A brand new episode")
    added = dataclasses.replace(added, topics=(catalog.topics[0].slug,))
    return dataclasses.replace(catalog, episodes=(added, *catalog.episodes))


def test_each_built_feed_selects_its_episodes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = sample_catalog()
    selections: list[tuple[str | None, bool]] = []
    select = feeds_out.select_episodes

    def counted(catalog: Catalog, topic: str | None, *, need_enclosure: bool) -> list[Episode]:
        selections.append((topic, need_enclosure))
        return select(catalog, topic, need_enclosure=need_enclosure)

    monkeypatch.setattr(feeds_out, "select_episodes", counted)
    _write(catalog, tmp_path)
    feeds = 2 + len(catalog.topics)  # feed.xml, feed.json and one per topic, all built here
    assert len(selections) == len(set(selections)) == feeds
    monkeypatch.undo()
    assert _files(tmp_path) == dict(feed_documents(catalog))


def _edit_newest(catalog: Catalog, **fields: object) -> Catalog:
    newest, *rest = catalog.episodes
    edited = _hashed(dataclasses.replace(newest, **fields))  # type: ignore[arg-type]
    return dataclasses.replace(catalog, episodes=(edited, *rest))


def _renamed(podcast: Podcast) -> Podcast:
    return dataclasses.replace(podcast, title=podcast.title + " renamed")


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: _edit_newest(c, notes_html="<p>New notes</p>"),
        lambda c: _edit_newest(c, chapters=(Chapter(0.0, "Only chapter"),)),
        lambda c: dataclasses.replace(c, episodes=c.episodes[1:]),
        lambda c: dataclasses.replace(c, podcasts=tuple(map(_renamed, c.podcasts))),
        lambda c: dataclasses.replace(c, site=dataclasses.replace(c.site, title="Renamed")),
        lambda c: dataclasses.replace(c, built_at=None),
    ],
)
def test_a_changed_input_rebuilds_the_feeds_it_shows_in(tmp_path: Path, edit: object) -> None:
    catalog = sample_catalog()
    _write(catalog, tmp_path)
    changed = edit(catalog)  # type: ignore[operator]
    writer = _write(changed, tmp_path)
    assert writer.changed  # something did change
    assert _files(tmp_path) == dict(feed_documents(changed))


@pytest.mark.parametrize("damage", ["file missing", "manifest corrupt", "manifest stale"])
def test_a_damaged_manifest_or_feed_only_costs_a_rebuild(tmp_path: Path, damage: str) -> None:
    catalog = sample_catalog()
    _write(catalog, tmp_path)
    manifest = tmp_path / FEEDS_MANIFEST
    if damage == "file missing":
        (tmp_path / "feed.xml").unlink()
    elif damage == "manifest corrupt":
        manifest.write_text("{not json")
        (tmp_path / "feed.json").write_text("from an older build")
    else:  # another build's fingerprints
        header, _, body = manifest.read_bytes().partition(b"\n")
        stale = dict.fromkeys(json.loads(body), "x")
        manifest.write_bytes(header + b"\n" + json.dumps(stale).encode())
        (tmp_path / "feed.xml").write_text("from an older build")
    writer = _write(catalog, tmp_path)
    assert writer.changed
    assert _files(tmp_path) == dict(feed_documents(catalog))


def test_feed_code_is_an_input_of_every_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, out = sample_catalog(), tmp_path / "site"
    out.mkdir()
    _write(catalog, out)
    code = ModuleType("another_feeds_out")
    code.__file__ = str(tmp_path / "code.py")
    (tmp_path / "code.py").write_text("# another version of feeds_out\n")
    monkeypatch.setattr(feeds_out, "_CODE", (code,))
    (out / "feed.xml").write_text("from an older version")
    _write(catalog, out)
    assert _files(out) == dict(feed_documents(catalog))


# --- orderings ---------------------------------------------------------------------------

_MOMENTS = st.sampled_from([BUILT_AT - timedelta(hours=h) for h in (0, 0, 1, 5, 24)])


@given(st.lists(st.tuples(st.sampled_from("abcde"), _MOMENTS), max_size=12))
def test_the_catalog_order_is_by_date_then_id(items: list[tuple[str, datetime]]) -> None:
    episodes = [make_episode("show", 1, id=id_, published=moment) for id_, moment in items]
    expected = sorted(episodes, key=lambda e: (-e.published.timestamp(), e.id))
    assert sorted(episodes, key=newest_first_key) == expected


@pytest.fixture
def east_of_utc() -> Iterator[None]:
    """The process's local time zone nine hours ahead of UTC, no zone database needed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "JST-9")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("east_of_utc")
def test_the_catalog_order_takes_a_naive_date_as_utc_whatever_the_local_zone() -> None:
    naive = make_episode("show", 1, id="naive", published=datetime(2025, 3, 1, 12, 0))
    aware = make_episode("show", 1, id="aware", published=datetime(2025, 3, 1, 11, 30, tzinfo=UTC))
    assert [e.id for e in sorted([aware, naive], key=newest_first_key)] == ["naive", "aware"]


def test_popular_ranks_shared_across_listings_give_the_same_order() -> None:
    episodes = [make_episode("a", n, featured=n == 3) for n in range(1, 9)]
    weights: dict[str, float] = {"a": 1.5}
    ranks: dict[str, pages.PopularRank] = {}
    for listing in (episodes[:5], episodes[2:], episodes[::-1]):
        shared = pages.popular_order(listing, weights, BUILT_AT, ranks)
        assert shared == pages.popular_order(listing, weights, BUILT_AT)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON)
def test_indented_json_is_the_text_json_dumps_writes(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    assert indented_json(value) == expected
