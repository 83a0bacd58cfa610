"""Full-text search over the archive: a whoosh index kept in the cache directory.

`update_index` brings the index in line with a catalog, touching only the episodes whose
indexed document changed; it rebuilds from scratch when the index is missing, corrupt or
written by an older schema. `search` answers a `SearchRequest` with BM25F ranking, filters,
snippets and a "did you mean" taken from the index's own words.

This module is on the search command's import path: it imports whoosh only (the model just
for type checking; no feedparser, jinja2, httpx or nh3), so `devcasts search` starts fast.
Figures and what made them are in benchmarks/RESULTS.md, "Search index".
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from whoosh import fields, highlight, index, scoring, sorting
from whoosh.analysis.analyzers import StandardAnalyzer, StemmingAnalyzer
from whoosh.analysis.filters import STOP_WORDS
from whoosh.formats import Positions
from whoosh.lang.porter import stem as porter_stem
from whoosh.reading import SegmentReader
from whoosh.system import pack_uint
from whoosh.writing import PostingPool, SegmentWriter

from devcasts.errors import BuildError, DevcastsError
from devcasts.index_marker import (
    INDEX_NAME,
    MARKER_NAME,
    SCHEMA_VERSION,
    read_marker,
)
from devcasts.text import slugify

if TYPE_CHECKING:  # the model's many dataclasses cost a search 20 ms to import
    from whoosh.qparser.default import QueryParser
    from whoosh.query.qcore import Query

    from devcasts.model import Catalog, Episode

# whoosh's query parser and query classes are imported where a search needs them: a build
# that only checks or updates the index saves their 20 ms.

#: Bump when the schema or what goes into a document changes: older indexes are rebuilt.
#: id -> fingerprint of every indexed episode, so an update reads no stored fields.
PRINTS_NAME = "devcasts-fingerprints.json"

#: Fields a query searches when it names none, with their BM25F weights.
FIELD_BOOSTS: dict[str, float] = {
    "title": 4.0,
    "tags": 2.5,
    "people": 2.0,
    "podcast": 1.5,
    "notes": 1.0,
}
#: Field names users may write in a query (`topic:heroku`) and what they search.
FIELD_ALIASES: dict[str, list[str]] = {
    "tags": ["topic", "topics"],
    "people": ["person", "guest", "host"],
    "podcast": ["show"],
    "notes": ["text"],
    "lang": ["language"],
}
QUERY_FIELDS = (*FIELD_BOOSTS, "lang")

#: A fresh index of at least this many episodes is written by forked workers.
BULK_DOCS = 2000
BULK_PROCS = 2
BULK_LIMIT_MB = 256  # per writer: postings held in memory before sorting runs to disk
#: whoosh's estimate of the postings a segment holds in memory before a new one is started
#: (about 6,000 episodes of 1.5 KB of notes); below BULK_LIMIT_MB, so nothing goes to disk.
SEGMENT_BYTES = 160 * 1024 * 1024
#: Separate files per segment: whoosh copies a compound segment's whole term table into
#: memory on every open, a cost each search command would pay.
COMPOUND = False

MAX_QUERY_CHARS = 500
MAX_NOTES_CHARS = 50_000  # hostile feeds can carry megabytes of notes; search needs far less
#: Notes kept for snippets: highlighting 10 hits of 50,000 characters took 80 ms, of 8,000
#: about 30. A match further in still ranks the episode; its snippet is then the summary.
STORED_NOTES_CHARS = 8_000
SNIPPET_CHARS = 220
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
BINARY_OPERATORS = OPERATORS - {"NOT"}

Sort = Literal["relevance", "newest"]
#: A piece of a snippet: its text and whether it matched the query.
Segment = tuple[str, bool]


class SearchError(DevcastsError):
    """A search could not run; the message says why and what to do."""


class QuerySyntaxError(SearchError):
    """The query is malformed (exit code 2)."""


class IndexMissingError(SearchError):
    """There is no usable index yet (exit code 1)."""


# Records are named tuples, not dataclasses: importing dataclasses (and inspect with it)
# and creating each class cost every search process about 8 ms.


class IndexReport(NamedTuple):
    added: int
    updated: int
    removed: int
    total: int
    rebuilt: bool
    seconds: float = 0.0


class SearchRequest(NamedTuple):
    query: str
    limit: int = 10
    podcast: str | None = None  # podcast slug (or its title: it is slugified)
    topic: str | None = None  # topic slug
    person: str | None = None  # person's name or slug
    since: date | None = None  # inclusive
    until: date | None = None  # inclusive
    lang: str | None = None  # language code; "en" matches "en-US"
    sort: Sort = "relevance"


class Hit(NamedTuple):
    id: str
    title: str
    podcast: str  # display title
    podcast_slug: str
    published: datetime  # UTC
    url: str  # the episode page on the site
    score: float
    snippet: tuple[Segment, ...]
    topics: tuple[str, ...] = ()
    duration: int | None = None
    language: str | None = None

    @property
    def snippet_text(self) -> str:
        return "".join(text for text, _ in self.snippet)

    @property
    def snippet_marked(self) -> str:
        """The snippet with matches in [[double brackets]]."""
        return "".join(f"[[{text}]]" if match else text for text, match in self.snippet)


class SearchResponse(NamedTuple):
    hits: list[Hit]
    total: int
    suggestion: str | None = None  # "did you mean", from the index's own words
    corrected: bool = False  # the hits answer the suggestion or a fuzzy retry, not the query
    total_exact: bool = True  # False: `total` is an upper estimate (broad queries)


# --- schema and documents -------------------------------------------------------------------


class FastText(fields.TEXT):
    """A TEXT field that indexes the terms its analyzer would give, about three times faster.

    whoosh runs every word through a chain of generators and Token objects, about half the
    cost of adding a document. This field finds the words with the analyzer's own pattern and
    maps each distinct word to its term (lower case, stop words dropped, stemmed) once per
    process. Queries and highlighting still use the analyzer, so both sides agree; a test
    compares the two on arbitrary text.
    """

    def __init__(self, *, stem: bool, stoplist: frozenset[str] | None, **options: Any) -> None:
        analyzer = (
            StemmingAnalyzer(stoplist=stoplist) if stem else StandardAnalyzer(stoplist=stoplist)
        )
        super().__init__(analyzer=analyzer, **options)
        self.stem_terms = stem
        self.stoplist = stoplist

    def index(
        self, value: Any, **kwargs: Any
    ) -> Generator[tuple[bytes, int, float | int, bytes], Any, None]:
        if not isinstance(value, str) or self.format is None:
            yield from super().index(value, **kwargs)
            return
        terms = _terms_of(value, self.stem_terms, self.stoplist)
        boost: float = self.format.field_boost
        if isinstance(self.format, Positions):
            encode = self.format.encode
            single = _single_position_bytes
            for term, positions in _positions(terms).items():
                # Most words occur once in an episode: their encoding is looked up, not pickled.
                if len(positions) == 1:
                    value = single.get(positions[0]) or single.setdefault(
                        positions[0], encode(positions)
                    )
                else:
                    value = encode(positions)
                yield term.encode("utf-8"), len(positions), len(positions) * boost, value
        else:
            for term, count in Counter(term for term, _ in terms).items():
                yield term.encode("utf-8"), count, count * boost, pack_uint(count)


#: The word pattern of whoosh's RegexTokenizer, without its capturing group.
_TOKEN = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
_TERM_CACHE_LIMIT = 200_000
#: position -> whoosh's encoding of a list holding just that position.
_single_position_bytes: dict[int, bytes] = {}
_term_cache: dict[tuple[bool, frozenset[str] | None], dict[str, str | None]] = {}


def _terms_of(text: str, stem: bool, stoplist: frozenset[str] | None) -> list[tuple[str, int]]:
    """(term, position) of each indexed word, numbered as whoosh's StopFilter renumbers."""
    cache = _term_cache.setdefault((stem, stoplist), {})
    if len(cache) > _TERM_CACHE_LIMIT:
        cache.clear()
    kept: list[tuple[str, int]] = []
    for number, word in enumerate(_TOKEN.findall(text)):
        term = cache.get(word, "")
        if term == "":
            term = cache[word] = _term_of(word, stem, stoplist)
        if term is not None:
            kept.append((term, number))
    if not kept:
        return kept
    # StopFilter keeps the first word's position and numbers the rest one after another.
    first = kept[0][1]
    return [(term, first + offset) for offset, (term, _) in enumerate(kept)]


