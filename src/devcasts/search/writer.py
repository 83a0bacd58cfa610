"""Writing the search index: `update_index` brings it in line with a catalog.

Only the episodes whose indexed document changed are written; the index is rebuilt from
scratch when it is missing, corrupt or written by an older schema. The fields are defined in
schema.py; a search never imports this module.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index
from whoosh.index import LockError

from devcasts.errors import BuildError
from devcasts.search.marker import INDEX_NAME, MARKER_NAME, SCHEMA_VERSION, read_marker
from devcasts.search.schema import build_schema, damage_tolerated, primary_language
from devcasts.site import urls
from devcasts.util.atomic import replace_file

if TYPE_CHECKING:
    from devcasts.records import Catalog, Episode

#: id -> fingerprint of every indexed episode, so an update reads no stored fields.
PRINTS_NAME = "devcasts-fingerprints.json"

#: A fresh index is committed a segment at a time, each of this many episodes (about 130 MB
#: more memory than 6,000 took). A search looks each word up and matches it in every
#: segment: at 100,000 episodes, 8 segments instead of 17 took the median search of the
#: benchmark's broad pairs mix from 234 to 175 ms of CPU, and the build's CPU did not grow.
SEGMENT_DOCS = 12_500
#: Postings held in memory per writer (by whoosh's estimate) before whoosh sorts them to
#: disk in runs and merges those: 25,000 episodes a segment that way took twice the CPU.
LIMIT_MB = 512
#: Separate files per segment: whoosh copies a compound segment's whole term table into
#: memory on every open, a cost each search command would pay.
COMPOUND = False

MAX_NOTES_CHARS = 50_000  # hostile feeds can carry megabytes of notes; search needs far less
#: Notes kept for snippets: highlighting 10 hits of 50,000 characters took 80 ms, of 8,000
#: about 30. A match further in still ranks the episode; its snippet is then the summary.
STORED_NOTES_CHARS = 8_000


@dataclass(frozen=True, slots=True)
class IndexReport:
    added: int
    updated: int
    removed: int
    total: int
    rebuilt: bool
    seconds: float = 0.0


_SEP = "\x1f"  # the unit separator: not expected in titles, URLs or topic names


@dataclass(frozen=True, slots=True)
class DocumentNames:
    """What an episode's document needs from the rest of the catalog."""

    base_url: str
    podcast_titles: dict[str, str]
    topic_names: dict[str, str]
    prints: dict[str, str] = field(default_factory=dict)  # podcast slug -> print_of, memo

    @classmethod
    def of(cls, catalog: Catalog) -> DocumentNames:
        return cls(
            catalog.site.base_url,
            {p.slug: p.title for p in catalog.podcasts},
            {t.slug: t.name for t in catalog.topics},
        )

    def print_of(self, podcast: str) -> str:
        """A short digest of the names a document of `podcast` is indexed with (the site's
        URL, the show's title, every topic's name) and of the documents' schema."""
        found = self.prints.get(podcast)
        if found is None:
            names = [str(SCHEMA_VERSION), self.base_url, podcast]
            names.append(self.podcast_titles.get(podcast, podcast))
            names += sorted(f"{slug}={name}" for slug, name in self.topic_names.items())
            payload = _SEP.join(names).encode("utf-8", "surrogatepass")
            found = self.prints[podcast] = hashlib.sha256(payload).hexdigest()[:8]
        return found


def episode_fingerprint(names: DocumentNames, episode: Episode) -> str:
    """Changes whenever the episode's document would: the record's own fingerprint covers
    its fields (the archive's decoded cache keeps it, so this hashes nothing for an
    unchanged episode); the names it is indexed with come from the catalog."""
    return episode.fingerprint + names.print_of(episode.podcast)


def _searchable_text(episode: Episode) -> str:
    """The notes, then the transcript the episode page shows in full (capped with the notes)."""
    if not episode.linked_transcript:
        return episode.text[:MAX_NOTES_CHARS]
    spoken = " ".join(turn.text for turn in episode.linked_transcript)
    return f"{episode.text}\n{spoken}"[:MAX_NOTES_CHARS]


def episode_document(names: DocumentNames, episode: Episode) -> dict[str, Any]:
    topic_names = names.topic_names
    doc: dict[str, Any] = {
        "id": episode.id,
        "title": episode.title,
        "podcast": names.podcast_titles.get(episode.podcast, episode.podcast),
        "podcast_slug": episode.podcast,
        "people": " ".join(p.name for p in episode.people),
        "person_slugs": ",".join(sorted({p.slug for p in episode.people if p.slug})),
        "topics": ",".join(episode.topics),
        "tags": " ".join(
            (
                *episode.topics,
                *(topic_names.get(t, "") for t in episode.topics),
                *episode.categories,
            )
        ),
        "notes": _searchable_text(episode),
        # Snippets come from the stored start of the notes: highlighting reads all of it.
        "_stored_notes": episode.text[:STORED_NOTES_CHARS],
        "summary": episode.summary,
        "lang": primary_language(episode.language),
        "language": episode.language or "",
        "published": _naive_utc(episode.published),
        "day": _naive_utc(episode.published).date().toordinal(),
        "url": urls.absolute(names.base_url, urls.episode(episode)),
    }
    if episode.duration is not None and 0 <= episode.duration < 10**7:
        doc["duration"] = episode.duration
    return doc


