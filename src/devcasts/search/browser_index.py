"""The in-browser search index: the search index's own terms, in small files the browser
fetches only as a query needs them.

`static/search.js` ranks with the formula the terminal's whoosh search uses (BM25F over the
same fields, weights, analyzers and statistics), so both give the same answers; the files
here hold what that needs and nothing more. A query fetches `meta.json`, one or two term
shards per word and the documents of the results it shows: a few dozen kilobytes, whatever
the size of the archive.

Files, under `site/search-index/`:

- `meta.json`: the format, the documents' count, the fields (weight, stemmed, stop words),
  BM25's constants and average field lengths, whoosh's table of field lengths, the shards'
  prefixes (and the longest a prefix may be) and the vocabulary's file names, the podcasts
  and topics, and `token` (a digest of every other file, added to their URLs so a browser
  never mixes two builds).
- `t/<prefix>.bin`: the postings of every (field, term) whose term starts with the prefix.
  Prefixes start at one character and grow (up to MAX_PREFIX) while a shard is over
  SHARD_BYTES. Each record: term (UTF-8, length first), then per field: its number,
  document frequency, last document's number and the postings' length in bytes (an update
  appends to the postings, or steps over them, without reading them), then per document:
  the gap from the previous document number, the term's frequency and whoosh's one-byte code
  of the field's length (all numbers LEB128 varints).
- `v/<first character>.json`: the title and notes terms with their document frequency (and
  the word most often written for a stem): the vocabulary typo corrections come from,
  fetched only when a word is unknown.
- `d/<n>.json`: documents n*CHUNK_DOCS onwards, as the results list shows them.
- `facets.bin`: each document's podcast (uint16, little endian), then a bitset per topic:
  the filters' counts for any query.
- `entities.json`: the shows, people and topics, found by name above the episodes.

The two binary kinds, shards and facets, are stored compressed (`DEFLATE_LEVEL`, zlib's
format, which the browser's `DecompressionStream("deflate")` reads): postings are runs of
small numbers, and a common word's take a half to a third of their bytes compressed (real
notes; a third of a megabyte each at 100,000 episodes). GitHub Pages compresses JSON on the
way but sends these as stored.

Documents are numbered oldest first (undated first), so "newest first" is the reverse of
the document numbers, and a new episode usually takes the next number: the files of the
older ones do not change.

A build updates the files rather than rebuilding them (`update_browser_index`): from the
previous build's state (browser_state.py) and files, the documents from the first one whose
fingerprint changed on are indexed again, only the shards, vocabulary files and document
chunks they touch are read and rewritten, and the result is byte for byte what a build from
scratch (`build_browser_index`) writes. The word shown for a stem is the one written in the
term's lowest-numbered document, so that it never needs the others.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from whoosh.analysis.filters import STOP_WORDS
from whoosh.util.numeric import byte_to_length, length_to_byte

from devcasts.records import Catalog, Episode
from devcasts.search.browser_state import IndexState, ShardInfo
from devcasts.search.marker import SCHEMA_VERSION
from devcasts.search.schema import (
    BM25_B,
    BM25_K1,
    FIELD_BOOSTS,
    FastText,
    build_schema,
    field_terms,
    field_words,
)
from devcasts.search.writer import (
    DocumentNames,
    episode_document,
)
from devcasts.site import filters, pages, urls
from devcasts.util.links import public_url

FORMAT_VERSION = 3  # 2: shards and facets stored as they are; 1: postings without their
# last document and length
# zlib's fastest: 4 % larger than level 6 on real shards; on the benchmark's, a seventh of the time
DEFLATE_LEVEL = 1
CHUNK_DOCS = 8  # documents per file: the first ten results need at most ten small files
SHARD_BYTES = 24_000  # a shard over this is split by one more character of its prefix
# Characters; past it a shard holds what it holds. Long enough that a common word's postings
# (a third of a megabyte at 100,000 episodes) do not share a file with its neighbours' ("build"
# beside "built", "week" beside "weekly"), which a search for either would fetch whole.
MAX_PREFIX = 8
SUMMARY_CHARS = 200
VOCABULARY_FIELDS = ("title", "notes")  # as the terminal's suggestions (searcher.py)
FIELDS = tuple(FIELD_BOOSTS)
END_OF_TERM = 0xFF  # after a term's last field


@dataclass(frozen=True, slots=True)
class BrowserIndex:
    files: dict[str, bytes]  # site-relative path -> content
    documents: int
    postings: int
    seconds: float
    state: IndexState | None = None  # what the next update starts from

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    """An update's files: `written` to write, `kept` as the previous build left them (every
    other file of the previous build is gone)."""

    written: dict[str, bytes]
    kept: list[str]
    state: IndexState
    rebuilt: bool
    reason: str  # why it was built from scratch ("" when it was not)
    readded: int  # documents tokenized by this update
    postings: int  # their postings
    seconds: float


Read = Callable[[str], "bytes | None"]


class _Unusable(Exception):
    """The previous build's files cannot be trusted: build from scratch."""