def _term_of(word: str, stem: bool, stoplist: frozenset[str] | None) -> str | None:
    lowered = word.lower()
    if stoplist is not None and (len(lowered) < 2 or lowered in stoplist):
        return None
    return str(porter_stem(lowered)) if stem else lowered  # type: ignore[no-untyped-call]


def _positions(terms: list[tuple[str, int]]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for term, position in terms:
        found = positions.get(term)
        if found is None:
            positions[term] = [position]
        else:
            found.append(position)
    return positions


class SortOnlyDatetime(fields.DATETIME):
    """Stored and sortable, not indexed: each episode's time would add eight terms, most of
    them found in that episode only; date filters use the `day` field instead."""

    indexed = False


def build_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        title=FastText(stem=True, stoplist=STOP_WORDS, stored=True),
        podcast=FastText(stem=True, stoplist=STOP_WORDS, stored=True),
        podcast_slug=fields.ID(stored=True),
        people=FastText(stem=False, stoplist=None),
        person_slugs=fields.KEYWORD(commas=True),
        topics=fields.KEYWORD(stored=True, commas=True),
        tags=FastText(stem=True, stoplist=STOP_WORDS),
        # Positions on the notes cost a fifth of the build time and 40% of the index, but
        # checking phrases against the stored text instead took 300 ms on common words.
        notes=FastText(stem=True, stoplist=STOP_WORDS, stored=True),
        summary=fields.STORED(),
        lang=fields.ID(),  # searched; the hit shows the stored `language`
        language=fields.STORED(),
        published=SortOnlyDatetime(stored=True, sortable=True),
        day=fields.NUMERIC(int, bits=32, shift_step=8),  # date.toordinal(), for --since/--until
        # One term per episode, not sixteen: durations are sorted on, never searched by range.
        duration=fields.NUMERIC(int, bits=64, stored=True, sortable=True, shift_step=0),
        url=fields.STORED(),
    )