def _naive_utc(moment: datetime) -> datetime:
    # whoosh's DATETIME stores naive datetimes; every time in devcasts is UTC.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


# --- building and updating ------------------------------------------------------------------


def update_index(catalog: Catalog, index_dir: Path) -> IndexReport:
    """Bring the index in `index_dir` in line with `catalog`; rebuild it when unusable."""
    started = time.perf_counter()
    names = DocumentNames.of(catalog)
    episodes = {ep.id: ep for ep in catalog.episodes}
    prints = {ep.id: episode_fingerprint(names, ep) for ep in catalog.episodes}
    current = _open_current(index_dir)
    rebuilt = current is None
    if current is None:
        ix = _create(index_dir)
        wanted = list(episodes)  # catalog order: newest first, the same every time
        stored: dict[str, str] = {}
    else:
        ix, stored = current
        wanted = sorted(i for i in episodes if stored.get(i) != prints[i])
    removed = sorted(set(stored) - set(episodes))
    if wanted or removed:
        # A build killed while writing leaves no fingerprints: the next one rebuilds.
        (index_dir / PRINTS_NAME).unlink(missing_ok=True)
        if rebuilt:
            _write_fresh(ix, [episodes[i] for i in wanted], names)
        else:
            with _writing(ix, merge=True) as writer:
                for doc_id in removed:
                    writer.delete_by_term("id", doc_id)
                for doc_id in wanted:
                    doc = episode_document(names, episodes[doc_id])
                    if doc_id in stored:
                        writer.update_document(**doc)
                    else:
                        writer.add_document(**doc)
        _write_json(index_dir / PRINTS_NAME, prints)
    _write_marker(index_dir)
    updated = sum(1 for i in wanted if i in stored)
    return IndexReport(
        added=len(wanted) - updated,
        updated=updated,
        removed=len(removed),
        total=len(episodes),
        rebuilt=rebuilt,
        seconds=round(time.perf_counter() - started, 3),
    )


def _open_current(index_dir: Path) -> tuple[index.Index, dict[str, str]] | None:
    """The existing index and its fingerprints if it is ours, current and readable; None when
    it must be rebuilt."""
    if read_marker(index_dir) != SCHEMA_VERSION:
        return None
    stored = _read_prints(index_dir)
    if stored is None:
        return None
    with damage_tolerated():
        try:
            ix = index.open_dir(str(index_dir), indexname=INDEX_NAME)
            usable = set(ix.schema.names()) == set(build_schema().names())
            if usable:  # opening the segments finds a damaged one
                with ix.reader() as reader:  # type: ignore[no-untyped-call]
                    usable = reader.doc_count() == len(stored)
        except Exception:
            usable = False
        if not usable:
            gc.collect()
            return None
    return ix, stored


def _read_prints(index_dir: Path) -> dict[str, str] | None:
    """id -> fingerprint of every indexed episode, as written after the last commit."""
    try:
        data = json.loads((index_dir / PRINTS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _create(index_dir: Path) -> index.Index:
    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_index_files(index_dir)
    return index.create_in(str(index_dir), build_schema(), indexname=INDEX_NAME)


def _remove_index_files(index_dir: Path) -> None:
    """Delete only files whoosh or we wrote, never anything else someone put there."""
    for path in index_dir.iterdir():
        if path.is_file() and (
            path.name.startswith((INDEX_NAME, f"_{INDEX_NAME}_"))
            or path.name in {MARKER_NAME, PRINTS_NAME}
        ):
            path.unlink()


def _writer(ix: index.Index) -> Any:
    try:
        return ix.writer(limitmb=LIMIT_MB, compound=COMPOUND)
    except LockError as error:
        raise BuildError(f"the search index is locked by another process: {error}") from error


@contextlib.contextmanager
def _writing(ix: index.Index, *, merge: bool) -> Iterator[Any]:
    """A writer committed when the block ends (merging small segments if `merge`), or
    cancelled on an error, which releases the index's lock."""
    writer = _writer(ix)
    try:
        yield writer
    except BaseException:
        writer.cancel()
        raise
    writer.commit(merge=merge)


def _write_fresh(ix: index.Index, episodes: list[Episode], names: DocumentNames) -> None:
    """Write a fresh index a segment of SEGMENT_DOCS episodes at a time, not merged: a
    search over a few segments costs about what it does over one."""
    for first in range(0, len(episodes), SEGMENT_DOCS):
        with _writing(ix, merge=False) as writer:
            for episode in episodes[first : first + SEGMENT_DOCS]:
                writer.add_document(**episode_document(names, episode))


def _write_marker(index_dir: Path) -> None:
    _write_json(index_dir / MARKER_NAME, {"schema_version": SCHEMA_VERSION})


def _write_json(path: Path, data: dict[str, Any]) -> None:
    replace_file(path, (json.dumps(data, separators=(",", ":")) + "\n").encode("utf-8"))