def build_browser_index(catalog: Catalog, images: Mapping[str, str] | None = None) -> BrowserIndex:
    """The index's files; `images`: episode id -> the site path of its cover's small copy
    (site/artwork.py), shown beside each result."""
    started = time.perf_counter()
    update = update_browser_index(catalog, images or {}, None, lambda _path: None)
    return BrowserIndex(
        files=update.written,
        documents=len(update.state.ids),
        postings=update.postings,
        seconds=round(time.perf_counter() - started, 3),
        state=update.state,
    )


def update_browser_index(
    catalog: Catalog,
    images: Mapping[str, str],
    previous: IndexState | None,
    read: Read,
) -> IndexUpdate:
    """The files of `catalog`'s index, the same bytes a build from scratch writes, from the
    previous build's `state` and files (`read`: a site path -> its bytes, None when missing).
    Only the documents from the first one that changed on are tokenized again."""
    started = time.perf_counter()
    episodes = documents_in_order(catalog.episodes)
    names = DocumentNames.of(catalog)
    prints = [_document_print(episode) for episode in episodes]
    ids = [episode.id for episode in episodes]
    lists = _lists(catalog)
    reason, first = _reason_to_rebuild(previous, ids, prints, lists, _settings(catalog))
    if previous is not None and not reason:
        try:
            build = _Build(catalog, episodes, names, images, previous, _checked(previous, read))
            return build.run(first, prints, lists, started)
        except _Unusable as problem:
            reason = str(problem)
    build = _Build(catalog, episodes, names, images, None, _checked(None, read))
    update = build.run(0, prints, lists, started)
    return replace(update, rebuilt=True, reason=reason or "no previous index")


def _lists(catalog: Catalog) -> tuple[list[list[str]], list[list[str]]]:
    podcasts = [[p.slug, p.title] for p in catalog.podcasts]
    return podcasts, [[t.slug, t.name] for t in catalog.topics]


def _settings(catalog: Catalog) -> list[object]:
    return [
        FORMAT_VERSION,
        SCHEMA_VERSION,
        CHUNK_DOCS,
        SHARD_BYTES,
        MAX_PREFIX,
        SUMMARY_CHARS,
        DEFLATE_LEVEL,
        zlib.ZLIB_RUNTIME_VERSION,  # another zlib may compress the same bytes differently
        catalog.site.base_url,
    ]


def _document_print(episode: Episode) -> str:
    """Changes whenever the episode's document or its row would, the podcasts, topics and
    site URL staying the same (a change to those means a build from scratch): the record's
    own fingerprint, which the archive's decoded cache keeps."""
    return episode.fingerprint[:16]


def _reason_to_rebuild(
    previous: IndexState | None,
    ids: list[str],
    prints: list[str],
    lists: tuple[list[list[str]], list[list[str]]],
    settings: list[object],
) -> tuple[str, int]:
    """Why the index must be built from scratch ("" when it need not), and the first document
    that changed."""
    if previous is None:
        return "no previous index", 0
    if previous.settings != settings:
        return "the index's format or the site's URL changed", 0
    if (previous.podcasts, previous.topics) != lists:
        return "the podcasts or topics changed", 0
    first, common = 0, min(len(previous.ids), len(ids))
    old_ids, old_prints = previous.ids, previous.prints
    while first < common and old_ids[first] == ids[first] and old_prints[first] == prints[first]:
        first += 1
    changed = max(len(ids), len(previous.ids)) - first
    if changed > max(CHUNK_DOCS, len(ids) * REBUILD_FRACTION):
        return f"{changed} documents changed", 0
    return "", first


def _checked(previous: IndexState | None, read: Read) -> Callable[[str], bytes]:
    """`read`, refusing a file that is not the one the previous build wrote."""

    def checked(path: str) -> bytes:
        expected = previous.files.get(path) if previous else None
        data = read(path) if expected else None
        if data is None or hashlib.sha256(data).hexdigest() != expected:
            raise _Unusable(f"{path} is missing or not as the last build wrote it")
        return data

    return checked