class _Names(NamedTuple):
    """What an episode's document needs from the rest of the catalog."""

    base_url: str
    podcast_titles: dict[str, str]
    topic_names: dict[str, str]

    @classmethod
    def of(cls, catalog: Catalog) -> _Names:
        return cls(
            catalog.site.base_url,
            {p.slug: p.title for p in catalog.podcasts},
            {t.slug: t.name for t in catalog.topics},
        )


def episode_fingerprint(names: _Names, episode: Episode) -> str:
    """Changes whenever the episode's document would: its content hash covers the episode's
    own fields; the rest (URL, show title, topic names, featured) comes from the catalog."""
    if not episode.content_hash:  # no hash from upstream: hash the document itself
        payload = json.dumps(
            [SCHEMA_VERSION, sorted(_document(names, episode).items()), episode.featured],
            default=str,
        )
    else:  # joined, not JSON: an update computes this for every episode in the archive
        topics = _SEP.join(f"{t}={names.topic_names.get(t, '')}" for t in episode.topics)
        payload = _SEP.join(
            (
                str(SCHEMA_VERSION),
                episode.content_hash,
                names.base_url + episode.path,
                names.podcast_titles.get(episode.podcast, episode.podcast),
                topics,
                "featured" if episode.featured else "",
            )
        )
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


_SEP = "\x1f"  # the unit separator: not expected in titles, URLs or topic names


def _document(names: _Names, episode: Episode) -> dict[str, Any]:
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
        "notes": episode.text[:MAX_NOTES_CHARS],
        # Snippets come from the stored start of the notes: highlighting reads all of it.
        "_stored_notes": episode.text[:STORED_NOTES_CHARS],
        "summary": episode.summary,
        "lang": primary_language(episode.language),
        "language": episode.language or "",
        "published": _naive_utc(episode.published),
        "day": _naive_utc(episode.published).date().toordinal(),
        "url": names.base_url + episode.path,
    }
    if episode.duration is not None and 0 <= episode.duration < 10**7:
        doc["duration"] = episode.duration
    return doc


def primary_language(language: str | None) -> str:
    """'en-US' -> 'en'; '' when unknown."""
    return re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]


def _naive_utc(moment: datetime) -> datetime:
    # whoosh's DATETIME stores naive datetimes; every time in devcasts is UTC.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


# --- building and updating ------------------------------------------------------------------


def update_index(catalog: Catalog, index_dir: Path) -> IndexReport:
    """Bring the index in `index_dir` in line with `catalog`; rebuild it when unusable."""
    started = time.perf_counter()
    names = _Names.of(catalog)
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
            writer = _writer(ix)
            for doc_id in removed:
                writer.delete_by_term("id", doc_id)
            for doc_id in wanted:
                doc = _document(names, episodes[doc_id])
                if doc_id in stored:
                    writer.update_document(**doc)
                else:
                    writer.add_document(**doc)
            writer.commit()
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
    with _damage_tolerated():
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
    from whoosh.index import LockError

    try:
        return _SegmentWriter(ix, limitmb=256, compound=COMPOUND)
    except LockError as error:
        raise BuildError(f"the search index is locked by another process: {error}") from error


class _SegmentWriter(SegmentWriter):
    """whoosh's segment writer without two costs it pays for every posting (about a sixth
    of the indexing time): checking and sizing each one as it is pooled, and reading each
    document's field length back from disk while writing the postings."""

    def __init__(self, ix: index.Index, **options: Any) -> None:
        super().__init__(ix, **options)  # type: ignore[no-untyped-call]
        self.pool = _PostingPool(  # type: ignore[no-untyped-call]
            self._tempstorage, self.newsegment, limitmb=options.get("limitmb", 128)
        )

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        lengths = self.per_document_reader()  # type: ignore[no-untyped-call]
        try:
            postings = self.pool.iter_postings()  # type: ignore[no-untyped-call]
            self.fieldwriter.add_postings(self.schema, _Lengths(lengths, self.docnum), postings)
        finally:
            lengths.close()
        self.fieldwriter.close()


class _PostingPool(PostingPool):
    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        self.fieldnames.add(item[0])
        # whoosh's own estimate of the item's memory, less its type checks
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()  # type: ignore[no-untyped-call]
        self.current.append(item)


class _Lengths:
    """Each document's field lengths, read once per field into a list."""

    def __init__(self, reader: Any, doc_count: int) -> None:
        self._reader = reader
        self._doc_count = doc_count

    def doc_field_length_reader(self, fieldname: str) -> Any:
        read = self._reader.doc_field_length_reader(fieldname)
        return [read(docnum) for docnum in range(self._doc_count)].__getitem__


def _can_fork() -> bool:
    """Fork only where it exists and is safe: no other threads to leave in a bad state, and
    not from a daemon process, which may have no children."""
    import multiprocessing
    import threading

    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


def _write_fresh(ix: index.Index, episodes: list[Episode], names: _Names) -> None:
    """Write a fresh index as segments that each fit in memory, not merged (a search over a
    few segments costs about what it does over one). From BULK_DOCS episodes on, BULK_PROCS
    forked workers share the work; the episodes reach them through the fork, not pickled.
    This process holds the lock and writes the table of contents at the end."""
    owner = _writer(ix)
    try:
        if len(episodes) >= BULK_DOCS and _can_fork():
            segments = _segments_from_workers(ix, episodes, names)
        else:
            segments = _write_segments(ix, episodes, names)
    except BaseException:
        owner.cancel()
        raise
    owner._close_segment()  # the owner itself wrote no documents
    owner._commit_toc([*owner.segments, *segments])
    owner._finish()


def _segments_from_workers(ix: index.Index, episodes: list[Episode], names: _Names) -> list[Any]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = []
    try:
        for share in range(BULK_PROCS):
            receiving, sending = context.Pipe(duplex=False)
            worker = context.Process(
                target=_send_segments,
                args=(ix, episodes[share::BULK_PROCS], names, sending),
                name="devcasts-index-worker",
            )
            worker.start()
            sending.close()
            workers.append((worker, receiving))
        return [segment for _, receiving in workers for segment in receiving.recv()]
    except (EOFError, OSError) as error:  # a worker died before sending its segments
        raise BuildError(f"an index worker failed: {error or type(error).__name__}") from error
    finally:
        for worker, receiving in workers:
            worker.join()
            receiving.close()


def _send_segments(ix: index.Index, episodes: list[Episode], names: _Names, sending: Any) -> None:
    sending.send(_write_segments(ix, episodes, names))
    sending.close()


def _write_segments(ix: index.Index, episodes: list[Episode], names: _Names) -> list[Any]:
    """Segments holding `episodes`, a new one whenever the postings held in memory reach
    SEGMENT_BYTES: whoosh would otherwise sort them to disk in runs and merge those, which
    doubled the time of a 20,000-episode build when it happened."""
    segments = []
    writer = None
    for episode in episodes:
        if writer is None:
            writer = _SegmentWriter(ix, _lk=False, limitmb=BULK_LIMIT_MB, compound=COMPOUND)
        writer.add_document(**_document(names, episode))  # type: ignore[no-untyped-call]
        if writer.pool.currentsize >= SEGMENT_BYTES:
            segments.append(writer._finalize_segment())  # type: ignore[no-untyped-call]
            writer = None
    if writer is not None:
        segments.append(writer._finalize_segment())  # type: ignore[no-untyped-call]
    return segments