class _Build:
    """One update: the documents from `first` on are tokenized, the shards holding any of
    them or their terms are decoded, and every other file is kept."""

    def __init__(
        self,
        catalog: Catalog,
        episodes: list[Episode],
        names: DocumentNames,
        images: Mapping[str, str],
        previous: IndexState | None,
        read: Callable[[str], bytes],
    ) -> None:
        self.catalog = catalog
        self.episodes = episodes
        self.names = names
        self.images = images
        self.previous = previous
        self.read = read
        self.written: dict[str, bytes] = {}
        self.kept: list[str] = []
        self.digests: dict[str, str] = {}
        # A changed term's title and notes documents: (how many, the lowest numbered).
        self.vocabulary: dict[str, tuple[int, int]] = {}
        self.postings = 0  # postings of the documents tokenized
        self.lasts = _Lasts()

    def run(
        self,
        first: int,
        prints: list[str],
        lists: tuple[list[list[str]], list[list[str]]],
        started: float,
    ) -> IndexUpdate:
        previous = self.previous
        postings, lengths, surface = _postings(self.names, self.episodes[first:], first)
        width = len(FIELDS)
        all_lengths = (previous.lengths[: first * width] if previous else []) + lengths
        old_shards = previous.shards if previous else {}
        touched, terms, records = self._changed_terms(first, postings, old_shards)
        untouched = {p: info for p, info in old_shards.items() if p not in touched}
        layout = _Layout(records, self.lasts, untouched, self._load)
        shards = layout.place_all()
        self._write_shards(shards, records, layout)
        vocabulary = self._write_vocabulary(first, terms, surface)
        self._write_documents(first)
        podcasts = [p.slug for p in self.catalog.podcasts]
        topics = [t.slug for t in self.catalog.topics]
        self._write(_path("facets.bin"), _deflated(_facets(self.episodes, podcasts, topics)))
        self._write(_path("entities.json"), _json(_entities(self.catalog)))
        totals = [sum(all_lengths[field::width]) for field in range(width)]
        meta = _meta(self.catalog, len(self.episodes), totals, shards, vocabulary, self.digests)
        self._write(_path("meta.json"), _json(meta))
        state = IndexState(
            settings=_settings(self.catalog),
            podcasts=lists[0],
            topics=lists[1],
            ids=[episode.id for episode in self.episodes],
            prints=prints,
            lengths=all_lengths,
            images={e.id: self.images[e.id] for e in self.episodes if self.images.get(e.id)},
            shards=shards,
            files=self.digests,
        )
        return IndexUpdate(
            written=self.written,
            kept=sorted(self.kept),
            state=state,
            rebuilt=False,
            reason="",
            readded=len(self.episodes) - first,
            postings=self.postings,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _write(self, path: str, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        self.digests[path] = digest
        if self.previous is not None and self.previous.files.get(path) == digest:
            self.kept.append(path)
        else:
            self.written[path] = data

    def _keep(self, path: str) -> None:
        assert self.previous is not None
        self.digests[path] = self.previous.files[path]
        self.kept.append(path)

    def _load(self, prefix: str) -> dict[str, Scanned]:
        return _scan_shard(_inflated(self.read(_shard_path(prefix))))

    # --- postings

    def _changed_terms(
        self, first: int, postings: Postings, old_shards: Mapping[str, ShardInfo]
    ) -> tuple[set[str], set[str], dict[str, bytes]]:
        """The shards holding a document from `first` on or a new document's term; the terms
        whose postings changed; the records and last documents of those shards' terms. A
        term gets its new postings appended to its record's bytes when it has no document
        from `first` on; otherwise it is decoded and encoded again."""
        touched = {prefix for prefix, info in old_shards.items() if info.last >= first}
        added_to: dict[str, Fields] = defaultdict(dict)
        for (term, field), docs in postings.items():
            added_to[term][field] = docs
            prefix = _shard_of(old_shards, term)
            if prefix is not None:
                touched.add(prefix)
        changed = set(added_to)
        records: dict[str, bytes] = {}
        last = self.lasts.known
        for prefix in sorted(touched):
            scanned = self._load(prefix)
            grows = old_shards[prefix].last < first  # its records stay; some grow
            if grows:
                self.lasts.note_shard(prefix, old_shards[prefix].last, scanned)
            for term, (record, sections) in scanned.items():
                added = added_to.pop(term, {})
                if grows:
                    if added:
                        records[term] = _appended(record, sections, added)
                        last[term] = max(_last_doc(docs) for docs in added.values())
                        self.vocabulary[term] = _vocabulary_summary(sections, added)
                    else:
                        records[term] = record
                    continue
                changed.add(term)
                fields: Fields = {}
                for field, section in sections.items():
                    previous = _read_postings(record, section.at)[0]
                    kept = [doc for doc in previous if doc[0] < first]
                    kept.extend(added.pop(field, []))
                    if kept:
                        fields[field] = kept
                fields.update(added)
                self._note(term, fields, records)
        for term, fields in added_to.items():  # no previous shard holds them
            self._note(term, fields, records)
        self.postings = sum(len(docs) for docs in postings.values())
        return touched, changed, records

    def _note(self, term: str, fields: Fields, records: dict[str, bytes]) -> None:
        if not fields:
            return
        records[term] = _record(term, fields)
        self.lasts.known[term] = max(_last_doc(docs) for docs in fields.values())
        lists = [fields[f] for f in _VOCABULARY_NUMBERS if f in fields]
        if lists:
            self.vocabulary[term] = (sum(map(len, lists)), min(_first_doc(d) for d in lists))

    def _write_shards(
        self,
        shards: dict[str, ShardInfo],
        records: dict[str, bytes],
        layout: _Layout,
    ) -> None:
        for prefix in sorted(shards):
            terms = layout.terms[prefix]
            if terms is None:
                self._keep(_shard_path(prefix))
            else:
                self._write(_shard_path(prefix), _deflated(_shard(records, terms)))

    # --- vocabulary

    def _write_vocabulary(self, first: int, terms: set[str], surface: dict[str, str]) -> list[str]:
        """The vocabulary files of the first characters of `terms`, updated; the others kept.
        The characters that have a file."""
        previous = self.previous
        by_first: dict[str, set[str]] = defaultdict(set)
        for term in terms:
            by_first[term[:1]].add(term)
        have: list[str] = []
        if previous is not None:
            for path in previous.files:
                key = _vocabulary_key(path)
                if key is not None and key not in by_first:
                    self._keep(path)
                    have.append(key)
        for key, changed in by_first.items():
            path = _vocabulary_path(key)
            entries: dict[str, list[object]] = {}
            if previous is not None and path in previous.files:
                entries = {str(e[0]): e for e in json.loads(self.read(path))}
            for term in changed:
                entry = self._vocabulary_entry(term, first, entries.get(term), surface)
                if entry is None:
                    entries.pop(term, None)
                else:
                    entries[term] = entry
            if entries:
                self._write(path, _json([entries[t] for t in sorted(entries)]))
                have.append(key)
        return sorted(have)

    def _vocabulary_entry(
        self, term: str, first: int, old: list[object] | None, surface: dict[str, str]
    ) -> list[object] | None:
        frequency, lowest = self.vocabulary.get(term, (0, -1))
        if not frequency:
            return None
        if lowest < first:  # the word as written comes from a document kept as it was
            if old is None:
                raise _Unusable(f"the vocabulary has no entry for {term!r}")
            written = str(old[2]) if len(old) > 2 else term
        else:
            written = surface.get(term, term)
        entry: list[object] = [term, frequency]
        if written != term:
            entry.append(written)
        return entry

    # --- documents

    def _write_documents(self, first: int) -> None:
        """The chunks holding a document from `first` on, or one whose cover changed."""
        previous = self.previous
        count = len(self.episodes)
        chunks = (count + CHUNK_DOCS - 1) // CHUNK_DOCS
        redo = set(range(first // CHUNK_DOCS, chunks))
        if previous is not None:  # covers: only the newest episodes' rows show one
            number_of = {episode.id: n for n, episode in enumerate(self.episodes[:first])}
            for episode_id in previous.images.keys() | self.images.keys():
                number = number_of.get(episode_id)
                old, new = previous.images.get(episode_id, ""), self.images.get(episode_id, "")
                if number is not None and old != new:
                    redo.add(number // CHUNK_DOCS)
        podcast_number = {p.slug: n for n, p in enumerate(self.catalog.podcasts)}
        topic_number = {t.slug: n for n, t in enumerate(self.catalog.topics)}
        for chunk in range(chunks):
            path = _path(f"d/{chunk}.json")
            if chunk not in redo:
                self._keep(path)
                continue
            rows = [
                _document(episode, podcast_number, topic_number, self.images)
                for episode in self.episodes[chunk * CHUNK_DOCS : (chunk + 1) * CHUNK_DOCS]
            ]
            self._write(path, _json(rows))


REBUILD_FRACTION = 0.25  # more documents than this share changed: build from scratch
_VOCABULARY_NUMBERS = tuple(FIELDS.index(name) for name in VOCABULARY_FIELDS)


def documents_in_order(episodes: Sequence[Episode]) -> list[Episode]:
    """Oldest first, undated before the oldest: the catalog's order (newest first, undated
    last) reversed, so a document's number orders it by date."""
    return list(reversed(episodes))


def _path(name: str) -> str:
    return urls.search_index(name)


# --- postings ---------------------------------------------------------------------------------

Posting = tuple[int, int, int]  # (document, frequency, length code)


class PostingList:
    """A term's postings in one field, by document, kept encoded as a shard holds them (gap,
    frequency, length code: three bytes for most) rather than a tuple each: a build from
    scratch holds every posting of the archive at once, tens of millions at 100,000 episodes,
    which as tuples took about a gigabyte."""

    __slots__ = ("_count", "_first", "_rest", "last")

    def __init__(self, doc: int, frequency: int, code: int) -> None:
        self._first: Posting = (doc, frequency, code)
        self._rest = bytearray()  # the postings after the first, each from the one before
        self._count = 1
        self.last = doc

    @property
    def first(self) -> int:
        return self._first[0]

    def append(self, doc: int, frequency: int, code: int) -> None:
        gap = doc - self.last
        if gap < 0x80 and frequency < 0x80:
            self._rest += bytes((gap, frequency, code))
        else:
            self._rest += _varint(gap) + _varint(frequency)
            self._rest.append(code)
        self._count += 1
        self.last = doc

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Posting]:
        yield self._first
        data, at, doc = self._rest, 0, self._first[0]
        while at < len(data):
            gap, at = _read_varint(data, at)
            frequency, at = _read_varint(data, at)
            doc += gap
            yield (doc, frequency, data[at])
            at += 1

    def encode_into(self, out: bytearray, previous: int) -> None:
        """What `_encode_postings` writes for these postings after document `previous`."""
        _encode_postings(out, [self._first], previous)
        out += self._rest


Docs = PostingList | list[Posting]
Fields = dict[int, Docs]  # field number -> postings by document
Postings = dict[tuple[str, int], PostingList]  # (term, field number) -> postings


def _first_doc(docs: Docs) -> int:
    return docs.first if isinstance(docs, PostingList) else docs[0][0]


def _last_doc(docs: Docs) -> int:
    return docs.last if isinstance(docs, PostingList) else docs[-1][0]


def _postings(
    names: DocumentNames, episodes: Sequence[Episode], first: int
) -> tuple[Postings, list[int], dict[str, str]]:
    """Every field's terms of the documents numbered from `first`, as the search index holds
    them; each document's field lengths (whoosh's average field length is their total over
    the document count); and the vocabulary's terms as readers write them: the word of the
    term's lowest-numbered document ("kubernet" -> "kubernetes")."""
    schema = build_schema()
    postings: Postings = {}
    lengths: list[int] = []
    surface: dict[str, str] = {}
    for number, episode in enumerate(episodes, first):
        document = episode_document(names, episode)
        row = []
        written: Counter[tuple[str, str]] = Counter()
        for field_number, name in enumerate(FIELDS):
            text = document.get(name) or ""
            field = schema[name]
            if name in VOCABULARY_FIELDS and isinstance(field, FastText):
                words = field_words(field, text)
                written.update(words)
                counts: Counter[str] = Counter()
                for (_word, term), count in words.items():
                    counts[term] += count
            else:
                counts = field_terms(field, text)
            length = sum(counts.values())
            row.append(length)
            code = length_to_byte(length)
            for term, count in counts.items():
                known = postings.get((term, field_number))
                if known is None:
                    postings[(term, field_number)] = PostingList(number, count, code)
                else:
                    known.append(number, count, code)
        lengths += row
        _note_surface_forms(surface, written)
    return postings, lengths, surface


def _note_surface_forms(surface: dict[str, str], written: Counter[tuple[str, str]]) -> None:
    """Adds the terms `surface` lacks: each the word written most often for it in this
    document (ties: the first alphabetically)."""
    best: dict[str, tuple[int, str]] = {}
    for (word, term), count in written.items():
        if term in surface:
            continue
        known = best.get(term)
        if known is None or (-count, word) < (-known[0], known[1]):
            best[term] = (count, word)
    for term, (_count, word) in best.items():
        surface[term] = word


def _record(term: str, fields: Fields) -> bytes:
    """A term's record: the term, then each field's postings, in field order."""
    encoded = term.encode("utf-8")
    out = bytearray(_varint(len(encoded)) + encoded)
    for field_number in sorted(fields):
        docs = fields[field_number]
        out.append(field_number)
        out += _varint(len(docs)) + _varint(_last_doc(docs))
        _append_sized(out, _postings_bytes(docs, 0))
    out.append(END_OF_TERM)
    return bytes(out)


def _postings_bytes(docs: Docs, previous: int) -> bytearray:
    out = bytearray()
    _encode_postings(out, docs, previous)
    return out


def _append_sized(out: bytearray, data: bytes | bytearray) -> None:
    out += _varint(len(data))
    out += data


def _encode_postings(out: bytearray, docs: Docs, previous: int) -> None:
    if isinstance(docs, PostingList):
        docs.encode_into(out, previous)
        return
    for doc, count, code in docs:
        gap = doc - previous
        if gap < 0x80 and count < 0x80:
            out += bytes((gap, count, code))
        else:
            out += _varint(gap)
            out += _varint(count)
            out.append(code)
        previous = doc


@dataclass(frozen=True, slots=True)
class Section:
    """One field's postings in a record: `at` its count's offset, `body` and `end` the
    postings' bytes, `first` and `last` their documents."""

    at: int
    count: int
    body: int
    end: int
    first: int
    last: int


Scanned = tuple[bytes, dict[int, Section]]  # a record, and its fields' postings


def _scan_shard(data: bytes) -> dict[str, Scanned]:
    """term -> its record and where each field's postings are in it, from a shard file."""
    if data[:4] != SHARD_MAGIC:
        raise _Unusable("a term shard is not in the expected format")
    found: dict[str, Scanned] = {}
    try:
        count, at = _read_varint(data, 4)
        for _ in range(count):
            term, sections, end = _scan_record(data, at)
            found[term] = (data[at:end], sections)
            at = end
    except (IndexError, UnicodeDecodeError) as error:
        raise _Unusable("a term shard is damaged") from error
    return found


def _scan_record(data: bytes, start: int) -> tuple[str, dict[int, Section], int]:
    size, at = _read_varint(data, start)
    term = data[at : at + size].decode("utf-8")
    at += size
    sections: dict[int, Section] = {}
    while (field_number := data[at]) != END_OF_TERM:
        at += 1
        count, after_count = _read_varint(data, at)
        last, after_last = _read_varint(data, after_count)
        size, body = _read_varint(data, after_last)
        end = body + size
        if end > len(data) - 1:  # the postings and at least the record's end
            raise IndexError("postings past the shard's end")
        first = _read_varint(data, body)[0] if count else 0
        sections[field_number] = Section(at - start, count, body - start, end - start, first, last)
        at = end
    return term, sections, at + 1


class _Lasts:
    """Each term's last document: known, or shared with the previous shard the term's record
    was taken from unchanged (that shard's last document is the highest of its terms')."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.origin: dict[str, str] = {}  # term -> the previous shard its record is from
        self.terms_of: dict[str, int] = {}  # previous shard -> its terms
        self.last_of: dict[str, int] = {}  # previous shard -> its last document

    def note_shard(self, prefix: str, last: int, scanned: Mapping[str, Scanned]) -> None:
        for term in scanned:
            self.origin[term] = prefix
        self.terms_of[prefix] = len(scanned)
        self.last_of[prefix] = last

    def highest(self, terms: list[str], records: Mapping[str, bytes]) -> int:
        """The last document of a shard of `terms`."""
        found = [self.known[t] for t in terms if t in self.known]
        origins = Counter(self.origin[t] for t in terms if t in self.origin)
        for prefix, count in origins.items():
            if count == self.terms_of[prefix]:
                found.append(self.last_of[prefix])
                continue
            for term in terms:  # split apart: each record's own last document
                if self.origin.get(term) == prefix and term not in self.known:
                    _term, sections, _end = _scan_record(records[term], 0)
                    found.append(max(section.last for section in sections.values()))
        return max(found)


def _appended(record: bytes, sections: dict[int, Section], added: Fields) -> bytes:
    """`record` with the postings `added` after its own: the bytes `_record` gives for both."""
    head = min((section.at for section in sections.values()), default=len(record) - 1) - 1
    out = bytearray(record[:head])
    for field_number in sorted(sections.keys() | added.keys()):
        section, docs = sections.get(field_number), added.get(field_number, [])
        out.append(field_number)
        if section is None:
            out += _varint(len(docs)) + _varint(_last_doc(docs))
            _append_sized(out, _postings_bytes(docs, 0))
        else:
            last = _last_doc(docs) if docs else section.last
            out += _varint(section.count + len(docs)) + _varint(last)
            postings = record[section.body : section.end] + _postings_bytes(docs, section.last)
            _append_sized(out, postings)
    out.append(END_OF_TERM)
    return bytes(out)


def _vocabulary_summary(sections: dict[int, Section], added: Fields) -> tuple[int, int]:
    """(title and notes documents, the lowest numbered) of a term whose postings grew: its
    previous documents all come before the added ones."""
    count, firsts = 0, []
    for field_number in _VOCABULARY_NUMBERS:
        section, docs = sections.get(field_number), added.get(field_number, [])
        count += (section.count if section else 0) + len(docs)
        if section is not None:
            firsts.append(section.first)
        elif docs:
            firsts.append(_first_doc(docs))
    return count, min(firsts, default=-1)


def _read_postings(data: bytes, at: int) -> tuple[list[Posting], int]:
    """The postings of the field whose count is at `at`, and where they end."""
    count, at = _read_varint(data, at)
    _last, at = _read_varint(data, at)
    _size, at = _read_varint(data, at)
    docs: list[Posting] = []
    doc = 0
    for _ in range(count):
        gap, at = _read_varint(data, at)
        doc += gap
        frequency, at = _read_varint(data, at)
        docs.append((doc, frequency, data[at]))
        at += 1
    return docs, at


def _read_varint(data: bytes | bytearray, at: int) -> tuple[int, int]:
    byte = data[at]
    if byte < 0x80:
        return byte, at + 1
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _varint(number: int) -> bytes:
    if number < 0x80:
        return _SMALL[number]
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


_SMALL = [bytes([n]) for n in range(0x80)]
SHARD_MAGIC = b"DCT2"


# --- the shards' layout -----------------------------------------------------------------------


class _Layout:
    """The prefixes a build from scratch gives the terms: a group of terms over SHARD_BYTES is
    split by one more character (up to MAX_PREFIX). Decided from the sizes of the previous
    shards, `opaque`, and the `records` of the changed terms; a previous shard is decoded
    (`load`) only when a group that holds it is merged or split."""

    def __init__(
        self,
        records: dict[str, bytes],
        lasts: _Lasts,
        opaque: Mapping[str, ShardInfo],
        load: Callable[[str], dict[str, Scanned]],
    ) -> None:
        self.records = records
        self.lasts = lasts
        self.opaque = dict(opaque)
        self.load_shard = load
        self.shards: dict[str, ShardInfo] = {}
        self.terms: dict[str, list[str] | None] = {}  # prefix -> its terms; None: kept

    def place_all(self) -> dict[str, ShardInfo]:
        terms: dict[str, list[str]] = defaultdict(list)
        for term in sorted(self.records):
            terms[term[:1]].append(term)
        units: dict[str, list[str]] = defaultdict(list)
        for prefix in sorted(self.opaque):
            units[prefix[:1]].append(prefix)
        for first in sorted(terms.keys() | units.keys()):
            self._place(first, terms.get(first, []), units.get(first, []))
        return self.shards

    def _size(self, terms: list[str], units: list[str]) -> int:
        return sum(len(self.records[t]) for t in terms) + sum(self.opaque[u].size for u in units)

    def _load(self, terms: list[str], units: list[str]) -> list[str]:
        """`terms` and the terms of the previous shards `units`, decoded."""
        more = []
        for unit in units:
            info = self.opaque.pop(unit)
            scanned = self.load_shard(unit)
            self.lasts.note_shard(unit, info.last, scanned)
            for term, (record, _sections) in scanned.items():
                self.records[term] = record
                more.append(term)
        return sorted(terms + more) if more else terms

    def _emit(self, prefix: str, terms: list[str], own: bool) -> None:
        self.terms[prefix] = terms
        self.shards[prefix] = ShardInfo(
            sum(len(self.records[t]) for t in terms), self.lasts.highest(terms, self.records), own
        )

    def _keep(self, prefix: str) -> None:
        self.terms[prefix] = None
        self.shards[prefix] = self.opaque[prefix]

    def _place(self, prefix: str, terms: list[str], units: list[str]) -> None:
        if self._size(terms, units) <= SHARD_BYTES or len(prefix) >= MAX_PREFIX:
            if not terms and units == [prefix] and not self.opaque[prefix].own:
                self._keep(prefix)
            else:
                self._emit(prefix, self._load(terms, units), own=False)
            return
        if prefix in units and not self.opaque[prefix].own:  # a shard to split now
            units = [u for u in units if u != prefix]
            terms = self._load(terms, [prefix])
        size = len(prefix)
        own = [t for t in terms if len(t) == size]
        if prefix in units and not own:
            self._keep(prefix)
        elif own or prefix in units:
            self._emit(prefix, self._load(own, [prefix] if prefix in units else []), own=True)
        by_next: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
        for term in terms:
            if len(term) > size:
                by_next[term[: size + 1]][0].append(term)
        for unit in units:
            if len(unit) > size:
                by_next[unit[: size + 1]][1].append(unit)
        for longer in sorted(by_next):
            group_terms, group_units = by_next[longer]
            self._place(longer, group_terms, group_units)


def _shard_of(shards: Mapping[str, object], term: str) -> str | None:
    """The browser's rule: the longest prefix of the term that has a shard."""
    for size in range(min(len(term), MAX_PREFIX), 0, -1):
        if term[:size] in shards:
            return term[:size]
    return None


def _shard(records: dict[str, bytes], terms: Iterable[str]) -> bytes:
    ordered = sorted(terms)
    return SHARD_MAGIC + _varint(len(ordered)) + b"".join(records[t] for t in ordered)


def _deflated(data: bytes) -> bytes:
    """A binary file as the site stores it (the module's docstring says why)."""
    return zlib.compress(data, DEFLATE_LEVEL)


def _inflated(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error as error:
        raise _Unusable("a term shard is damaged") from error


def _file_key(prefix: str) -> str:
    """A file name for a prefix: letters and digits as they are, anything else as _hex."""
    return "".join(
        char if char.isascii() and char.isalnum() else f"_{ord(char):x}" for char in prefix
    )


def _shard_path(prefix: str) -> str:
    return _path(f"t/{_file_key(prefix)}.bin")


# --- vocabulary -------------------------------------------------------------------------------


def _vocabulary_path(first: str) -> str:
    return _path(f"v/{_file_key(first)}.json")


def _vocabulary_key(path: str) -> str | None:
    """The first character a vocabulary file is for (None: not a vocabulary file)."""
    folder = _path("v/")
    if not path.startswith(folder) or not path.endswith(".json"):
        return None
    key = path[len(folder) : -len(".json")]
    if key.startswith("_"):
        return chr(int(key[1:], 16))
    return key


# --- documents, facets, entities --------------------------------------------------------------


def _chunks(
    episodes: Sequence[Episode],
    podcasts: list[str],
    topics: list[str],
    images: Mapping[str, str],
) -> Iterable[list[list[object]]]:
    podcast_number = {slug: n for n, slug in enumerate(podcasts)}
    topic_number = {slug: n for n, slug in enumerate(topics)}
    for first in range(0, len(episodes), CHUNK_DOCS):
        yield [
            _document(episode, podcast_number, topic_number, images)
            for episode in episodes[first : first + CHUNK_DOCS]
        ]


def _document(
    episode: Episode,
    podcast_number: dict[str, int],
    topic_number: dict[str, int],
    images: Mapping[str, str],
) -> list[object]:
    """[path, title, podcast, date, duration, summary, topics, image], as the results list
    shows (image: "" when the site has no cover for it), and the audio's URL when it is one
    the pages may link to (a result's play button)."""
    published = filters.published_on(episode)
    document: list[object] = [
        urls.episode(episode),
        episode.title,
        podcast_number.get(episode.podcast, -1),
        filters.human_date(published) if published else "date unknown",
        filters.human_duration(episode.duration),
        _shorten(episode.summary),
        [topic_number[t] for t in dict.fromkeys(episode.topics) if t in topic_number],
        images.get(episode.id, ""),
    ]
    audio = public_url(episode.enclosure.url) if episode.enclosure else None
    if audio:
        document.append(audio)
    return document


def _shorten(text: str) -> str:
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "\u2026"


def _facets(episodes: Sequence[Episode], podcasts: list[str], topics: list[str]) -> bytes:
    """Each document's podcast number, then a bitset of documents per topic: one pass."""
    podcast_number = {slug: n for n, slug in enumerate(podcasts)}
    topic_number = {slug: n for n, slug in enumerate(topics)}
    numbers = bytearray()
    size = (len(episodes) + 7) // 8
    bits = [bytearray(size) for _ in topics]
    for number, episode in enumerate(episodes):
        numbers += podcast_number.get(episode.podcast, 0xFFFF).to_bytes(2, "little")
        for topic in episode.topics:
            found = topic_number.get(topic)
            if found is not None:
                bits[found][number >> 3] |= 1 << (number & 7)
    return bytes(numbers) + b"".join(bits)


def _entities(catalog: Catalog) -> list[list[object]]:
    """[kind, name, path, episodes] of every show, person and topic, each kind by name. A
    show counts the episodes it published (merged into another show's copy too)."""
    shows: Counter[str] = Counter()
    by_topic: Counter[str] = Counter()
    for episode in catalog.episodes:  # plain loops: this runs over every episode each build
        shows[episode.podcast] += 1
        for slug in {ref.podcast for ref in episode.also_in} - {episode.podcast}:
            shows[slug] += 1
        for slug in set(episode.topics):
            by_topic[slug] += 1
    found: list[list[object]] = [
        ["show", p.title, urls.podcast(p.slug), shows[p.slug]] for p in catalog.podcasts
    ]
    found += [
        ["person", person.name, urls.person(person.slug), len(person.episodes)]
        for person in pages.people_index(catalog.episodes)
    ]
    found += [["topic", t.name, urls.topic(t.slug), by_topic[t.slug]] for t in catalog.topics]
    return found


# --- meta -------------------------------------------------------------------------------------


def _meta(
    catalog: Catalog,
    documents: int,
    totals: list[int],
    shards: Mapping[str, object],
    vocabulary: list[str],
    digests: Mapping[str, str],
) -> dict[str, object]:
    """`digests`: every other file's sha256 (hex), for the token."""
    schema = build_schema()
    digest = hashlib.sha256()
    for path in sorted(digests):
        digest.update(f"{path}\0".encode() + bytes.fromhex(digests[path]))
    return {
        "version": FORMAT_VERSION,
        "token": digest.hexdigest()[:16],
        "documents": documents,
        "chunk": CHUNK_DOCS,
        "fields": [
            {
                "name": name,
                "boost": FIELD_BOOSTS[name],
                "stemmed": bool(getattr(schema[name], "stem_terms", False)),
                "stopped": getattr(schema[name], "stoplist", None) is not None,
                "average": (totals[n] / documents) if documents else 0,
            }
            for n, name in enumerate(FIELDS)
        ],
        "k1": BM25_K1,
        "b": BM25_B,
        "stop": sorted(STOP_WORDS),
        "lengths": [byte_to_length(code) for code in range(256)],
        "prefix": MAX_PREFIX,
        "shards": {prefix: _file_key(prefix) for prefix in sorted(shards)},
        "vocabulary": {first: _file_key(first) for first in vocabulary},
        "podcasts": [[p.slug, p.title] for p in catalog.podcasts],
        "topics": [[t.slug, t.name] for t in catalog.topics],
    }


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