def _write_marker(index_dir: Path) -> None:
    _write_json(index_dir / MARKER_NAME, {"schema_version": SCHEMA_VERSION})


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    tmp.replace(path)


# --- searching ------------------------------------------------------------------------------


def search(index_dir: Path, request: SearchRequest) -> SearchResponse:
    """Run one search; raises QuerySyntaxError or IndexMissingError with a clear message."""
    schema = build_schema()
    parser = make_parser(schema)
    parsed = parse_query(parser, request.query)
    ix = _open_for_search(index_dir, schema)
    with _damage_tolerated():
        try:
            with ix.searcher(weighting=_BM25F()) as searcher:
                hits, total, exact = _run(searcher, parsed, request)
                if total or not request.query.strip():
                    return SearchResponse(hits, total, total_exact=exact)
                return _retry(searcher, parser, parsed, request)
        except (DevcastsError, TypeError, AttributeError, NameError):
            raise  # ours to report, or a bug to see, not a damaged index
        except Exception as error:  # a damaged segment shows up only when read
            failure = type(error).__name__
        del ix
        gc.collect()
    raise _unreadable(index_dir, failure)


class _BM25F(scoring.BM25F):
    """BM25F reading each segment's field lengths from disk once, in one read: whoosh reads
    a byte per scored document through ten calls, a fifth of the time of a search for
    common words. The lengths, and so the scores, are the same."""

    def __init__(self) -> None:
        super().__init__()
        self._lengths: dict[tuple[str, str], Callable[[int], int | None] | None] = {}

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> Any:
        scorer = super().scorer(searcher, fieldname, text, qf)
        if isinstance(scorer, scoring.BM25FScorer):
            reader = searcher.reader()
            segment = reader.segment() if isinstance(reader, SegmentReader) else None
            if segment is not None:
                key = (segment.segment_id(), fieldname)  # type: ignore[no-untyped-call]
                if key not in self._lengths:
                    self._lengths[key] = _field_lengths(reader, segment, fieldname)
                scorer.dfl = self._lengths[key] or scorer.dfl
        return scorer


def _field_lengths(reader: Any, segment: Any, fieldname: str) -> Callable[[int], int | None] | None:
    """docnum -> length of `fieldname` in one segment, as whoosh's doc_field_length gives it
    (None where no length was stored); None when the column cannot be read here."""
    try:
        name = reader.codec().column_filename(segment, f"_{fieldname}_len")
        storage = reader.storage()
        column = storage.open_file(name)
        try:
            stored = column.read(storage.file_length(name))
        finally:
            column.close()
    except (AttributeError, OSError):
        return None
    decoded = _decoded_lengths()

    def length(docnum: int) -> int | None:
        return decoded[stored[docnum]] if docnum < len(stored) else None

    return length


@functools.cache
def _decoded_lengths() -> list[int | None]:
    """Length byte -> field length; 0 means none stored."""
    from whoosh.util.numeric import byte_to_length

    return [None, *(byte_to_length(byte) for byte in range(1, 256))]


@contextlib.contextmanager
def _damage_tolerated() -> Iterator[None]:
    """whoosh leaves files open when it fails on a damaged index: failure branches inside
    this block call gc.collect() to close them, without a ResourceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def _open_for_search(index_dir: Path, schema: fields.Schema) -> index.Index:
    """The index, read with `schema` (the marker vouches that it is the one the index was
    written with) rather than unpickling the copy whoosh keeps in its table of contents."""
    version = read_marker(index_dir)
    if version is None or not _has_toc(index_dir):
        raise IndexMissingError(
            f"no search index in {index_dir}; build the site first (python build.py)"
        )
    if version != SCHEMA_VERSION:
        raise IndexMissingError(
            f"the search index in {index_dir} is from an older version; "
            "rebuild it with python build.py"
        )
    with _damage_tolerated():
        try:
            return index.open_dir(str(index_dir), indexname=INDEX_NAME, schema=schema)
        except Exception as error:
            failure = type(error).__name__
        gc.collect()
    raise _unreadable(index_dir, failure)


def _has_toc(index_dir: Path) -> bool:
    """Whether whoosh wrote a table of contents; cheaper than index.exists_in, which opens
    the whole index only to be opened again."""
    return any(index_dir.glob(f"_{INDEX_NAME}_*.toc"))


def _unreadable(index_dir: Path, failure: str) -> IndexMissingError:
    return IndexMissingError(
        f"the search index in {index_dir} cannot be read ({failure}); "
        "rebuild it with python build.py"
    )


def make_parser(schema: fields.Schema) -> QueryParser:
    from whoosh.qparser.default import MultifieldParser
    from whoosh.qparser.plugins import FieldAliasPlugin, FuzzyTermPlugin

    parser = MultifieldParser(list(FIELD_BOOSTS), schema, fieldboosts=FIELD_BOOSTS)
    parser.add_plugin(FieldAliasPlugin(FIELD_ALIASES))  # type: ignore[no-untyped-call]
    parser.add_plugin(FuzzyTermPlugin())  # type: ignore[no-untyped-call]
    return parser


_FIELD_PREFIX = re.compile(r"(?:^|[\s(])([A-Za-z_]+):(?!//)")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def parse_query(parser: QueryParser, text: str) -> Query:
    """Parse a user's query; an empty one matches every episode (for filter-only searches)."""
    from whoosh.query.qcore import Every

    if not text.strip():
        return Every()  # type: ignore[no-untyped-call]
    check_query_syntax(text)
    try:
        parsed: Query = parser.parse(text)
    except Exception as error:
        raise QuerySyntaxError(f"cannot read the query {text!r}: {error}") from error
    for node in _walk(parsed):
        message = getattr(node, "error", None)
        if message:
            raise QuerySyntaxError(f"cannot read the query {text!r}: {message}")
    return parsed


def check_query_syntax(text: str) -> None:
    """Reject what whoosh would silently misread, with a message that says how to fix it."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"the query is too long (over {MAX_QUERY_CHARS} characters)")
    if text.count('"') % 2:
        raise QuerySyntaxError('unbalanced quote: close the phrase with a second "')
    _check_parentheses(text)
    _check_operators(text)
    known = {*QUERY_FIELDS, *(a for aliases in FIELD_ALIASES.values() for a in aliases)}
    for match in _FIELD_PREFIX.finditer(_without_phrases(text)):
        name = match.group(1)
        if name.lower() not in known:
            raise QuerySyntaxError(
                f"unknown field {name!r} in the query; use one of: "
                + ", ".join(sorted(n for n in known if n not in {"tags"}))
            )


def _check_parentheses(text: str) -> None:
    depth = 0
    for char in _without_phrases(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QuerySyntaxError("a ')' closes a group that was never opened")
    if depth:
        raise QuerySyntaxError("unbalanced parenthesis: a '(' is never closed")


def _check_operators(text: str) -> None:
    tokens = re.findall(r"\(|\)|[^\s()]+", _without_phrases(text))
    previous = None
    for position, token in enumerate(tokens):
        if token in BINARY_OPERATORS and (previous is None or previous in OPERATORS | {"("}):
            raise QuerySyntaxError(f"{token} needs a word or phrase on its left")
        if token in OPERATORS and (position == len(tokens) - 1 or tokens[position + 1] == ")"):
            raise QuerySyntaxError(f"{token} needs a word or phrase on its right")
        previous = token


def _without_phrases(text: str) -> str:
    return re.sub(r'"[^"]*"', ' "x" ', text)


def _walk(node: Query) -> Iterator[Query]:
    yield node
    for child in node.children():
        yield from _walk(child)


def _filters(request: SearchRequest) -> Query | None:
    from whoosh.query.compound import And
    from whoosh.query.ranges import NumericRange
    from whoosh.query.terms import Term

    clauses: list[Query] = []
    if request.podcast:
        clauses.append(Term("podcast_slug", slugify(request.podcast)))
    if request.topic:
        clauses.append(Term("topics", request.topic.strip().lower()))
    if request.person:
        clauses.append(Term("person_slugs", slugify(request.person)))
    if request.lang:
        clauses.append(Term("lang", primary_language(request.lang)))
    if request.since or request.until:
        first = request.since.toordinal() if request.since else None
        last = request.until.toordinal() if request.until else None
        clauses.append(NumericRange("day", first, last))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else And(clauses)


_NEWEST = sorting.MultiFacet(
    [sorting.FieldFacet("published", reverse=True), sorting.FieldFacet("id")]
)
TIE_WINDOW = 20  # extra hits fetched so equal scores can be ordered by date, then id
EXACT_COUNT_UP_TO = 5000  # episodes; in bigger indexes broad queries report an estimate


def _run(searcher: Any, parsed: Query, request: SearchRequest) -> tuple[list[Hit], int, bool]:
    """The page of hits, the total and whether it is exact; the same order on every run."""
    from whoosh.query.qcore import Every

    limit = max(1, min(request.limit, 1000))
    only = _filters(request)
    if request.sort == "newest" or isinstance(parsed, Every):
        ranked = searcher.search(parsed, limit=limit, filter=only, sortedby=_NEWEST)
        docnums = [result.docnum for result in ranked]
        scores = _scores_of(searcher, parsed, docnums)
        picked = [(result, scores.get(result.docnum, 0.0)) for result in ranked]
    else:
        # A plain top-N search lets whoosh skip blocks that cannot make the cut.
        ranked = searcher.search(parsed, limit=limit + TIE_WINDOW, filter=only)
        picked = _break_ties(searcher, ranked)[:limit]
    notes_terms = _field_terms(parsed, "notes")
    summary_terms = notes_terms | _field_terms(parsed, "title")
    hits = [_hit(result, score, notes_terms, summary_terms) for result, score in picked]
    # Counting every match of a broad query in a big index costs a third of its time:
    # estimate instead.
    if ranked.has_exact_length() or len(hits) < limit or searcher.doc_count() <= EXACT_COUNT_UP_TO:
        return hits, len(ranked), True
    return hits, max(ranked.estimated_length(), len(hits)), False


def _break_ties(searcher: Any, ranked: Any) -> list[tuple[Any, float]]:
    """Hits by score, then newest first, then by id: the same order on every run. The date
    comes from a column (stored fields would load the notes); the id, whose column costs a
    read of every document's offset, only for hits tied on both."""
    published = searcher.reader().column_reader("published", translate=False)
    keyed = [
        ((-round(float(result.score), 4), -published[result.docnum]), result) for result in ranked
    ]
    tied = Counter(key for key, _ in keyed)
    keyed.sort(key=lambda pair: (pair[0], pair[1]["id"] if tied[pair[0]] > 1 else ""))
    return [(result, -key[0] + 0.0) for key, result in keyed]


def _scores_of(searcher: Any, parsed: Query, docnums: list[int]) -> dict[int, float]:
    """BM25F scores of a few documents, for hits ordered by date."""
    from whoosh.query.qcore import Every

    if not docnums or isinstance(parsed, Every):
        return {}
    scored = searcher.search(parsed, limit=len(docnums), filter=set(docnums))
    return {result.docnum: round(float(result.score), 4) + 0.0 for result in scored}


def _field_terms(parsed: Query, fieldname: str) -> frozenset[str]:
    words = set()
    for name, text in parsed.iter_all_terms():
        if name == fieldname:
            words.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return frozenset(words)


def _hit(
    result: Any, score: float, notes_terms: frozenset[str], summary_terms: frozenset[str]
) -> Hit:
    stored = result.fields()
    published: datetime = stored["published"]
    return Hit(
        id=stored["id"],
        title=stored["title"],
        podcast=stored["podcast"],
        podcast_slug=stored["podcast_slug"],
        published=published.replace(tzinfo=UTC),
        url=stored["url"],
        score=score,
        snippet=make_snippet(stored.get("notes", ""), stored.get("summary", ""), notes_terms)
        or make_snippet(stored.get("summary", ""), "", summary_terms),
        topics=tuple(t for t in stored.get("topics", "").split(",") if t),
        duration=stored.get("duration"),
        language=stored.get("language") or None,
    )


class _SegmentFormatter(highlight.Formatter):
    """Formats fragments as (text, is_match) segments instead of markup."""

    def format(self, fragments: Iterable[Any], replace: bool = False) -> Any:
        segments: list[Segment] = []
        for number, fragment in enumerate(fragments):
            if number:
                segments.append((" … ", False))
            position = fragment.startchar
            for token in sorted(fragment.matches, key=lambda t: t.startchar):
                if token.startchar < position:
                    continue
                segments.append((fragment.text[position : token.startchar], False))
                segments.append((fragment.text[token.startchar : token.endchar], True))
                position = token.endchar
            segments.append((fragment.text[position : fragment.endchar], False))
        return segments


_ANALYZER = StemmingAnalyzer()


def make_snippet(text: str, fallback: str, terms: frozenset[str]) -> tuple[Segment, ...]:
    """Up to two passages of `text` around the query's words; else the start of `fallback`."""
    segments: list[Segment] = []
    if text and terms:
        segments = highlight.highlight(  # type: ignore[assignment]
            text,
            terms,
            _ANALYZER,
            highlight.ContextFragmenter(maxchars=SNIPPET_CHARS // 2, surround=50),
            _SegmentFormatter(),
            top=2,
        )
    if not segments and fallback:
        segments = [(_shorten(fallback), False)]
    return tuple(_clean_segments(segments))


def _clean_segments(segments: Sequence[Segment]) -> Iterator[Segment]:
    for text, match in segments:
        flat = " ".join(text.split())
        if text[:1].isspace():
            flat = " " + flat
        if text[-1:].isspace() and flat.strip():
            flat += " "
        if flat:
            yield flat, match


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    return flat[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


# --- when nothing matches -------------------------------------------------------------------


def _retry(
    searcher: Any, parser: QueryParser, parsed: Query, request: SearchRequest
) -> SearchResponse:
    """Nothing matched: try the spelling the index suggests, then a fuzzy match."""
    suggestion = suggest_query(searcher.reader(), request.query)
    if suggestion:
        try:
            hits, total, exact = _run(searcher, parse_query(parser, suggestion), request)
        except QuerySyntaxError:
            hits, total, exact, suggestion = [], 0, True, None
        if total:
            return SearchResponse(hits, total, suggestion, corrected=True, total_exact=exact)
    fuzzy = _fuzzy(searcher.reader(), parsed)
    if fuzzy is not None:
        hits, total, exact = _run(searcher, fuzzy, request)
        if total:
            return SearchResponse(hits, total, suggestion, corrected=True, total_exact=exact)
    return SearchResponse([], 0, suggestion)


def suggest_query(reader: Any, text: str) -> str | None:
    """The query with each word the index does not know replaced by its closest known word."""
    changed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(0)
        stem = _stem(word)
        if word in OPERATORS or len(stem) < 3 or _known(reader, stem):
            return word
        better = _closest_term(reader, word.lower(), stem)
        surface = _surface_form(reader, better) if better else None
        if surface is None:
            return word
        changed = True
        return surface

    # Field names (`topic:`) are left alone: only the words after them are corrected.
    corrected = re.sub(r"(?<![\w:])" + _WORD.pattern + r"(?![\w:'’])", replace, text)
    return corrected if changed else None


# Suggestions come from the stemmed title and notes terms; a separate unstemmed spelling
# field would cost a third of the indexing time for a feature used only on empty results.
_SUGGEST_FIELDS = ("title", "notes")


def _stem(word: str) -> str:
    tokens = [t.text for t in _ANALYZER(word, mode="query", removestops=False)]
    return tokens[0] if len(tokens) == 1 else word.lower()


def _known(reader: Any, stem: str) -> bool:
    return any((name, stem) in reader for name in _SUGGEST_FIELDS)


def _closest_term(reader: Any, word: str, stem: str) -> str | None:
    """The indexed term nearest to the word (or its stem): fewest edits, then most used."""
    distances = (1,) if len(word) <= 4 else (1, 2)
    for distance in distances:
        for probe in dict.fromkeys((word, stem)):
            candidates: set[str] = set()
            for name in _SUGGEST_FIELDS:
                candidates.update(reader.terms_within(name, probe, distance, prefix=1))
            if candidates:
                return min(candidates, key=lambda c: (-_frequency(reader, c), c))
    return None


def _frequency(reader: Any, term: str) -> int:
    return sum(reader.doc_frequency(name, term) for name in _SUGGEST_FIELDS)


def _surface_form(reader: Any, stem: str) -> str | None:
    """A word as written in some episode whose stem is `stem` ('kubernet' -> 'kubernetes')."""
    for name in _SUGGEST_FIELDS:
        if (name, stem) not in reader:
            continue
        docnum = next(iter(reader.postings(name, stem).all_ids()))
        text = reader.stored_fields(docnum).get(name, "")
        for match in _WORD.finditer(text):
            if _stem(match.group(0)) == stem:
                return match.group(0).lower()
    return None


def _fuzzy(reader: Any, parsed: Query) -> Query | None:
    """The query with each term the index does not know widened to its close spellings."""
    from whoosh.query.terms import FuzzyTerm, Term
    from whoosh.query.wrappers import Not

    changed = False

    def widen(node: Query) -> Query:
        nonlocal changed
        if isinstance(node, Not):
            return node  # widening an exclusion would exclude more than was asked
        if type(node) is Term:
            if len(str(node.text)) >= 4 and (node.fieldname, node.text) not in reader:
                changed = True
                return FuzzyTerm(node.fieldname, node.text, boost=node.boost, maxdist=1)
            return node
        return node.apply(widen)

    widened = widen(parsed)
    return widened if changed else None
